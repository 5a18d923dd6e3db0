/**
 * The one write chain of a repository store on a thread: every block that
 * changes what several runtimes may share (issue events and their views,
 * the lease table) goes through it, whichever actor made it.
 *
 * Blocks are pipelined: an actor computes the next block against its view
 * (the disk plus its writes still in flight) without waiting for earlier
 * blocks to commit, and lmdb-js group-commits them in the order they were
 * written. Each block carries a versioned fence record and applies only if
 * the record still holds the version the previous block set. So:
 *
 * - Within one thread the chain never refuses: the RepoWorker's and the
 *   LockKeeper's blocks take turns on one fence, in issue order, and each
 *   actor's view already holds the writes of both (a claim writes its lease
 *   and its event in one block).
 * - Another writer on the same store (a second runtime or process with its
 *   own home) moves the fence. The next block of this chain is refused, and
 *   so is every block issued after it: the disk never holds a block whose
 *   premises are missing. Grants, renewals and releases are thus decided
 *   against what the store holds at commit time, as issue writes are.
 *
 * After a refusal the chain waits until every block in flight has come
 * back, re-reads the fence with a fresh read transaction, then tells its
 * listeners in two phases: first every listener reloads its view from the
 * disk, then every listener runs again what was refused.
 *
 * Reads must hold this thread's own commits. The chain remembers the fence
 * versions its own later blocks replaced; a read transaction that shows
 * one of them is older than a commit this thread already saw applied (lmdb-js's
 * prebuilt LMDB does so when another process opens the store at the wrong
 * moment, LMDB ITS#9496: scripts/patch-lmdb.mjs builds the fix, and this
 * stays as the guard for whatever else could), and a block decided on it would build on a state
 * the disk has left behind, while the fence, read in the write
 * transaction, would let it through. Such a block is refused before it is
 * written, and the re-read waits (bounded) until the store reads back at
 * least this thread's last commit. A failed commit
 * (the disk, not another writer) is a refusal to the chain; the actor that
 * wrote it also breaks and restarts (actors/repo-worker/blocks.ts), unless
 * the disk is full: that is STORAGE_FULL, nothing applied, and the writers
 * reload from the disk and carry on, so writes succeed again once space is
 * freed, without a restart.
 *
 * Durability contract: {@link WriteChain.write} resolves once its block is
 * durable (the transaction holding it is flushed), never before.
 */
import { statfsSync } from 'node:fs'
import type { Database, RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'
import { writeAll, type RecordedWrite } from './recorded-writes.ts'

/** The fence record. The name predates leases joining the chain; stores written before keep working. */
const FENCE_DB = 'write-fence'
const FENCE_KEY = 'event-store'

export interface ChainListener {
  /** Phase 1 after a refusal: re-read your view of the disk (the fence is already re-read). */
  reload(): void
  /** Phase 2, once every listener reloaded: run again what was refused. */
  rerun(): void
}

const chains = new WeakMap<RootDatabase, WriteChain>()

/** Fence versions remembered as replaced by this thread's own commits (oldest forgotten first). */
const MAX_SUPERSEDED = 4_096
/** Waits, in ms, of a re-read that still sees a replaced version; then the disk is taken as it is. */
const STALE_WAITS_MS = [1, 2, 5, 10, 20, 50, 100, 100] as const
/** The fence's absence, as a version: a store without it is older than any block of ours. */
const NO_FENCE = 0

export class WriteChain {
  readonly #env: RootDatabase
  readonly #fence: Database<number, string>
  #version: number | null = null
  /** The fence version of the last block of this chain known applied (or as read at open and re-reads). */
  #committed: number
  /** Versions the disk held before a later block of this chain applied: reading one back is reading the past. */
  readonly #superseded = new Set<number>()
  #staleReads = 0
  #inFlight = 0
  #refusing = false
  #resyncQueued = false
  #epoch = 0
  readonly #listeners = new Set<ChainListener>()
  /** Settles when every block written so far has come back. */
  #barrier: Promise<void> = Promise.resolve()

  /**
   * The chain of `env` on this thread, made on first use.
   * @example const chain = WriteChain.of(ctx.env); await chain.write(writes)
   */
  static of(env: RootDatabase): WriteChain {
    let chain = chains.get(env)
    if (!chain) {
      chain = new WriteChain(env)
      chains.set(env, chain)
    }
    return chain
  }

  private constructor(env: RootDatabase) {
    this.#env = env
    this.#fence = env.openDB({ name: FENCE_DB, useVersions: true }) as unknown as Database<number, string>
    this.#version = this.#fence.getEntry(FENCE_KEY)?.version ?? null
    this.#committed = this.#version ?? NO_FENCE
  }

  /** How many times a read of this thread showed the store older than the chain's own last commit. */
  get staleReads(): number { return this.#staleReads }

  /** Bumped each time the chain re-reads the fence after a refusal: a view computed in an older epoch is stale. */
  get epoch(): number { return this.#epoch }

  /** A block was refused and the chain has not re-read the fence yet: every block written now is refused too. */
  get refusing(): boolean { return this.#refusing }

  /**
   * Listens for re-reads after refusals; returns the unsubscribe. Listeners
   * are called in the order they subscribed, every reload before any rerun.
   */
  listen(listener: ChainListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** Resolves once every block written before the call has come back (applied or not). */
  barrier(): Promise<void> {
    return this.#barrier
  }

  /**
   * Queues `writes` as one block after every block written before it;
   * resolves once it is durable. Rejects with UNAVAILABLE when it was not
   * applied: `details.reason` is `store-changed` (another writer, or an
   * earlier block of the chain did not apply) or `commit-failed`.
   */
  write(writes: readonly RecordedWrite[]): Promise<void> {
    if (this.#refusing) return Promise.reject(storeChanged())
    if (this.#superseded.has(this.#readFence())) {
      // Decided on a read older than our own commit: refused unwritten, and re-read like any refusal.
      this.#staleReads++
      return this.#settle(Promise.reject(storeChanged()))
    }
    const expected = this.#version
    // Random, not a counter: another writer's counter could reach the very
    // version a stale block of ours expects.
    const next = Math.floor(Math.random() * 2 ** 52) + 1
    this.#version = next
    const applied = this.#fence.ifVersion(FENCE_KEY, expected as number, () => {
      writeAll(writes)
      // Its failure is the block's (below); left unhandled it would end the thread.
      void Promise.resolve(this.#fence.put(FENCE_KEY, next, next)).catch(() => undefined)
    })
    // Taken now, not after the commit: `flushed` then names the flush of the
    // transaction holding this block, not of whatever is pending later.
    const flushed = new Promise<void>((resolve) => { void this.#env.flushed.then(() => resolve()) })
    const durable = applied.then((ok) => {
      if (!ok) throw storeChanged()
      this.#applied(next)
      return flushed
    }, (err: unknown) => {
      // lmdb-js rejects `commitError` with the cause later; unhandled, that ended the thread.
      void (err as { commitError?: Promise<unknown> } | null)?.commitError?.catch(() => undefined)
      if (diskFull(this.#env)) {
        throw new CairnError('STORAGE_FULL', 'the disk holding the store is full; nothing of this write was stored, retry once space is freed', { reason: 'disk-full' })
      }
      throw new CairnError('UNAVAILABLE', `the store's commit failed: ${err instanceof Error ? err.message : String(err)}; the repository restarts`,
        { reason: 'commit-failed' })
    })
    return this.#settle(durable)
  }

  /** Counts `durable` as a block in flight until it settles; a rejection makes the chain refuse and re-read. */
  #settle(durable: Promise<void>): Promise<void> {
    this.#inFlight++
    const back = durable.then(() => this.#back(true), () => this.#back(false))
    this.#barrier = Promise.all([this.#barrier, back]).then(() => undefined)
    return durable
  }

  /** A block of this chain applied with fence version `v` (blocks apply in the order written). */
  #applied(v: number): void {
    if (v === this.#committed) return
    this.#superseded.add(this.#committed)
    if (this.#superseded.size > MAX_SUPERSEDED) this.#superseded.delete(this.#superseded.values().next().value as number)
    this.#committed = v
  }

  /** The fence version this thread's current read transaction shows. */
  #readFence(): number {
    return this.#fence.getEntry(FENCE_KEY)?.version ?? NO_FENCE
  }

  #back(applied: boolean): void {
    this.#inFlight--
    if (!applied) this.#refusing = true
    if (this.#refusing && this.#inFlight === 0 && !this.#resyncQueued) {
      this.#resyncQueued = true
      // A turn later: the writers' own handlers of the refused blocks run first.
      setImmediate(() => this.#resync())
    }
  }

  #resync(waited = 0): void {
    let seen: number
    try {
      // This thread's read transaction may predate the other writer's commit.
      this.#env.resetReadTxn()
      seen = this.#readFence()
    } catch {
      // The store was closed meanwhile (its repository stopped): nobody is left to tell, and a throw here would end the thread.
      return
    }
    if (this.#superseded.has(seen)) {
      this.#staleReads++
      const wait = STALE_WAITS_MS[waited]
      if (wait !== undefined) {
        setTimeout(() => this.#resync(waited + 1), wait)
        return
      }
      // Still older after every wait: the commit is gone from the disk, which is what holds now.
      this.#superseded.delete(seen)
    }
    this.#resyncQueued = false
    this.#version = seen === NO_FENCE ? null : seen
    this.#committed = seen
    this.#refusing = false
    this.#epoch++
    const listeners = [...this.#listeners]
    // One listener's bug must not keep the others on a stale view.
    for (const l of listeners) try { l.reload() } catch { /* the listener reports its own failures */ }
    for (const l of listeners) try { l.rerun() } catch { /* likewise */ }
  }
}

/** Free space under which a failed commit is taken for a full disk (LMDB reports ENOSPC as an I/O error). */
const FULL_BELOW_BYTES = 1024 * 1024

/** Whether the file system holding `env` is (nearly) full: a failed commit then says STORAGE_FULL, not a broken store. */
function diskFull(env: RootDatabase): boolean {
  const path = (env as unknown as { path?: string }).path
  if (!path) return false
  try {
    const st = statfsSync(path)
    return st.bavail * st.bsize < FULL_BELOW_BYTES
  } catch {
    return false
  }
}

function storeChanged(): CairnError {
  return new CairnError('UNAVAILABLE', 'the store changed under this writer (another writer, or an earlier block did not commit)',
    { reason: 'store-changed' })
}
