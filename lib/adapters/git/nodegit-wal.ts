/**
 * The GitWal port (lib/kernel/ports/git-wal.ts) over nodegit (libgit2 1.9).
 *
 * Invariants this adapter keeps:
 * - A ref moves only by compare-and-swap, never by force: the new commit is
 *   written first with no ref update, then libgit2 moves the ref under its
 *   `<ref>.lock` only if it still holds `expectedTip` (`git_reference_create_matching`),
 *   or, for a first commit, only if it does not exist (`git_reference_create`, no force).
 *   A lost race changes nothing and returns `{ ok: false, actualTip }`.
 * - Durability: on first open this module turns on libgit2's
 *   ENABLE_FSYNC_GITDIR (a process-wide option), so `{ ok: true }` is returned
 *   only after the blobs, trees, commit and ref file are fsynced and renamed
 *   into place. A caller may drop its outbox entry once appendWal resolves.
 * - A reader trusts nothing: every commit's meta and chunk are re-checked
 *   (`INVALID_FORMAT` naming the commit), since WAL refs arrive from other machines.
 *
 * Calls go to libuv's thread pool; close() waits for those in flight before
 * releasing libgit2's handles, so closing never frees memory a pool thread uses.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { GitWal, WalCommitInput, WalCommitResult, WalEntry } from '../../kernel/ports/git-wal.ts'
import type { GitSync, PushOutcome, ResolvedRemote, WalReader } from '../../kernel/ports/git-sync.ts'
import * as remote from './nodegit-remote.ts'
import * as cli from './cli-remote.ts'
import { CliWalReader } from './cli-wal-read.ts'
import { GIT_ERROR, gitErrno, NodeGit, type Commit, type Oid, type Repository, type Tree } from './nodegit-api.ts'
import { encodeMeta, isOid, META_FILE, validateWalInput } from './wal-format.ts'
import { gitFailure } from './git-failure.ts'
import { lookupCommit, readEntry, type Link } from './wal-read.ts'
import { compareAndSwapRef, enableFsync, tipOf } from './refs.ts'

export { STALE_LOCK_MS } from './refs.ts'

/** readWal's default bound on the entries it returns (and so on the chunk bytes it holds). */
export const DEFAULT_READ_LIMIT = 100_000
const REFLOG_MESSAGE = 'cairn: wal append'

/** The same adapter through the wider port the Sync actor uses. */
export function openGitSync(gitDir: string): Promise<GitSync> {
  return openGitWal(gitDir) as Promise<GitSync>
}

/**
 * Opens the repository whose git common dir is `gitDir` (`<repo>/.git`, or a
 * bare repository's directory).
 *
 * @example
 *   const wal = await openGitWal('/src/app/.git')
 *   const tip = await wal.readRef('refs/cairn/wal/' + actorId)
 *   const r = await wal.appendWal({ ref, expectedTip: tip, meta, chunkPath, chunk, message, author })
 *   if (!r.ok) retryOn(r.actualTip)
 *   await wal.close()
 */
export async function openGitWal(gitDir: string): Promise<GitWal> {
  if (typeof gitDir !== 'string' || gitDir === '') throw invalidArgument('gitDir', 'must be a non-empty path')
  enableFsync()
  try {
    return new NodegitWal(await NodeGit.Repository.open(gitDir), gitDir)
  } catch (err) {
    if (gitErrno(err) === GIT_ERROR.ENOTFOUND) throw new CairnError('NOT_FOUND', `no git repository at ${gitDir}`, { gitDir })
    throw gitFailure(err, `opening ${gitDir}`)
  }
}

function isValidRefName(name: string): boolean {
  return NodeGit.Reference.isValidName(name) === 1
}

function validateReadableRef(ref: unknown): asserts ref is string {
  if (typeof ref !== 'string' || !ref.startsWith('refs/') || !isValidRefName(ref)) {
    throw invalidArgument('ref', `must be a valid git ref name under refs/, got ${JSON.stringify(ref)}`)
  }
}

class NodegitWal implements GitSync {
  #repo: Repository | null
  readonly #place: cli.GitPlace
  #inFlight = 0
  #closing = false

  constructor(repo: Repository, gitDir: string) {
    this.#repo = repo
    this.#place = remote.placeOf(gitDir)
  }

  /** Runs one operation against the open repository; close() waits for it. */
  async #use<T>(op: (repo: Repository) => Promise<T>): Promise<T> {
    const repo = this.#repo
    if (this.#closing || repo === null) throw new CairnError('STOPPED', 'the GitWal is closed')
    this.#inFlight++
    try {
      return await op(repo)
    } finally {
      if (--this.#inFlight === 0 && this.#closing) this.#release()
    }
  }

  #released: Promise<void> | null = null
  #resolveReleased: (() => void) | null = null

  #release(): void {
    // Nothing of ours uses the handle after this; a failed cleanup only delays what GC frees anyway.
    const repo = this.#repo
    this.#repo = null
    const done = (repo ? repo.cleanup() : Promise.resolve()).catch(() => undefined)
    void done.then(() => this.#resolveReleased?.())
  }

  // The methods are async so that a bad argument rejects like every other
  // failure instead of throwing before a promise exists.

  /**
   * Refuses new calls, lets those in flight finish, then frees libgit2's
   * handles. Resolves once that is done: a thread must not end while
   * libgit2 still works on its pool for it.
   */
  close(): Promise<void> {
    if (this.#released) return this.#released
    this.#released = new Promise<void>((resolve) => { this.#resolveReleased = resolve })
    this.#closing = true
    if (this.#inFlight === 0) this.#release()
    return this.#released
  }

  async readRef(ref: string): Promise<string | null> {
    validateReadableRef(ref)
    return this.#use((repo) => tipOf(repo, ref))
  }


  async listRefs(prefix: string): Promise<Map<string, string>> {
    if (typeof prefix !== 'string' || !prefix.startsWith('refs/')) throw invalidArgument('prefix', 'must be a string starting with refs/')
    return this.#use(async (repo) => {
      // getReferences() is one native call, but it replaces each symbolic ref
      // by the ref it resolves to (losing the symbolic name); list() names
      // them all, and the few names it adds are resolved one by one.
      let direct, names
      try {
        [direct, names] = await Promise.all([repo.getReferences(), NodeGit.Reference.list(repo)])
      } catch (err) {
        throw gitFailure(err, 'listing refs')
      }
      const targets = new Map<string, string>()
      for (const r of direct) {
        const target = r.target()
        if (target) targets.set(r.name(), target.tostrS())
      }
      const out = new Map<string, string>()
      for (const name of names.filter((n) => n.startsWith(prefix)).sort()) {
        const target = targets.get(name) ?? (await tipOf(repo, name))
        if (target !== null) out.set(name, target)
      }
      return out
    })
  }

  async appendWal(input: WalCommitInput): Promise<WalCommitResult> {
    validateWalInput(input, isValidRefName)
    return this.#use(async (repo) => {
      // Cheap early exit: a caller building on a stale tip gets its answer
      // without writing objects nobody will reference. The CAS below still decides.
      const before = await tipOf(repo, input.ref)
      if (before !== input.expectedTip) return { ok: false, actualTip: before }
      let commit: Oid
      try {
        commit = await this.#writeCommit(repo, input)
      } catch (err) {
        throw gitFailure(err, `writing a WAL commit for ${input.ref}`)
      }
      return compareAndSwapRef(repo, input.ref, input.expectedTip, commit, REFLOG_MESSAGE)
    })
  }

  /** Writes blobs, the nested tree and the commit; moves no ref. */
  async #writeCommit(repo: Repository, input: WalCommitInput): Promise<Oid> {
    const { BLOB, TREE } = NodeGit.TreeEntry.FILEMODE
    const metaBytes = Buffer.from(encodeMeta(input.meta), 'utf8')
    const chunk = Buffer.from(input.chunk.buffer, input.chunk.byteOffset, input.chunk.byteLength)
    const [chunkBlob, metaBlob, parent] = await Promise.all([
      NodeGit.Blob.createFromBuffer(repo, chunk, chunk.length),
      NodeGit.Blob.createFromBuffer(repo, metaBytes, metaBytes.length),
      input.expectedTip === null ? null : NodeGit.Commit.lookup(repo, input.expectedTip),
    ])
    // events/YYYY/MM/DD/<hash>.bin, built leaf first: each level is a one-entry tree.
    const parts = input.chunkPath.split('/')
    let id = chunkBlob
    for (let i = parts.length - 1; i >= 1; i--) {
      id = await this.#writeTree(repo, [[parts[i] as string, id, i === parts.length - 1 ? BLOB : TREE]])
    }
    const root = await this.#writeTree(repo, [[parts[0] as string, id, TREE], [META_FILE, metaBlob, BLOB]])
    const tree: Tree = await NodeGit.Tree.lookup(repo, root)
    // git stores whole seconds; the commit time is UTC so the bytes do not depend on the host's zone.
    const seconds = Math.floor(input.author.timeMs / 1000)
    const sig = NodeGit.Signature.create(input.author.name, input.author.email, seconds, 0)
    const parents: Commit[] = parent ? [parent] : []
    return NodeGit.Commit.create(repo, null, sig, sig, null, input.message, tree, parents.length, parents)
  }

  async #writeTree(repo: Repository, entries: [string, Oid, number][]): Promise<Oid> {
    const builder = await NodeGit.Treebuilder.create(repo, null)
    for (const [name, id, mode] of entries) builder.insert(name, id, mode)
    return builder.write()
  }

  // GitSync: the network half runs the git binary (cli-remote.ts); names resolve here, on the open repository.

  async resolveRemote(name: string): Promise<ResolvedRemote> {
    const r = await this.#use((repo) => remote.resolveRemote(repo, name))
    return { url: r.shown, name: r.named ? r.via : null }
  }

  async fetch(name: string, refspecs: string[]): Promise<void> {
    return this.#use(async (repo) => cli.fetchRefs(this.#place, await remote.resolveRemote(repo, name), refspecs))
  }

  async push(name: string, refspecs: string[]): Promise<PushOutcome[]> {
    return this.#use(async (repo) => cli.pushRefs(this.#place, await remote.resolveRemote(repo, name), refspecs))
  }

  async listRemote(name: string, prefix: string): Promise<Map<string, string>> {
    return this.#use(async (repo) => cli.listRemote(this.#place, await remote.resolveRemote(repo, name), prefix))
  }

  walReader(): WalReader {
    if (this.#closing) throw new CairnError('STOPPED', 'the GitWal is closed')
    return new CliWalReader(this.#place)
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return this.#use((repo) => remote.isAncestor(repo, ancestor, descendant))
  }

  async moveRef(ref: string, to: string, expectedTip: string | null): Promise<WalCommitResult> {
    validateReadableRef(ref)
    if (!isOid(to)) throw invalidArgument('to', 'must be a 40-char lowercase hex commit id')
    if (expectedTip !== null && !isOid(expectedTip)) throw invalidArgument('expectedTip', 'must be null or a 40-char lowercase hex commit id')
    return this.#use(async (repo) => {
      await lookupCommit(repo, to)
      const before = await tipOf(repo, ref)
      if (before !== expectedTip) return { ok: false, actualTip: before }
      return compareAndSwapRef(repo, ref, expectedTip, NodeGit.Oid.fromString(to), REFLOG_MESSAGE)
    })
  }

  async readWal(tip: string, opts: { stopAt?: string | null; limit?: number } = {}): Promise<WalEntry[]> {
    if (!isOid(tip)) throw invalidArgument('tip', 'must be a 40-char lowercase hex commit id')
    if (!opts || typeof opts !== 'object') throw invalidArgument('opts', 'must be an object')
    const stopAt = opts.stopAt ?? null
    if (stopAt !== null && !isOid(stopAt)) throw invalidArgument('opts.stopAt', 'must be null or a 40-char lowercase hex commit id')
    const limit = opts.limit ?? DEFAULT_READ_LIMIT
    if (!Number.isSafeInteger(limit) || limit < 1) throw invalidArgument('opts.limit', 'must be a positive integer')
    return this.#use(async (repo) => {
      const chain = await this.#firstParentChain(repo, tip, stopAt, limit)
      // One commit at a time: nodegit runs calls on one repository one after
      // another, so reading several at once measured no faster.
      const entries: WalEntry[] = []
      for (const link of chain) {
        try {
          entries.push(await readEntry(repo, link))
        } catch (err) {
          throw gitFailure(err, `reading WAL commit ${link.id}`)
        }
      }
      return entries
    })
  }

  /**
   * The first-parent chain from `tip` down to (excluding) `stopAt`, or to the
   * root when `stopAt` is not on it, oldest first, cut to its oldest `limit`
   * links: a caller pages forward by passing the last commit it got as the
   * next `stopAt`. Walking costs one commit lookup per link; only the kept
   * links hold their commit object.
   */
  async #firstParentChain(repo: Repository, tip: string, stopAt: string | null, limit: number): Promise<Link[]> {
    const links: Link[] = []
    let id: string | null = tip
    while (id !== null && id !== stopAt) {
      const commit = await lookupCommit(repo, id)
      const parent = commit.parentcount() > 0 ? commit.parentId(0).tostrS() : null
      links.push({ id, commit, parent })
      // Newest links fall out of the window once `limit` older ones follow them.
      const dropped = links[links.length - 1 - limit]
      if (dropped) dropped.commit = null
      id = parent
    }
    return links.slice(-limit).reverse()
  }
}

