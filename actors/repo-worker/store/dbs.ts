/**
 * The RepoWorker's named databases in the repository's LMDB environment
 * (DESIGN §3). The RepoWorker is their only writer.
 */
import type { Database, RootDatabase } from 'lmdb'
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { StoredRecord } from '../../../protocol/messages.ts'
import type { JournalDb } from '../../../lib/kernel/store/journal.ts'
import type { ActorsDb } from '../../../lib/kernel/store/snapshots.ts'
import type { IssueComment, IssueProjection } from '../projection/index.ts'

/** Schema 1's comment table; kept only so the rebuild can empty it. */
export type CommentKey = [string, number]
export type CommentsDb = Database<IssueComment, CommentKey>

/** Bump when the projection's shape, fold or stored form changes: stores then rebuild on open. */
export const PROJECTION_VERSION = 6
export const CHECKPOINT_KEY = 'projection'

/** `[issueId, tsUnixMs, actor, eventId]`: LMDB's key order is the projection order. */
export type IssueEventKey = [string, number, string, string]

/**
 * A per-issue index value: the event's seq, and for a comment also its body,
 * so the key and value are the whole comment. An issue's comments are then
 * read in order from the index alone, and writing a comment dirties no page
 * beyond the index's (a separate comment table was one more random B-tree
 * page per comment, about 40% of a commit's pages). Stores of schema 1 hold
 * plain seqs; the rebuild converts them.
 */
export type IssueIndexValue = number | [seq: number, body: string]

export const seqOf = (v: IssueIndexValue): number => (typeof v === 'number' ? v : v[0])

/**
 * An outbox entry. A locally authored event's entry holds what the WAL drain
 * writes: `[id, actor, ts, chunk record]`, the record being the CBOR bytes
 * made from the very preimage its id hashes (protocol chunkRecordBytes), so
 * the drain neither reads the event back nor encodes or hashes it again (that
 * was a sixth of the RepoWorker's thread under write load). Older entries
 * are the plain id, and the drain reads those events from the log.
 */
export type OutboxEntry = string | [eventId: string, actor: string, tsUnixMs: number, record: Uint8Array]

export const outboxEventId = (e: OutboxEntry): string => (typeof e === 'string' ? e : e[0])

/** A key of the listing index (listing-keys.ts). */
export type ListingKey = (string | number)[]

/** Which command an opId applied, so a retry answers without writing again. */
export interface AppliedOp {
  issueId: string
  eventIds: string[]
  seq: number
  /** For a claim: the token of the lease it took, so a retry can tell whether the caller still holds it. */
  claim?: { token: number }
}

export interface Identity { actor: string; createdAt: number }

/** Written with every batch; a mismatch at open means the projections must be rebuilt. */
export interface ProjectionCheckpoint { version: number; seq: number }

export interface RepoDbs {
  /** Interim record log (records.*) and its opId index. */
  records: Database<StoredRecord, number>
  opIds: Database<number, string>
  journal: JournalDb
  actors: ActorsDb
  /** seq -> event: the local log, in ingestion order. */
  log: Database<CairnEvent, number>
  /**
   * eventId -> seq, as older stores hold it. No longer written:
   * deduplication asks the per-issue index, whose key the id determines
   * (EventStore.knownSeq), and that saves a random B-tree page per event.
   */
  eventIds: Database<number, string>
  /** Per-issue index in projection order -> seq (and a comment's body). */
  byIssue: Database<IssueIndexValue, IssueEventKey>
  /** issueId -> projection without comments (the projection snapshot, current with every commit); see projections.ts. */
  issues: Database<IssueProjection, string>
  /** The listing index (listing.ts): keys only, so list, ready and topo read what they return and little else. */
  listing: Database<true | [string, number], ListingKey>
  /** [issueId, index] -> comment, as schema 1 stored them. No longer written; the rebuild empties it. */
  issueComments: CommentsDb
  /** seq -> eventId: locally authored events not yet written to the git WAL. */
  outbox: Database<OutboxEntry, number>
  /** agent name -> actor id. */
  identities: Database<Identity, string>
  /** opId -> what it applied. */
  appliedOps: Database<AppliedOp, string>
  /** 'projection' -> checkpoint. */
  eventMeta: Database<ProjectionCheckpoint, string>
  /** The Sync actor's anchors and banked progress (actors/sync/store.ts); ingest writes its bank here. */
  sync: Database<unknown, string>
}

export function openRepoDbs(env: RootDatabase): RepoDbs {
  const db = <V, K extends import('lmdb').Key>(name: string, keyEncoding?: 'uint32') =>
    env.openDB({ name, ...(keyEncoding ? { keyEncoding } : {}) }) as unknown as Database<V, K>
  // Plain msgpack maps for the event store's values: lmdb-js would otherwise
  // write each value's record definition inline, and decoding it again was
  // most of the cost of a read. Older values (with definitions) still decode.
  const plain = <V, K extends import('lmdb').Key>(name: string, keyEncoding?: 'uint32') =>
    env.openDB({ name, useRecords: false, ...(keyEncoding ? { keyEncoding } : {}) } as never) as unknown as Database<V, K>
  return {
    records: db('records', 'uint32'),
    opIds: db('op-ids'),
    journal: db('journal') as unknown as JournalDb,
    actors: db('actors') as unknown as ActorsDb,
    log: plain('event-log', 'uint32'),
    eventIds: plain('event-ids'),
    byIssue: plain('issue-events'),
    issues: plain('issues'),
    listing: plain('issue-listing'),
    issueComments: plain('issue-comments'),
    outbox: plain('outbox', 'uint32'),
    identities: db('identities'),
    appliedOps: plain('applied-ops'),
    eventMeta: plain('event-meta'),
    sync: db('sync'),
  }
}

export function lastKey(db: Database<unknown, number>): number {
  for (const key of db.getKeys({ reverse: true, limit: 1 })) return key as number
  return 0
}
