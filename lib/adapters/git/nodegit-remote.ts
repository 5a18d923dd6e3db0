/**
 * Remote operations of the GitSync port over nodegit: fetch, push, listing a
 * remote's refs, ancestry. Each libgit2 failure becomes a coded CairnError so
 * the Sync actor can turn it into an outcome (status, backoff) and never
 * mistakes a transport problem for a bug.
 *
 * No credentials callback is installed: a remote that asks for credentials
 * fails at once with AUTH_FAILED instead of libgit2 replaying the request.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { PushOutcome, ResolvedRemote } from '../../kernel/ports/git-sync.ts'
import { GIT_ERROR, gitErrno, NodeGit, type Remote, type Repository } from './nodegit-api.ts'
import { isOid } from './wal-format.ts'

export const DOWNLOAD_TAGS_NONE = 2
const FETCH_PRUNE = 1
// `src:dst` or `+src:dst` with both sides under refs/; no shell or option syntax reaches libgit2.
const REFSPEC = /^\+?refs\/[^\s:]+:refs\/[^\s:]+$/
const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/**
 * What a libgit2 remote failure means for a caller. libgit2 reports most
 * transport problems with the generic code -1, so the message decides.
 */
export function remoteFailure(err: unknown, url: string, doing: string): CairnError {
  if (err instanceof CairnError) return err
  const message = err instanceof Error ? err.message : String(err)
  const errno = gitErrno(err)
  const details = { url, gitErrno: errno ?? null }
  if (errno === GIT_ERROR.EAUTH || /authentication|credentials|401|403 /i.test(message)) {
    return new CairnError('AUTH_FAILED', `git ${doing} ${url}: ${message}`, details)
  }
  if (errno === GIT_ERROR.ENONFASTFORWARD) return new CairnError('PUSH_REJECTED', `git ${doing} ${url}: ${message}`, details)
  if (errno === GIT_ERROR.ECERTIFICATE) return new CairnError('AUTH_FAILED', `git ${doing} ${url}: certificate refused: ${message}`, details)
  if (errno === GIT_ERROR.ENOTFOUND || errno === -1 || errno === undefined) {
    return new CairnError('UNREACHABLE', `git ${doing} ${url}: ${message}`, details)
  }
  return new CairnError('INTERNAL', `git ${doing} ${url}: ${message}`, details)
}

function checkUrl(url: unknown): asserts url is string {
  if (typeof url !== 'string' || url.length === 0 || url.length > 4096 || /[\0\n\r]/.test(url)) {
    throw invalidArgument('remote', 'must be a remote name, URL or path (1..4096 characters, no control characters)')
  }
}

function checkRefspecs(refspecs: unknown): asserts refspecs is string[] {
  if (!Array.isArray(refspecs) || refspecs.some((r) => typeof r !== 'string' || !REFSPEC.test(r))) {
    throw invalidArgument('refspecs', 'must be an array of [+]refs/...:refs/... refspecs')
  }
}

export async function resolveRemote(repo: Repository, remote: string): Promise<ResolvedRemote> {
  checkUrl(remote)
  if (REMOTE_NAME.test(remote) && !remote.includes('.')) {
    try {
      const found = await NodeGit.Remote.lookup(repo, remote)
      return { url: found.url(), name: remote }
    } catch (err) {
      if (gitErrno(err) !== GIT_ERROR.ENOTFOUND && gitErrno(err) !== GIT_ERROR.EINVALIDSPEC) throw remoteFailure(err, remote, 'lookup')
      throw new CairnError('NOT_FOUND', `no remote named ${remote} in this repository`, { remote })
    }
  }
  return { url: remote, name: null }
}

/** A remote by URL only (nothing written to the repository config). */
export async function anonymous(repo: Repository, url: string): Promise<Remote> {
  try {
    return await NodeGit.Remote.createAnonymous(repo, url)
  } catch (err) {
    throw remoteFailure(err, url, 'opening remote')
  }
}

export async function fetchRefs(repo: Repository, url: string, refspecs: string[]): Promise<void> {
  checkUrl(url)
  checkRefspecs(refspecs)
  const remote = await anonymous(repo, url)
  try {
    await remote.fetch(refspecs, { downloadTags: DOWNLOAD_TAGS_NONE, prune: FETCH_PRUNE }, 'cairn: sync fetch')
  } catch (err) {
    throw remoteFailure(err, url, 'fetch')
  }
}

export async function pushRefs(repo: Repository, url: string, refspecs: string[]): Promise<PushOutcome[]> {
  checkUrl(url)
  checkRefspecs(refspecs)
  if (refspecs.some((r) => r.startsWith('+'))) throw invalidArgument('refspecs', 'Cairn never force-pushes')
  if (refspecs.length === 0) return []
  const remote = await anonymous(repo, url)
  const refused = new Map<string, string>()
  try {
    await remote.push(refspecs, {
      callbacks: { pushUpdateReference: (ref, status) => { if (status) refused.set(ref, status) } },
    })
  } catch (err) {
    throw remoteFailure(err, url, 'push')
  }
  return refspecs.map((spec) => {
    const dst = spec.slice(spec.indexOf(':') + 1)
    const message = refused.get(dst) ?? null
    return { ref: dst, ok: message === null, message }
  })
}

export async function listRemote(repo: Repository, url: string, prefix: string): Promise<Map<string, string>> {
  checkUrl(url)
  if (typeof prefix !== 'string' || !prefix.startsWith('refs/')) throw invalidArgument('prefix', 'must start with refs/')
  const remote = await anonymous(repo, url)
  try {
    await remote.connect(NodeGit.Enums.DIRECTION.FETCH, {})
    const heads = await remote.referenceList()
    const out = new Map<string, string>()
    for (const h of heads) if (h.name().startsWith(prefix)) out.set(h.name(), h.oid().tostrS())
    return out
  } catch (err) {
    throw remoteFailure(err, url, 'listing refs of')
  } finally {
    await remote.disconnect().catch(() => undefined)
  }
}

export async function isAncestor(repo: Repository, ancestor: string, descendant: string): Promise<boolean> {
  if (!isOid(ancestor)) throw invalidArgument('ancestor', 'must be a 40-char lowercase hex commit id')
  if (!isOid(descendant)) throw invalidArgument('descendant', 'must be a 40-char lowercase hex commit id')
  if (ancestor === descendant) return true
  try {
    return (await NodeGit.Graph.descendantOf(repo, NodeGit.Oid.fromString(descendant), NodeGit.Oid.fromString(ancestor))) === 1
  } catch (err) {
    if (gitErrno(err) === GIT_ERROR.ENOTFOUND) return false
    throw remoteFailure(err, '(local)', 'comparing commits in')
  }
}
