/**
 * Writes recorded rather than made: a command (or a lease decision) that
 * fails half-way leaves nothing behind, and whoever owns the write chain
 * (write-chain.ts) decides when the records reach LMDB, as one block.
 */
import type { Database } from 'lmdb'

/** The value of a recorded removal. */
export const REMOVE: unique symbol = Symbol('remove')

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one list carries writes to databases of every value type
export interface RecordedWrite { db: Database<any, any>; key: unknown; value: unknown }

/**
 * Makes the recorded writes: inside a transaction they join it, outside
 * they are queued by lmdb-js (one event turn's writes share a transaction).
 * @example writeAll([{ db: leases, key: 'path:a', value: lease }, { db: leases, key: 'path:b', value: REMOVE }])
 */
export function writeAll(writes: readonly RecordedWrite[]): void {
  for (const w of writes) settleQuietly(w.value === REMOVE ? w.db.remove(w.key) : w.db.put(w.key, w.value))
}

const ignore = (): void => undefined

/**
 * Each write's own promise rejects when its transaction's commit fails (a
 * full disk); the block's owner sees that failure through the block, and a
 * rejection left unhandled here ended the whole thread.
 */
function settleQuietly(result: unknown): void {
  if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, ignore)
}
