/**
 * The event log and its views: events by id, the per-issue index, the
 * issue projections, the outbox and the local sequence.
 *
 * Writes are made by {@link Batch}es (batch.ts): a batch reads through this
 * store, records its writes and, once its command succeeded, is adopted
 * here before its writes are even committed. The RepoWorker runs each
 * command as soon as it arrives and lets lmdb-js commit the recorded writes
 * in the background (effects.ts), so the next command must see the ones
 * still in flight: adopted but uncommitted writes are kept here as pending
 * (keyed by the generation of the block that carries them) and every read
 * of the writer looks at them first. {@link settle} drops them once their
 * block is durable. A block that fails to commit leaves this view ahead of
 * the disk; the RepoWorker then fails and its restart reads the disk again.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { Database } from 'lmdb'
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { LoggedEvent } from '../../../protocol/messages.ts'
import type { IssueProjection } from '../projection/index.ts'
import { CHECKPOINT_KEY, lastKey, seqOf, type RepoDbs } from './dbs.ts'
import { readAllProjections, readProjection } from './projections.ts'
import { Batch, compareKeys, eventKey } from './batch.ts'
import { resolveRef } from './resolve.ts'
import { ReadySet } from './ready-set.ts'
import { indexedEdges, indexedIssues } from './listing-keys.ts'

export { Batch } from './batch.ts'

export { CHECKPOINT_KEY, PROJECTION_VERSION } from './dbs.ts'
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
  /** The ready issues, built on first need (claims, ready queries) and kept current by {@link adopt}. */
  #ready: ReadySet | null = null

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
  /** Adopted, not yet durable: projections (pinned, so the hot set cannot evict them), keyed reads, events. */
  readonly #pendingIssues = new Map<string, { gen: number; p: IssueProjection }>()
  readonly #pendingKeys = new Map<Database<unknown, string>, Map<string, { gen: number; value: unknown }>>()
  #pendingEvents: { gen: number; logged: LoggedEvent }[] = []
  readonly #pendingIds = new Map<string, { gen: number; seq: number }>()

  constructor(dbs: RepoDbs, opts: { reader?: 'fresh' | 'shared' } = {}) {
    this.dbs = dbs
    this.#reader = opts.reader ?? null
    this.#lastSeq = lastKey(dbs.log)
  }

  get lastSeq(): number { return this.#reader ? lastKey(this.dbs.log) : this.#lastSeq }

  /** The writer's own view (not a reader for another thread). */
  get writer(): boolean { return this.#reader === null }

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

  /** Starts a batch on top of everything adopted so far. */
  batch(): Batch {
    if (this.#reader !== null) throw new CairnError('INTERNAL', 'a reader view of the event store cannot write')
    return new Batch(this, this.#lastSeq)
  }

  /**
   * Adopts a batch's writes. Without `gen` they are committed already;
   * with it they are in flight in block `gen` until {@link settle}.
   */
  adopt(batch: Batch, gen?: number): void {
    this.#lastSeq = batch.seq
    if (this.#ready) for (const p of batch.touched.values()) this.#ready.update(p)
    if (gen === undefined) {
      if (this.#cache) for (const [id, p] of batch.touched) this.#cache.set(id, p)
      else for (const [id, p] of batch.touched) this.#remember(id, p)
      return
    }
    for (const [id, p] of batch.touched) {
      this.#pendingIssues.set(id, { gen, p })
      this.#cache?.set(id, p)
    }
    for (const [db, writes] of batch.readBack) {
      let pending = this.#pendingKeys.get(db)
      if (!pending) this.#pendingKeys.set(db, pending = new Map())
      for (const [key, value] of writes) pending.set(key, { gen, value })
    }
    for (const logged of batch.appended) {
      this.#pendingEvents.push({ gen, logged })
      this.#pendingIds.set(logged.event.eventId, { gen, seq: logged.seq })
    }
  }

  /** Block `gen` (and every one before it) is durable: its writes are on disk now. */
  settle(gen: number): void {
    for (const [id, e] of this.#pendingIssues) {
      if (e.gen > gen) continue
      this.#pendingIssues.delete(id)
      if (!this.#cache) this.#remember(id, e.p)
    }
    for (const pending of this.#pendingKeys.values()) for (const [key, e] of pending) if (e.gen <= gen) pending.delete(key)
    for (const [id, e] of this.#pendingIds) if (e.gen <= gen) this.#pendingIds.delete(id)
    let i = 0
    while (i < this.#pendingEvents.length && (this.#pendingEvents[i] as { gen: number }).gen <= gen) i++
    if (i > 0) this.#pendingEvents = this.#pendingEvents.slice(i)
  }

  /** Projections adopted but not yet durable (so possibly not on disk). */
  *inFlightIssues(): Iterable<[string, IssueProjection]> {
    for (const [id, { p }] of this.#pendingIssues) yield [id, p]
  }

  /** Whether writes are adopted but not yet durable. */
  get inFlight(): boolean { return this.#pendingEvents.length > 0 || this.#pendingIssues.size > 0 }

  /** A keyed record as the writer sees it: in flight first, then the disk. */
  get<V>(db: Database<V, string>, key: string): V | undefined {
    const e = this.#pendingKeys.get(db as Database<unknown, string>)?.get(key)
    return e ? e.value as V : db.get(key)
  }

  /**
   * The seq of a stored (or in-flight) event, or undefined. An event id is a
   * hash of the event's content, so the id fixes the per-issue index key
   * `[issue, ts, actor, id]` too: that index answers "is it known", and no
   * separate id table (one more random B-tree page per event) is written.
   */
  knownSeq(event: CairnEvent): number | undefined {
    const pending = this.#pendingIds.get(event.eventId)
    if (pending) return pending.seq
    const indexed = this.dbs.byIssue.get(eventKey(event))
    return indexed === undefined ? undefined : seqOf(indexed)
  }

  issue(id: string): IssueProjection | undefined {
    if (this.#reader === 'fresh') return readProjection(this.dbs, id)
    const pending = this.#pendingIssues.get(id)
    if (pending) return pending.p
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
      for (const [id, { p }] of this.#pendingIssues) this.#cache.set(id, p)
      this.#hot.clear()
    }
    return this.#cache
  }

  /**
   * The writer's ready set (see ready-set.ts), built on first use from the
   * listing index as committed, then brought up to the writes in flight.
   * Not from every projection: that loaded the whole board, comments and
   * all, into this thread, and kept it there.
   */
  readySet(): ReadySet {
    if (this.#reader !== null) throw new CairnError('INTERNAL', 'a reader view of the event store keeps no ready set')
    if (this.#ready === null) {
      const set = ReadySet.fromIndex(indexedIssues(this.dbs), indexedEdges(this.dbs))
      for (const { p } of this.#pendingIssues.values()) set.update(p)
      this.#ready = set
    }
    return this.#ready
  }

  /**
   * Resolves a full id or a unique prefix (≥ 4 hex). NOT_FOUND when nothing
   * matches, AMBIGUOUS_ID (with the first candidates) when several do.
   */
  resolve(ref: string, field = 'id'): string {
    // A reader would decode the projection only to throw it away.
    if (this.#reader === 'fresh') return resolveRef(this.dbs.issues, ref, field, (id) => this.dbs.issues.doesExist(id))
    return resolveRef(this.dbs.issues, ref, field, (id) => this.issue(id) !== undefined, () => this.pendingIds(ref))
  }

  /** Ids of in-flight issues (some not yet in the issues database) that start with `prefix`. */
  pendingIds(prefix: string): string[] {
    const out: string[] = []
    for (const id of this.#pendingIssues.keys()) if (id.startsWith(prefix)) out.push(id)
    return out
  }

  /**
   * The events of one issue in projection order: the stored ones, the
   * in-flight ones and `extra` (a batch's own, not yet adopted).
   */
  history(issueId: string, extra: readonly LoggedEvent[] = []): LoggedEvent[] {
    const out: LoggedEvent[] = []
    for (const { value } of this.dbs.byIssue.getRange({ start: [issueId], end: [issueId, Number.MAX_SAFE_INTEGER] })) {
      const seq = seqOf(value)
      const event = this.dbs.log.get(seq)
      if (event) out.push({ seq, event })
    }
    const stored = new Set(out.map((l) => l.seq))
    let added = false
    for (const l of [...this.#pendingEvents.map((e) => e.logged), ...extra]) {
      if (l.event.issueId !== issueId || stored.has(l.seq)) continue
      out.push(l)
      added = true
    }
    return added ? out.sort((a, b) => compareKeys(eventKey(a.event), eventKey(b.event))) : out
  }

  /** A page of the local log from `fromSeq` on. */
  read(fromSeq: number, limit: number): LoggedEvent[] {
    return [...this.dbs.log.getRange({ start: fromSeq, limit })].map(({ key, value }) => ({ seq: key as number, event: value }))
  }
}
