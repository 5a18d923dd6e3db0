/**
 * The RepoWorker's queries answered on another thread of the process (the
 * Supervisor's), straight from LMDB.
 *
 * Why: a query needs nothing the worker holds in memory: projections,
 * indexes and the log are all committed state. LMDB readers take no lock and
 * see the last committed transaction, so answering where the request arrives
 * saves two thread hops and two msgpack round trips per read, and reads no
 * longer queue behind the worker's commits. The RepoWorker stays the only
 * writer; queries that need its memory still go to it.
 *
 * Freshness: lmdb-js keeps one read transaction per thread until the next
 * turn of the event loop. {@link StoreReader.refresh} drops it; the
 * Supervisor calls it whenever a message from the repository's thread
 * arrives, so a read that follows an acknowledged write sees that write.
 */
import type { RootDatabase } from 'lmdb'
import type { Envelope } from '../../../protocol/envelope.ts'
import { MESSAGE_TYPES as M } from '../../../protocol/messages.ts'
import { openShared } from '../../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from './dbs.ts'
import { EventStore } from './event-store.ts'
import { query, QUERY_TYPES } from '../queries.ts'
import { REUSED_ANSWERS } from '../../../lib/kernel/shared-answer.ts'

export class StoreReader {
  readonly #env: RootDatabase
  readonly #fresh: EventStore
  readonly #shared: EventStore
  #closed = false

  constructor(storeDir: string) {
    this.#env = openShared(storeDir)
    const dbs = openRepoDbs(this.#env)
    this.#fresh = new EventStore(dbs, { reader: 'fresh' })
    this.#shared = new EventStore(dbs, { reader: 'shared' })
  }

  /**
   * Whether this reader answers `type` with these arguments. The rest go to
   * the worker: stats carry its WAL drain's state, and ready-minus-leases
   * needs its lease table.
   */
  static answers(type: string, body: Record<string, unknown>): boolean {
    return QUERY_TYPES.has(type) && type !== M.eventsStats && body.unleased === undefined
  }

  /**
   * Answers one query (INVALID_ARGUMENT, NOT_FOUND, AMBIGUOUS_ID as the
   * worker would). The answer is the caller's own copy, unless `shared`:
   * then it may be an object this reader keeps and hands to later callers,
   * for a caller that only encodes it (the daemon), which spares decoding
   * unchanged projections again on every request.
   */
  query(type: string, body: Record<string, unknown>, shared = false): unknown {
    const req: Envelope = { v: 1, id: 0, type, from: '', to: '', body }
    if (!shared) return query(this.#fresh, req)
    this.#shared.revalidate()
    const answer = query(this.#shared, req)
    // A shown projection is the kept object itself: the next show may return it again.
    if (type === M.issueShow && typeof answer === 'object' && answer !== null) REUSED_ANSWERS.add(answer)
    return answer
  }

  /** The next read starts a new read transaction: it sees every commit made so far. */
  refresh(): void {
    if (!this.#closed) this.#env.resetReadTxn()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#env.close()
  }
}
