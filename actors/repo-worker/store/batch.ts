/**
 * The writes of one command (or one rebuild step), recorded rather than
 * made: a command that fails its checks half-way leaves nothing behind, and
 * the RepoWorker decides when and how the records reach LMDB (one fenced
 * block per turn, effects.ts). Reads go through the {@link EventStore}, so a
 * batch sees every write adopted before it, committed or still in flight,
 * and its own.
 */
import type { Database } from 'lmdb'
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { LoggedEvent } from '../../../protocol/messages.ts'
import { ingestEvent, isIssueEvent, markLists, restoreLists, type IssueProjection, type ListMarks } from '../projection/index.ts'
import { CHECKPOINT_KEY, PROJECTION_VERSION, type IssueEventKey, type RepoDbs } from './dbs.ts'
import { writeProjection, type Writes } from './projections.ts'
import { listingKeys, writeListing } from './listing-keys.ts'
import { GraphView } from './graph-view.ts'
import { resolveRef } from './resolve.ts'

/**
 * What a batch reads through: the committed store plus the writes in flight
 * before it (EventStore implements it). Narrow so the batch never reaches
 * for the store's own writing side.
 */
export interface BatchBase {
  readonly dbs: RepoDbs
  get<V>(db: Database<V, string>, key: string): V | undefined
  issue(id: string): IssueProjection | undefined
  pendingIds(prefix: string): string[]
  all(): Map<string, IssueProjection>
  /** Projections adopted but not yet on disk. */
  inFlightIssues(): Iterable<[string, IssueProjection]>
  knownSeq(event: CairnEvent): number | undefined
  history(issueId: string, extra?: readonly LoggedEvent[]): LoggedEvent[]
}

import { REMOVE, writeAll, type RecordedWrite } from '../../../lib/kernel/store/recorded-writes.ts'

export { writeAll, type RecordedWrite }

export class Batch implements Writes {
  readonly #store: BatchBase
  seq: number
  /** Projections changed by this batch (newest value). */
  readonly touched = new Map<string, IssueProjection>()
  readonly appended: LoggedEvent[] = []
  /** eventId -> seq of the events this batch appended. */
  readonly #ids = new Map<string, number>()
  /** Keyed records this batch wrote that later commands read back (ids, applied ops, identities). */
  readonly readBack = new Map<Database<unknown, string>, Map<string, unknown>>()
  readonly writes: RecordedWrite[] = []
  reprojected = 0
  /** Lease writes staged through the lease gate, to settle once the block carrying them came back. */
  readonly settles: Array<(applied: boolean) => void> = []
  /** List lengths of the store's projections before this batch first stepped them. */
  readonly #marks: ListMarks[] = []

  constructor(store: BatchBase, seq: number) {
    this.#store = store
    this.seq = seq
  }

  get dbs(): RepoDbs { return this.#store.dbs }

  put(db: Database<any, any>, key: unknown, value: unknown): void {
    this.writes.push({ db, key, value })
  }

  remove(db: Database<any, any>, key: unknown): void {
    this.writes.push({ db, key, value: REMOVE })
  }

  /** A keyed record later reads must see (through {@link get}) before it is committed. */
  putKeyed<V>(db: Database<V, string>, key: string, value: V): void {
    this.put(db, key, value)
    let m = this.readBack.get(db as Database<unknown, string>)
    if (!m) this.readBack.set(db as Database<unknown, string>, m = new Map())
    m.set(key, value)
  }

  get<V>(db: Database<V, string>, key: string): V | undefined {
    const own = this.readBack.get(db as Database<unknown, string>)
    if (own?.has(key)) return own.get(key) as V
    return this.#store.get(db, key)
  }

  issue(id: string): IssueProjection | undefined {
    return this.touched.get(id) ?? this.#store.issue(id)
  }

  /** As {@link EventStore.resolve}, seeing this batch's own writes. */
  resolve(ref: string, field = 'id'): string {
    return resolveRef(this.dbs.issues, ref, field, (id) => this.issue(id) !== undefined,
      () => [...new Set([...[...this.touched.keys()].filter((id) => id.startsWith(ref)), ...this.#store.pendingIds(ref)])])
  }

  /** The dependency graph as this batch sees it (for the cycle and blocker checks): the index on disk, then what is in flight, then its own. */
  graph(): GraphView {
    const overlay = new Map<string, IssueProjection>(this.#store.inFlightIssues())
    for (const [id, p] of this.touched) overlay.set(id, p)
    return new GraphView(this.#store.dbs, overlay)
  }

  /**
   * Ingests one event: a no-op (returning its existing seq) when the id is
   * known, otherwise logged, indexed and folded into its issue. `local`
   * events (authored here) also enter the outbox for the git WAL, with
   * `record`, the unsigned event's chunk record (chunkRecordBytes), when
   * the caller has it.
   */
  ingest(event: CairnEvent, local: boolean, record?: Uint8Array): { seq: number; duplicate: boolean } {
    const dbs = this.#store.dbs
    const known = this.#ids.get(event.eventId) ?? this.#store.knownSeq(event)
    if (known !== undefined) return { seq: known, duplicate: true }
    const seq = ++this.seq
    const stored: CairnEvent = event.sig ? event : stripSig(event)
    this.put(dbs.log, seq, stored)
    this.#ids.set(event.eventId, seq)
    this.put(dbs.byIssue, eventKey(event), event.kind.type === 'CommentAdded' ? [seq, event.kind.body] : seq)
    if (local) this.put(dbs.outbox, seq, record ? [event.eventId, event.actor, event.tsUnixMs, record] : event.eventId)
    this.appended.push({ seq, event: stored })
    if (isIssueEvent(event)) {
      const id = event.issueId
      const prev = this.issue(id)
      // The step consumes prev: a comment is pushed onto the list prev shares
      // with the store's view (no O(comments) copy per comment). The first
      // time this batch touches the issue, remember the lengths, so a batch
      // that is not adopted can hand the store its projection back intact.
      if (prev && !this.touched.has(id)) this.#marks.push(markLists(prev))
      // Taken before the step, which may grow prev's lists in place. A comment
      // folded in order changes no listing key; a re-projection leaves prev intact.
      const comment = event.kind.type === 'CommentAdded'
      const before = prev && !comment ? listingKeys(prev) : null
      const { projection, reprojected } = ingestEvent(prev, stored, () => this.#store.history(id, this.appended).map((l) => l.event), { consume: true })
      if (reprojected) this.reprojected++
      this.touched.set(id, projection)
      writeProjection(dbs, projection, this)
      if (!prev) writeListing(dbs, null, projection, this)
      else if (!comment || reprojected) writeListing(dbs, before ?? listingKeys(prev), projection, this)
    }
    return { seq, duplicate: false }
  }

  /** Lease writes (a claim's grant, a close's release) that must land in this batch's block. */
  stage(staged: { writes: RecordedWrite[]; settle(applied: boolean): void }): void {
    for (const w of staged.writes) this.writes.push(w)
    this.settles.push(staged.settle)
  }

  /**
   * Gives up the batch: undoes what its steps appended to lists it shares
   * with the store's projections, and drops the lease writes it staged. A
   * batch that is neither adopted nor discarded leaves the store's view
   * ahead of the disk.
   */
  discard(): void {
    for (let i = this.#marks.length - 1; i >= 0; i--) restoreLists(this.#marks[i] as ListMarks)
    this.#marks.length = 0
    for (const settle of this.settles.splice(0)) settle(false)
  }

  /** Records the projection checkpoint (when this batch appended events). */
  checkpoint(): void {
    if (this.appended.length > 0) this.writes.push(checkpointWrite(this.dbs, this.seq))
  }

  /** Makes the recorded writes: inside a transaction they join it, outside they are queued by lmdb-js. */
  write(): void {
    writeAll(this.writes)
  }

  /** Checkpoint, then write: for callers that run a batch inside their own transaction. */
  finish(): void {
    this.checkpoint()
    this.write()
  }
}

/** The projection checkpoint at `seq`: the last write of every block that appends events. */
export function checkpointWrite(dbs: RepoDbs, seq: number): RecordedWrite {
  return { db: dbs.eventMeta, key: CHECKPOINT_KEY, value: { version: PROJECTION_VERSION, seq } }
}

export function eventKey(e: CairnEvent): IssueEventKey {
  return [e.issueId, e.tsUnixMs, e.actor, e.eventId]
}

/** LMDB's order of issue-event keys (ids and actors are ASCII hex, so code-unit order is byte order). */
export function compareKeys(a: IssueEventKey, b: IssueEventKey): number {
  for (let i = 0; i < 4; i++) {
    const x = a[i] as string | number
    const y = b[i] as string | number
    if (x < y) return -1
    if (x > y) return 1
  }
  return 0
}

function stripSig(e: CairnEvent): CairnEvent {
  const { sig: _sig, ...rest } = e
  return rest
}
