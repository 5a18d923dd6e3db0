/**
 * The local half of remote work over nodegit: which remote a name or URL
 * means (as a {@link TransportRemote} for cli-remote.ts, which does the
 * network part through the git binary), and commit ancestry.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { GIT_ERROR, gitErrno, NodeGit, type Repository } from './nodegit-api.ts'
import { isOid } from './wal-format.ts'
import { gitFailure } from './git-failure.ts'
import { placeOf, transportRemote, type TransportRemote } from './cli-remote.ts'

const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

function checkRemote(remote: unknown): asserts remote is string {
  if (typeof remote !== 'string' || remote.length === 0 || remote.length > 4096 || /[\0\n\r]/.test(remote)) {
    throw invalidArgument('remote', 'must be a remote name, URL or path (1..4096 characters, no control characters)')
  }
  if (remote.startsWith('-')) throw invalidArgument('remote', 'must be a remote name, URL or path, not an option (it starts with "-")')
}

// Pure, so it lives beside GitPlace (importing it must not load nodegit); re-exported for the adapters here.
export { placeOf }

/**
 * A configured remote's name (`origin`) or a URL/path, as the transport reaches it.
 * A name that is not configured is NOT_FOUND (a typo must not become a path).
 */
export async function resolveRemote(repo: Repository, remote: string): Promise<TransportRemote> {
  checkRemote(remote)
  if (REMOTE_NAME.test(remote) && !remote.includes('.')) {
    try {
      const found = await NodeGit.Remote.lookup(repo, remote)
      return transportRemote(remote, found.url(), true)
    } catch (err) {
      if (gitErrno(err) !== GIT_ERROR.ENOTFOUND && gitErrno(err) !== GIT_ERROR.EINVALIDSPEC) throw gitFailure(err, `looking up remote ${remote}`)
      throw new CairnError('NOT_FOUND', `no remote named ${remote} in this repository`, { remote })
    }
  }
  return transportRemote(remote, remote, false)
}

export async function isAncestor(repo: Repository, ancestor: string, descendant: string): Promise<boolean> {
  if (!isOid(ancestor)) throw invalidArgument('ancestor', 'must be a 40-char lowercase hex commit id')
  if (!isOid(descendant)) throw invalidArgument('descendant', 'must be a 40-char lowercase hex commit id')
  if (ancestor === descendant) return true
  try {
    return (await NodeGit.Graph.descendantOf(repo, NodeGit.Oid.fromString(descendant), NodeGit.Oid.fromString(ancestor))) === 1
  } catch (err) {
    if (gitErrno(err) === GIT_ERROR.ENOTFOUND) return false
    throw gitFailure(err, 'comparing commits')
  }
}
