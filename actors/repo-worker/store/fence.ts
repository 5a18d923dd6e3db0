/**
 * Pipelined writes of the event store, each block fenced on the one before.
 *
 * The RepoWorker no longer waits for a commit before it runs the next
 * command: each turn's recorded writes go to lmdb-js as one conditional
 * block, lmdb-js group-commits the blocks on its write thread, and the
 * worker keeps computing meanwhile (ids, folds, encoding). That overlap is
 * what the serial transaction-per-batch loop could not have: its JS thread
 * and LMDB's write thread took turns.
 *
 * The cost is that block N+1 was computed against block N's writes before
 * they were durable. The fence makes that safe: every block carries a
 * versioned record and applies only if the record still has the version
 * the previous block set. If a block does not commit (a failed transaction,
 * a full disk) or another writer got in between (a second runtime on the
 * same store), its successors do not apply either, so the disk never holds
 * a block whose premises are missing. The writer then re-reads the disk
 * and runs the refused commands again (blocks.ts), or, when the commit
 * itself failed, fails and restarts.
 */
import type { Database, RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'
import { writeAll, type RecordedWrite } from './batch.ts'

const FENCE_KEY = 'event-store'

export class FencedWriter {
  readonly #env: RootDatabase
  readonly #fence: Database<number, string>
  #version: number | null = null

  constructor(env: RootDatabase) {
    this.#env = env
    this.#fence = env.openDB({ name: 'write-fence', useVersions: true }) as unknown as Database<number, string>
    this.resync()
  }

  /** Chains the next block on what the disk holds now (after a refusal, with a fresh read transaction). */
  resync(): void {
    this.#version = this.#fence.getEntry(FENCE_KEY)?.version ?? null
  }

  /**
   * Queues `writes` as one block after every block queued before; resolves
   * once the block is durable. Rejects with UNAVAILABLE when it was not
   * applied: a commit failed, or the store changed under this writer.
   */
  write(writes: readonly RecordedWrite[]): Promise<void> {
    const expected = this.#version
    // Random, not a counter: another writer's counter could reach the very
    // version a stale block of ours expects.
    const next = Math.floor(Math.random() * 2 ** 52) + 1
    this.#version = next
    const applied = this.#fence.ifVersion(FENCE_KEY, expected as number, () => {
      writeAll(writes)
      void this.#fence.put(FENCE_KEY, next, next)
    })
    // Taken now, not after the commit: `flushed` then names the flush of the
    // transaction holding this block, not of whatever is pending later.
    const flushed = new Promise<void>((resolve) => { void this.#env.flushed.then(() => resolve()) })
    return applied.then((ok) => {
      if (!ok) {
        throw new CairnError('UNAVAILABLE', 'the event store changed under this writer (another writer, or an earlier block did not commit)',
          { reason: 'store-changed' })
      }
      return flushed
    }, (err: unknown) => {
      throw new CairnError('UNAVAILABLE', `the event store's commit failed: ${err instanceof Error ? err.message : String(err)}; the repository restarts`,
        { reason: 'commit-failed' })
    })
  }
}
