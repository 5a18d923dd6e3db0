/**
 * The event log and its views: events by id, the per-issue index, the
 * issue projections, the outbox and the local sequence.
 *
 * Writes happen only inside the RepoWorker's batch transaction, through a
 * {@link Batch}: every event of a batch, its index entries, its issue's new
 * projection and the projection checkpoint commit together, so the
 * projections on disk are always exactly the fold of the events on disk. The
 * in-memory copies (last seq, the projection cache) are adopted only after
 * the commit, so an aborted transaction cannot leave them ahead of the disk.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { LoggedEvent } from '../../../protocol/messages.ts'
import { compareIssues, ingestEvent, isIssueEvent, type IssueProjection } from '../projection/index.ts'
import { lastKey, type IssueEventKey, type RepoDbs } from './dbs.ts'
import { readAllProjections, readProjection, writeProjection } from './projections.ts'

/** Bump when the projection's shape or fold changes: stores then rebuild on open. */
export const PROJECTION_VERSION = 2
export const CHECKPOINT_KEY = 'projection'

const ISSUE_END = '\uffff'
const HOT_ISSUES = 4096

export class EventStore {
  readonly dbs: RepoDbs
  #lastSeq: number
  /** Every projection, loaded on first need (list, ready, cycle checks) and kept current after. */
  #cache: Map<string, IssueProjection> | null = null
  /**
   * Recently used projections while the full cache is not loaded, so a busy
   * issue is not decoded from LMDB for every event (msgpack decoding of
   * large projections was the worker's top cost). Map order = recency.
   */
  readonly #hot = new Map<string, IssueProjection>()

  /**
   * A reader is a view for another thread than the writer's. A `fresh` one
   * keeps nothing in memory: every answer is what the current read
   * transaction sees, freshly decoded (the caller's to keep or change). A
   * `shared` one keeps projections while the store's checkpoint stays the
   * same (see {@link revalidate}) and hands out those very objects: only for
   * callers that never change an answer.
   */
  readonly #reader: 'fresh' | 'shared' | null
  #seen: string | null = null

  constructor(dbs: RepoDbs, opts: { reader?: 'fresh' | 'shared' } = {}) {
    this.dbs = dbs
    this.#reader = opts.reader ?? null
    this.#lastSeq = lastKey(dbs.log)
  }

  get lastSeq(): number { return this.#reader ? lastKey(this.dbs.log) : this.#lastSeq }

  /**
   * For a shared reader: drops what it kept once the writer has committed
   * events since. Projections change only in a batch that appends events,
   * and every such batch rewrites the checkpoint, so an unchanged checkpoint
   * (read in the current read transaction) proves the kept ones current.
   */
  revalidate(): void {
    const cp = this.dbs.eventMeta.get(CHECKPOINT_KEY)
    const seen = cp ? `${cp.version}:${cp.seq}` : ''
    if (seen === this.#seen) return
    this.#seen = seen
    this.#cache = null
    this.#hot.clear()
  }

  /** Starts a batch; call only inside a write transaction. */
  batch(): Batch {
    if (this.#reader !== null) throw new CairnError('INTERNAL', 'a reader view of the event store cannot write')
    return new Batch(this, this.#lastSeq)
  }

  /** Adopts what a committed batch wrote. */
  adopt(batch: Batch): void {
    this.#lastSeq = batch.seq
    if (this.#cache) for (const [id, p] of batch.touched) this.#cache.set(id, p)
    else for (const [id, p] of batch.touched) this.#remember(id, p)
  }

  issue(id: string): IssueProjection | undefined {
    if (this.#reader === 'fresh') return readProjection(this.dbs, id)
    if (this.#cache) return this.#cache.get(id)
    const hot = this.#hot.get(id)
    if (hot) return hot
    const p = readProjection(this.dbs, id)
    if (p) this.#remember(id, p)
    return p
  }

  #remember(id: string, p: IssueProjection): void {
    this.#hot.delete(id)
    this.#hot.set(id, p)
    if (this.#hot.size > HOT_ISSUES) this.#hot.delete(this.#hot.keys().next().value as string)
  }

  all(): Map<string, IssueProjection> {
    if (this.#reader === 'fresh') return readAllProjections(this.dbs)
    if (!this.#cache) {
      this.#cache = readAllProjections(this.dbs)
      this.#hot.clear()
    }
    return this.#cache
  }

  /** Complete issues in listing order (earliest created first, then id). */
  listed(): IssueProjection[] {
    return [...this.all().values()].filter((p) => !p.incomplete).sort(compareIssues)
  }

  /**
   * Resolves a full id or a unique prefix (≥ 4 hex). NOT_FOUND when nothing
   * matches, AMBIGUOUS_ID (with the first candidates) when several do.
   */
  resolve(ref: string, field = 'id'): string {
    // A reader would decode the projection only to throw it away.
    return resolveRef(this, ref, field, this.#reader === 'fresh' ? (id) => this.dbs.issues.doesExist(id) : (id) => this.issue(id) !== undefined)
  }

  /** The events of one issue in projection order. */
  history(issueId: string): LoggedEvent[] {
    const out: LoggedEvent[] = []
    for (const { value: seq } of this.dbs.byIssue.getRange({ start: [issueId], end: [issueId, Number.MAX_SAFE_INTEGER] })) {
      const event = this.dbs.log.get(seq)
      if (event) out.push({ seq, event })
    }
    return out
  }

  /** A page of the local log from `fromSeq` on. */
  read(fromSeq: number, limit: number): LoggedEvent[] {
    return [...this.dbs.log.getRange({ start: fromSeq, limit })].map(({ key, value }) => ({ seq: key as number, event: value }))
  }
}

/** The writes of one transaction; see {@link EventStore}. */
export class Batch {
  readonly #store: EventStore
  seq: number
  /** Projections changed by this batch (newest value). */
  readonly touched = new Map<string, IssueProjection>()
  readonly appended: LoggedEvent[] = []
  reprojected = 0

  constructor(store: EventStore, seq: number) {
    this.#store = store
    this.seq = seq
  }

  get dbs(): RepoDbs { return this.#store.dbs }

  issue(id: string): IssueProjection | undefined {
    return this.touched.get(id) ?? this.#store.issue(id)
  }

  /** As {@link EventStore.resolve}, seeing this batch's own writes. */
  resolve(ref: string, field = 'id'): string {
    return resolveRef(this.#store, ref, field, (id) => this.issue(id) !== undefined)
  }

  /** Every projection as this batch sees it (for cycle checks). */
  *projections(): Iterable<IssueProjection> {
    for (const [id, p] of this.#store.all()) yield this.touched.get(id) ?? p
    for (const [id, p] of this.touched) if (!this.#store.all().has(id)) yield p
  }

  /**
   * Ingests one event: a no-op (returning its existing seq) when the id is
   * known, otherwise logged, indexed and folded into its issue. `local`
   * events (authored here) also enter the outbox for the git WAL.
   */
  ingest(event: CairnEvent, local: boolean): { seq: number; duplicate: boolean } {
    const { dbs } = this.#store
    const known = dbs.eventIds.get(event.eventId)
    if (known !== undefined) return { seq: known, duplicate: true }
    const seq = ++this.seq
    const stored: CairnEvent = event.sig ? event : stripSig(event)
    dbs.log.put(seq, stored)
    dbs.eventIds.put(event.eventId, seq)
    dbs.byIssue.put([event.issueId, event.tsUnixMs, event.actor, event.eventId] satisfies IssueEventKey, seq)
    if (local) dbs.outbox.put(seq, event.eventId)
    this.appended.push({ seq, event: stored })
    if (isIssueEvent(event)) {
      const prev = this.issue(event.issueId)
      const { projection, reprojected } = ingestEvent(prev, stored,
        () => this.#store.history(event.issueId).map((l) => l.event))
      if (reprojected) this.reprojected++
      this.touched.set(event.issueId, projection)
      writeProjection(dbs, prev, projection, !reprojected)
    }
    return { seq, duplicate: false }
  }

  /** Records the checkpoint; the last write of every batch. */
  finish(): void {
    if (this.appended.length > 0) this.#store.dbs.eventMeta.put(CHECKPOINT_KEY, { version: PROJECTION_VERSION, seq: this.seq })
  }
}

function resolveRef(store: EventStore, ref: string, field: string, exists: (id: string) => boolean): string {
  if (ref.length === 32) {
    if (!exists(ref)) throw new CairnError('NOT_FOUND', `no issue ${ref}`, { field, id: ref })
    return ref
  }
  // Inside the batch transaction this scan sees the batch's own writes too.
  const matches: string[] = []
  for (const key of store.dbs.issues.getKeys({ start: ref, end: ref + ISSUE_END, limit: 6 })) matches.push(key as string)
  if (matches.length === 0) throw new CairnError('NOT_FOUND', `no issue with id prefix ${ref}`, { field, id: ref })
  if (matches.length > 1) {
    throw new CairnError('AMBIGUOUS_ID', `id prefix ${ref} matches ${matches.length > 5 ? 'more than 5' : matches.length} issues`,
      { field, id: ref, candidates: matches.slice(0, 5) })
  }
  return matches[0] as string
}

function stripSig(e: CairnEvent): CairnEvent {
  const { sig: _sig, ...rest } = e
  return rest
}
