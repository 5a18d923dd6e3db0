/**
 * The LeaseRefs port (lib/kernel/ports/lease-refs.ts): local objects and
 * refs over nodegit (libgit2 1.9), the network through the git binary
 * (cli-remote.ts), so a lease reaches every remote plain git reaches.
 *
 * An append must be a compare-and-swap on the remote ref. How that is
 * reached depends on where the remote lives:
 *
 * - Another machine (`git://`, `ssh://`, `http(s)://`, `host:path`): the
 *   commit is written in the local repository, then pushed with
 *   `git push --force-with-lease=<ref>:<expected tip> <commit>:<ref>`:
 *   git refuses unless the remote advertises the expected tip, and
 *   receive-pack applies the update only while the ref still holds that id,
 *   under the ref's lock. The commit's parent is the expected tip, so this is
 *   a fast-forward, never a force. Reading fetches the ref into
 *   `refs/cairn-leases/<remote key>/<16 hex>` (never under refs/cairn/wal/,
 *   which Sync owns) so the tip's objects are local for the next append.
 * - This machine (a path or `file://`): the commit is written straight into
 *   that repository and its ref moved with `git_reference_create_matching`
 *   under the ref's lock, which is what receive-pack would do, without a
 *   process per append. Its hooks do not run.
 *
 * Secrets: `LeaseRemote.url` is redacted. A URL with credentials is
 * remembered (in memory, for this open repository only) under its redacted
 * form, so a renewal or release that names the lease's `remote` as it was
 * shown reaches the remote with the same credentials.
 *
 * Durability: ENABLE_FSYNC_GITDIR is on (process-wide), so a local append
 * resolves after objects and ref are fsynced; a pushed one is as durable as
 * the server makes it (its core.fsync).
 *
 * Remote failures are coded by cli-failure.ts.
 */
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { LeaseAppendResult, LeaseRecord, LeaseRefs, LeaseRemote, LeaseTip } from '../../kernel/ports/lease-refs.ts'
import { GIT_ERROR, gitErrno, NodeGit, type Oid, type Repository } from './nodegit-api.ts'
import { placeOf, resolveRemote } from './nodegit-remote.ts'
import { fetchOne, LEASE_TIMEOUT_MS, pushRefs, type GitPlace, type TransportRemote } from './cli-remote.ts'
import { hasSecret } from '../../../protocol/redact.ts'
import { compareAndSwapRef, enableFsync, tipOf } from './refs.ts'
import { gitFailure } from './git-failure.ts'
import { decodeLeaseRecord, encodeLeaseRecord, LEASE_FILE, LEASE_REF } from './lease-format.ts'
import { isOid } from './wal-format.ts'

const TRACKING_PREFIX = 'refs/cairn-leases/'
/** Secret-bearing URLs remembered under their redacted form, at most this many. */
const MAX_REMEMBERED = 64

/** What resolve() hands out: the port's redacted `url`, plus how to reach it. */
type Resolved = LeaseRemote & { transport: TransportRemote }

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
  readonly #place: GitPlace
  #inFlight = 0
  #closing = false
  #closed: Promise<void> | null = null
  #idle: (() => void) | null = null
  /** Redacted URL → the URL with its credentials, for remotes given with them in this session. */
  readonly #remembered = new Map<string, string>()

  constructor(repo: Repository, gitDir: string) {
    this.#repo = repo
    this.#place = placeOf(gitDir)
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
      this.#remembered.clear()
      await repo?.cleanup().catch(() => undefined)
    })()
    return this.#closed
  }

  async resolve(remote: string): Promise<LeaseRemote> {
    return this.#use(async (repo) => {
      const known = typeof remote === 'string' ? this.#remembered.get(remote) : undefined
      const transport = await resolveRemote(repo, known ?? remote)
      if (!transport.named && hasSecret(transport.via)) {
        this.#remembered.delete(transport.shown)
        if (this.#remembered.size >= MAX_REMEMBERED) this.#remembered.delete(this.#remembered.keys().next().value as string)
        this.#remembered.set(transport.shown, transport.via)
      }
      const resolved: Resolved = { url: transport.shown, transport }
      return resolved
    })
  }

  /** The transport of a LeaseRemote this adapter resolved (one made elsewhere is resolved by its url). */
  async #transportOf(repo: Repository, remote: LeaseRemote): Promise<TransportRemote> {
    const t = (remote as Partial<Resolved>).transport
    if (t) return t
    return resolveRemote(repo, this.#remembered.get(remote.url) ?? remote.url)
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
    return isAbsolute(url) ? url : resolve(this.#place.cwd, url)
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
    return this.#use(async (repo) => {
      const t = await this.#transportOf(repo, remote)
      const path = this.#localPath(t.url)
      if (path !== null) {
        return this.#atLocal(path, async (there) => {
          const tip = await tipOf(there, ref)
          return tip === null ? null : readTip(there, tip)
        })
      }
      const tip = await this.#fetch(repo, t, ref)
      return tip === null ? null : readTip(repo, tip)
    })
  }

  /** Fetches `ref` into its tracking ref; the tip the remote had, or null when it has no such ref. */
  async #fetch(repo: Repository, t: TransportRemote, ref: string): Promise<string | null> {
    const tracking = `${TRACKING_PREFIX}${hex16(t.shown)}/${ref.slice(ref.lastIndexOf('/') + 1)}`
    if (!(await fetchOne(this.#place, t, ref, tracking))) return null
    return tipOf(repo, tracking)
  }

  async append(remote: LeaseRemote, ref: string, expectedTip: string | null, record: LeaseRecord): Promise<LeaseAppendResult> {
    checkRef(ref)
    if (expectedTip !== null && !isOid(expectedTip)) throw invalidArgument('expectedTip', 'must be null or a 40-char lowercase hex commit id')
    return this.#use(async (repo) => {
      const t = await this.#transportOf(repo, remote)
      const path = this.#localPath(t.url)
      if (path !== null) return this.#atLocal(path, (there) => this.#appendHere(there, ref, expectedTip, record))
      return this.#appendByPush(repo, t, ref, expectedTip, record)
    })
  }

  async #appendHere(there: Repository, ref: string, expectedTip: string | null, record: LeaseRecord): Promise<LeaseAppendResult> {
    // Cheap early exit; the compare-and-swap below still decides.
    if ((await tipOf(there, ref)) !== expectedTip) return { ok: false }
    const commit = await writeCommit(there, expectedTip, record)
    const r = await compareAndSwapRef(there, ref, expectedTip, commit, 'cairn: lease')
    return r.ok ? r : { ok: false }
  }

  async #appendByPush(repo: Repository, t: TransportRemote, ref: string, expectedTip: string | null, record: LeaseRecord): Promise<LeaseAppendResult> {
    const commit = (await writeCommit(repo, expectedTip, record)).tostrS()
    const [r] = await pushRefs(this.#place, t, [`${commit}:${ref}`], { expect: new Map([[ref, expectedTip]]), timeoutMs: LEASE_TIMEOUT_MS })
    if (r?.ok) return { ok: true, commit }
    if (r?.raced) return { ok: false }
    // Refused for another reason: a lost race still reads as one once the tip is read again.
    const now = await this.#fetch(repo, t, ref)
    if (now !== expectedTip) return { ok: false }
    throw new CairnError('PUSH_REJECTED', `git push ${t.shown} ${ref}: ${r?.message ?? 'refused'}`, { url: t.shown, ref })
  }
}
