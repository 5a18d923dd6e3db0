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
 * disk, then every listener runs again what was refused. A failed commit
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

export class WriteChain {
  readonly #env: RootDatabase
  readonly #fence: Database<number, string>
  #version: number | null = null
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
  }

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
    const expected = this.#version
    // Random, not a counter: another writer's counter could reach the very
    // version a stale block of ours expects.
    const next = Math.floor(Math.random() * 2 ** 52) + 1
    this.#version = next
    this.#inFlight++
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
    const back = durable.then(() => this.#back(true), () => this.#back(false))
    this.#barrier = Promise.all([this.#barrier, back]).then(() => undefined)
    return durable
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

  #resync(): void {
    this.#resyncQueued = false
    // This thread's read transaction may predate the other writer's commit.
    this.#env.resetReadTxn()
    this.#version = this.#fence.getEntry(FENCE_KEY)?.version ?? null
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
