/**
 * The LeaseRefs port (lib/kernel/ports/lease-refs.ts) over nodegit (libgit2 1.9).
 *
 * An append must be a compare-and-swap on the remote ref. How that is
 * reached depends on where the remote lives:
 *
 * - Another machine (`git://`, `ssh://`, `http(s)://`, `host:path`): the
 *   commit is written in the local repository, then one push connection
 *   lists the remote's refs, gives up unless the ref is still at the
 *   expected tip, and pushes `<commit>:<ref>` without force. git-receive-pack
 *   applies an update only while the ref still holds the old id the client
 *   sent, under the ref's lock: the remote's fast-forward rule is the CAS.
 *   Reading fetches the ref into `refs/cairn-leases/<remote key>/<16 hex>`
 *   (never under refs/cairn/wal/, which Sync owns) so the tip's objects are
 *   local for the next append.
 * - This machine (a path or `file://`): libgit2's local transport is no CAS.
 *   It checks fast-forward against the tip it saw when it connected, then
 *   overwrites the remote ref with force (transports/local.c,
 *   local_push_update_remote_ref), so two pushes racing on one tip can both
 *   succeed: we measured 4 double wins in 40 racing rounds. So the commit is
 *   written straight into that repository and its ref moved with
 *   `git_reference_create_matching` under the ref's lock, which is what
 *   receive-pack would do. Its hooks do not run.
 *
 * Durability: ENABLE_FSYNC_GITDIR is on (process-wide), so a local append
 * resolves after objects and ref are fsynced; a pushed one is as durable as
 * the server makes it (its core.fsync).
 *
 * Remote failures are coded by nodegit-remote.ts's remoteFailure.
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { LeaseAppendResult, LeaseRecord, LeaseRefs, LeaseRemote, LeaseTip } from '../../kernel/ports/lease-refs.ts'
import { GIT_ERROR, gitErrno, NodeGit, type Oid, type Repository } from './nodegit-api.ts'
import { anonymous, DOWNLOAD_TAGS_NONE, remoteFailure, resolveRemote } from './nodegit-remote.ts'
import { compareAndSwapRef, enableFsync, tipOf } from './refs.ts'
import { gitFailure } from './git-failure.ts'
import { decodeLeaseRecord, encodeLeaseRecord, LEASE_FILE, LEASE_REF } from './lease-format.ts'
import { isOid } from './wal-format.ts'

const TRACKING_PREFIX = 'refs/cairn-leases/'

/**
 * Opens the repository whose git dir is `gitDir` for lease appends.
 * @example
 *   const refs = await openLeaseRefs('/src/app/.git')
 *   const remote = await refs.resolve('origin')
 *   const tip = await refs.read(remote, 'refs/cairn/leases/0123456789abcdef')
 *   const r = await refs.append(remote, ref, tip?.commit ?? null, record)
 */
export async function openLeaseRefs(gitDir: string): Promise<LeaseRefs> {
  if (typeof gitDir !== 'string' || gitDir === '') throw invalidArgument('gitDir', 'must be a non-empty path')
  enableFsync()
  try {
    return new NodegitLeaseRefs(await NodeGit.Repository.open(gitDir), gitDir)
  } catch (err) {
    if (gitErrno(err) === GIT_ERROR.ENOTFOUND) throw new CairnError('NOT_FOUND', `no git repository at ${gitDir}`, { gitDir })
    throw gitFailure(err, `opening ${gitDir}`)
  }
}

function checkRef(ref: unknown): asserts ref is string {
  if (typeof ref !== 'string' || !LEASE_REF.test(ref)) throw invalidArgument('ref', 'must be refs/cairn/leases/<16 hex>')
}

const hex16 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16)

async function readTip(repo: Repository, commit: string): Promise<LeaseTip> {
  try {
    const tree = await (await NodeGit.Commit.lookup(repo, commit)).getTree()
    const diff = await NodeGit.Diff.treeToTree(repo, null, tree, null)
    for (let i = 0, n = diff.numDeltas(); i < n; i++) {
      const file = diff.getDelta(i).newFile()
      if (file.path() !== LEASE_FILE) continue
      return { commit, record: decodeLeaseRecord((await NodeGit.Blob.lookup(repo, file.id())).content(), commit) }
    }
  } catch (err) {
    if (err instanceof CairnError) throw err
    throw gitFailure(err, `reading lease commit ${commit}`)
  }
  throw new CairnError('INVALID_FORMAT', `lease commit ${commit} has no ${LEASE_FILE}`, { commit })
}

async function writeCommit(repo: Repository, parentId: string | null, record: LeaseRecord): Promise<Oid> {
  try {
    const bytes = Buffer.from(encodeLeaseRecord(record), 'utf8')
    const [blob, parent] = await Promise.all([
      NodeGit.Blob.createFromBuffer(repo, bytes, bytes.length),
      parentId === null ? null : NodeGit.Commit.lookup(repo, parentId),
    ])
    const builder = await NodeGit.Treebuilder.create(repo, null)
    builder.insert(LEASE_FILE, blob, NodeGit.TreeEntry.FILEMODE.BLOB)
    const tree = await NodeGit.Tree.lookup(repo, await builder.write())
    // Whole seconds in UTC: the bytes depend on the record only, not on the host's zone.
    const sig = NodeGit.Signature.create('cairn', `${record.holder.actor}@cairn.invalid`, Math.floor(record.heartbeatAt / 1000), 0)
    const message = `cairn lease: ${record.op} ${record.resource} epoch ${record.epoch}\n`
    return await NodeGit.Commit.create(repo, null, sig, sig, null, message, tree, parent ? 1 : 0, parent ? [parent] : [])
  } catch (err) {
    if (gitErrno(err) === GIT_ERROR.ENOTFOUND) throw new CairnError('NOT_FOUND', `git: parent lease commit ${String(parentId)} is not here; read the chain first`, { commit: parentId })
    throw gitFailure(err, `writing a lease commit for ${record.resource}`)
  }
}

class NodegitLeaseRefs implements LeaseRefs {
  #repo: Repository | null
  readonly #workDir: string
  #inFlight = 0
  #closing = false
  #closed: Promise<void> | null = null
  #idle: (() => void) | null = null

  constructor(repo: Repository, gitDir: string) {
    this.#repo = repo
    // Relative remote paths are relative to the work tree, as for git run at its top.
    this.#workDir = basename(gitDir) === '.git' ? dirname(gitDir) : gitDir
  }

  async #use<T>(op: (repo: Repository) => Promise<T>): Promise<T> {
    const repo = this.#repo
    if (this.#closing || repo === null) throw new CairnError('STOPPED', 'lease refs are closed')
    this.#inFlight++
    try {
      return await op(repo)
    } finally {
      if (--this.#inFlight === 0) this.#idle?.()
    }
  }

  /**
   * Awaited, not fire-and-forget: a worker thread torn down while libgit2
   * still frees a repository on the thread pool is a native crash waiting
   * to happen.
   */
  close(): Promise<void> {
    this.#closing = true
    this.#closed ??= (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => { this.#idle = resolve })
      const repo = this.#repo
      this.#repo = null
      await repo?.cleanup().catch(() => undefined)
    })()
    return this.#closed
  }

  async resolve(remote: string): Promise<LeaseRemote> {
    return this.#use(async (repo) => ({ url: (await resolveRemote(repo, remote)).url }))
  }

  /** The path of a remote on this machine, or null for a network URL. */
  #localPath(url: string): string | null {
    if (url.startsWith('file://')) {
      try {
        return fileURLToPath(url)
      } catch {
        throw invalidArgument('remote', `is not a usable file:// URL (${url})`)
      }
    }
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return null
    // scp-like `host:path` / `user@host:path`: a colon before the first slash.
    const colon = url.indexOf(':')
    if (colon > 0 && (url.indexOf('/') < 0 || colon < url.indexOf('/'))) return null
    return isAbsolute(url) ? url : resolve(this.#workDir, url)
  }

  /**
   * Runs `op` on the repository at `path`, opened for this call only (about
   * 0.1 ms): a handle kept open would go on reading a repository that was
   * moved or replaced since as an empty one.
   */
  async #atLocal<T>(path: string, op: (there: Repository) => Promise<T>): Promise<T> {
    let there: Repository
    try {
      there = await NodeGit.Repository.open(path)
    } catch (err) {
      throw new CairnError('UNREACHABLE', `git: no repository at ${path}: ${err instanceof Error ? err.message : String(err)}`, { url: path })
    }
    try {
      return await op(there)
    } finally {
      await there.cleanup().catch(() => undefined)
    }
  }

  async read(remote: LeaseRemote, ref: string): Promise<LeaseTip | null> {
    checkRef(ref)
    const path = this.#localPath(remote.url)
    return this.#use(async (repo) => {
      if (path !== null) {
        return this.#atLocal(path, async (there) => {
          const tip = await tipOf(there, ref)
          return tip === null ? null : readTip(there, tip)
        })
      }
      const tip = await this.#fetch(repo, remote.url, ref)
      return tip === null ? null : readTip(repo, tip)
    })
  }

  /** Fetches `ref` into its tracking ref; returns the tip the remote advertised in that same connection. */
  async #fetch(repo: Repository, url: string, ref: string): Promise<string | null> {
    const r = await anonymous(repo, url)
    try {
      await r.fetch([`+${ref}:${TRACKING_PREFIX}${hex16(url)}/${ref.slice(ref.lastIndexOf('/') + 1)}`], { downloadTags: DOWNLOAD_TAGS_NONE }, 'cairn: lease fetch')
      // The advertisement stays readable after fetch disconnects (git_remote_ls).
      const head = (await r.referenceList()).find((h) => h.name() === ref)
      return head ? head.oid().tostrS() : null
    } catch (err) {
      throw remoteFailure(err, url, 'fetching a lease from')
    }
  }

  async append(remote: LeaseRemote, ref: string, expectedTip: string | null, record: LeaseRecord): Promise<LeaseAppendResult> {
    checkRef(ref)
    if (expectedTip !== null && !isOid(expectedTip)) throw invalidArgument('expectedTip', 'must be null or a 40-char lowercase hex commit id')
    const path = this.#localPath(remote.url)
    return this.#use(async (repo) => {
      if (path !== null) return this.#atLocal(path, (there) => this.#appendHere(there, ref, expectedTip, record))
      return this.#appendByPush(repo, remote.url, ref, expectedTip, record)
    })
  }

  async #appendHere(there: Repository, ref: string, expectedTip: string | null, record: LeaseRecord): Promise<LeaseAppendResult> {
    // Cheap early exit; the compare-and-swap below still decides.
    if ((await tipOf(there, ref)) !== expectedTip) return { ok: false }
    const commit = await writeCommit(there, expectedTip, record)
    const r = await compareAndSwapRef(there, ref, expectedTip, commit, 'cairn: lease')
    return r.ok ? r : { ok: false }
  }

  async #appendByPush(repo: Repository, url: string, ref: string, expectedTip: string | null, record: LeaseRecord): Promise<LeaseAppendResult> {
    const commit = (await writeCommit(repo, expectedTip, record)).tostrS()
    const r = await anonymous(repo, url)
    const refused: string[] = []
    try {
      // One connection: its advertisement is the old id receive-pack will hold the ref to.
      await r.connect(NodeGit.Enums.DIRECTION.PUSH, {})
      const head = (await r.referenceList()).find((h) => h.name() === ref)
      if ((head ? head.oid().tostrS() : null) !== expectedTip) return { ok: false }
      await r.push([`${commit}:${ref}`], { callbacks: { pushUpdateReference: (_name, status) => { if (status) refused.push(status) } } })
    } catch (err) {
      // libgit2's own check: the advertised tip is not our parent.
      if (gitErrno(err) === GIT_ERROR.ENONFASTFORWARD) return { ok: false }
      throw remoteFailure(err, url, 'pushing a lease to')
    } finally {
      await r.disconnect().catch(() => undefined)
    }
    if (refused.length === 0) return { ok: true, commit }
    // Refused: a writer got in between (lost race), or a hook or rule said no.
    const now = await this.#fetch(repo, url, ref)
    if (now !== expectedTip) return { ok: false }
    throw new CairnError('PUSH_REJECTED', `git push ${url} ${ref}: ${refused.join('; ')}`, { url, ref })
  }
}

