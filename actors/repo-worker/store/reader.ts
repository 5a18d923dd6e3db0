/**
 * The RepoWorker's queries answered on another thread of the process (the
 * Supervisor's), straight from LMDB.
 *
 * Why: a query needs nothing the worker holds in memory: projections,
 * indexes and the log are all committed state, and so are the claims that
 * `ready` leaves out (the LockKeeper's committed leases, read by the
 * {@link StoreClaims} passed in: this module does not read another actor's
 * tables). LMDB readers take no lock and
 * see the last committed transaction, so answering where the request arrives
 * saves two thread hops and two msgpack round trips per read, and reads do
 * not queue behind the worker's commits. The RepoWorker stays the only
 * writer; queries that need its memory still go to it.
 *
 * Two answers: {@link StoreReader.query} gives the caller its own copy;
 * {@link StoreReader.encoded} gives the answer as msgpack bytes, for a
 * caller that only forwards it (the daemon, the CLI). The encoded path
 * reads through a view that keeps decoded projections while the store is
 * unchanged, and keeps the encoding of each shown projection with it, so a
 * busy daemon does not decode and encode the same issue for every request.
 *
 * Freshness: lmdb-js keeps one read transaction per thread until the next
 * turn of the event loop. {@link StoreReader.refresh} drops it; the
 * Supervisor calls it whenever a message from the repository's thread
 * arrives, so a read that follows an acknowledged write sees that write.
 */
import type { RootDatabase } from 'lmdb'
import { EncodedValue, encodeValue } from '../../../protocol/codec.ts'
import { MESSAGE_TYPES as M, type LeaseView } from '../../../protocol/messages.ts'
import { openShared } from '../../../lib/kernel/store/open-store.ts'
import { closeAndSeal } from '../../../lib/kernel/store/seal.ts'
import { openRepoDbs } from './dbs.ts'
import { EventStore } from './event-store.ts'
import { query, type ClaimedBy } from '../queries.ts'
import { answeredFromStore } from '../messages.ts'

/**
 * Reads who holds the claim on an issue now from the repository's store
 * (`store`: the reader's open environment, opaque here); called once.
 */
export type StoreClaims = (store: object) => (issueId: string) => LeaseView | null

export class StoreReader {
  readonly #env: RootDatabase
  readonly #claimedBy: ClaimedBy
  readonly #fresh: EventStore
  readonly #kept: EventStore
  /** Encodings of the kept view's projections; an entry lives as long as its projection is kept. */
  readonly #encodings = new WeakMap<object, Uint8Array>()
  #closed = false

  readonly #dir: string

  constructor(storeDir: string, claims: StoreClaims) {
    this.#dir = storeDir
    this.#env = openShared(storeDir)
    this.#claimedBy = claims(this.#env)
    const dbs = openRepoDbs(this.#env)
    this.#fresh = new EventStore(dbs, { reader: 'fresh' })
    this.#kept = new EventStore(dbs, { reader: 'shared' })
  }

  /**
   * Whether this reader answers `type` (messages.ts). The rest go to the
   * worker: stats carry its WAL drain's state.
   */
  static answers(type: string, body: Record<string, unknown>): boolean {
    return answeredFromStore(type, body)
  }

  /**
   * Answers one query (INVALID_ARGUMENT, NOT_FOUND, AMBIGUOUS_ID as the
   * worker would) with the caller's own copy.
   * @example reader.query('issues.show', { id: 'ab12' })
   */
  query(type: string, body: Record<string, unknown>): unknown {
    return query(this.#fresh, type, body, this.#claimedBy)
  }

  /**
   * The same answer, encoded (the same errors, thrown). A shown projection
   * is encoded once for as long as the store does not change.
   * @example connection.reply(reader.encoded('issues.show', { id: 'ab12' }))
   */
  encoded(type: string, body: Record<string, unknown>): EncodedValue {
    this.#kept.revalidate()
    const answer = query(this.#kept, type, body, this.#claimedBy)
    if (type !== M.issueShow) return new EncodedValue(encodeValue(answer))
    const projection = answer as object
    let bytes = this.#encodings.get(projection)
    if (bytes === undefined) this.#encodings.set(projection, bytes = encodeValue(projection))
    return new EncodedValue(bytes)
  }

  /** The next read starts a new read transaction: it sees every commit made so far. */
  refresh(): void {
    if (!this.#closed) this.#env.resetReadTxn()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // The last of this process to close a store seals it (the host thread may close it first).
    await closeAndSeal(this.#env, this.#dir)
  }
}
