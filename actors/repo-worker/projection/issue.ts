/**
 * The projection of one issue: a left fold of its events in
 * `(tsUnixMs, actor, eventId)` order (DESIGN.md §4).
 *
 * Because the fold always runs in that order, last-writer-wins needs no
 * per-field version: the later event in the order simply overwrites. The price
 * is that only events sorting after the last applied one can be folded in
 * incrementally; anything else (a late event from a replica with an older
 * clock) re-projects the issue from all its events. {@link ingestEvent} does
 * exactly that.
 *
 * Incomplete issues: an issue whose IssueCreated has not arrived yet (a
 * partial fetch, or another actor's clock ran behind the creator's) still
 * projects, with `incomplete: true`, `title: ''`, `body: ''`, state `open`
 * unless a StateChanged says otherwise, and `createdAt`/`createdBy` null. It
 * is never dropped, so that its events and blocking effect are not lost; the
 * listings in graph.ts leave it out until it is complete. Whether it is
 * incomplete depends only on the set of events, not on their arrival order.
 *
 * Context events (ContextUpdated, ProjectContextUpdated) carry derived issue
 * ids and belong to the repository context view (context.ts); the issue fold
 * ignores them entirely: they neither count nor move `updatedAt`.
 */
import type { CairnEvent, DepType, IssueState } from '../../../protocol/events/types.ts'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { compareEvents, eventKey, sortUnique, type EventKey } from './order.ts'
import type {
  EntryOrigin, IssueAttachment, IssueComment, IssueDependency, IssueLink, IssueProjection,
} from '../../../protocol/results.ts'
export type { EntryOrigin, IssueAttachment, IssueComment, IssueDependency, IssueLink, IssueProjection }







/**
 * True for the kinds the issue fold applies; context kinds live in context.ts.
 * @example const issueEvents = events.filter(isIssueEvent)
 */
export function isIssueEvent(e: CairnEvent): boolean {
  return e.kind.type !== 'ContextUpdated' && e.kind.type !== 'ProjectContextUpdated'
}

/**
 * The seed of the fold: an issue no event has touched yet.
 * @example applyEvent(emptyIssue(id), created)
 */
export function emptyIssue(id: string): IssueProjection {
  return {
    id,
    title: '',
    body: '',
    state: 'open',
    labels: [],
    assignees: [],
    dependencies: [],
    comments: [],
    links: [],
    attachments: [],
    createdAt: null,
    createdBy: null,
    incomplete: true,
    updatedAt: 0,
    eventCount: 0,
    lastEvent: null,
    lastEventId: null,
  }
}

/**
 * Projects an issue from its events, in any order and with any duplicates.
 * Context events are skipped. Throws INVALID_ARGUMENT for an event of another
 * issue or a malformed timestamp, NOT_FOUND when no issue event is given.
 * @example const issue = projectIssue(id, await store.eventsOf(id))
 */
export function projectIssue(issueId: string, events: readonly CairnEvent[]): IssueProjection {
  for (const e of events) checkEvent(issueId, e)
  const ordered = sortUnique(events.filter(isIssueEvent))
  if (ordered.length === 0) throw new CairnError('NOT_FOUND', `no events for issue ${issueId}`, { issueId })
  // The intermediate projections are private: each step may take over the last one's lists.
  let p = emptyIssue(issueId)
  for (const e of ordered) p = step(p, e, true)
  return p
}

/**
 * True when `event` sorts strictly after everything folded into `projection`,
 * i.e. when {@link applyEvent} may take it. A false answer for a new event
 * means it arrived late and the issue must be re-projected.
 * @example if (!sortsAfter(p, e)) p = projectIssue(p.id, [...all, e])
 */
export function sortsAfter(projection: IssueProjection, event: EventKey): boolean {
  return projection.lastEvent === null || compareEvents(event, projection.lastEvent) > 0
}

/**
 * Folds one event into a projection and returns the new projection (the
 * input is not modified). The event must sort after the projection's last
 * event ({@link sortsAfter}); the last event itself again is a no-op, so a
 * redelivered tail is harmless. Anything else throws INVALID_ARGUMENT rather
 * than silently producing an order-dependent result. Context events return
 * the projection unchanged.
 *
 * With `consume`, the input is handed over instead: a new comment, link or
 * attachment is pushed onto the input's own list, which the result then
 * shares. Copying the list instead made every comment cost O(comments of
 * the issue) in time and garbage, and a fold of n comments O(n²). The
 * caller must not read the input again, or must cut its lists back to
 * their old lengths to undo the step ({@link ListMarks}).
 * @example let p = emptyIssue(id); for (const e of sorted) p = applyEvent(p, e, { consume: true })
 */
export function applyEvent(projection: IssueProjection, event: CairnEvent, opts: { consume?: boolean } = {}): IssueProjection {
  checkEvent(projection.id, event)
  if (!isIssueEvent(event)) return projection
  if (projection.lastEvent !== null && compareEvents(event, projection.lastEvent) === 0) return projection
  if (!sortsAfter(projection, event)) {
    throw invalidArgument('event', `${event.eventId} sorts before the last applied event; re-project the issue`)
  }
  return step(projection, event, opts.consume === true)
}

/**
 * The whole ingest rule in one call: fold the event in when it sorts after
 * the projection, otherwise re-project from `history` (all known events of
 * the issue; the new event may or may not be among them). `reprojected` tells
 * the caller which path was taken, for metrics. Callers should drop events
 * they already store before calling: an old duplicate is harmless here but
 * costs a re-projection.
 * @example const { projection } = ingestEvent(current, e, () => store.eventsOf(e.issueId))
 */
export function ingestEvent(
  projection: IssueProjection | undefined,
  event: CairnEvent,
  history: () => readonly CairnEvent[],
  opts: { consume?: boolean } = {},
): { projection: IssueProjection; reprojected: boolean } {
  if (!isIssueEvent(event)) throw invalidArgument('event', 'is a context event; apply it to the context view')
  const base = projection ?? emptyIssue(event.issueId)
  if (sortsAfter(base, event)) {
    return { projection: applyEvent(base, event, opts), reprojected: false }
  }
  if (base.lastEvent !== null && compareEvents(event, base.lastEvent) === 0) {
    return { projection: base, reprojected: false }
  }
  return { projection: projectIssue(base.id, [...history(), event]), reprojected: true }
}

function checkEvent(issueId: string, e: CairnEvent): void {
  if (e.issueId !== issueId) {
    throw invalidArgument('event.issueId', `is ${e.issueId}, expected ${issueId}`)
  }
  // NaN or a fractional ts would break the total order the whole fold rests on.
  if (!Number.isSafeInteger(e.tsUnixMs) || e.tsUnixMs < 0) {
    throw invalidArgument('event.tsUnixMs', 'must be a non-negative safe integer')
  }
}

/**
 * One fold step. Assumes `e` sorts after everything in `p`; copies only what
 * changes, and with `own` appends to p's lists in place (see applyEvent).
 */
function step(p: IssueProjection, e: CairnEvent, own: boolean): IssueProjection {
  const origin: EntryOrigin = { eventId: e.eventId, actor: e.actor, tsUnixMs: e.tsUnixMs }
  const next: IssueProjection = {
    ...p,
    updatedAt: Math.max(p.updatedAt, e.tsUnixMs),
    eventCount: p.eventCount + 1,
    lastEvent: eventKey(e),
    lastEventId: e.eventId,
  }
  const k = e.kind
  switch (k.type) {
    case 'IssueCreated':
      // A second IssueCreated for one id only comes from corrupt or hostile
      // data; it then acts as an update plus a reopen and adds its labels,
      // while the first one keeps the creation stamp.
      if (p.createdAt === null) {
        next.createdAt = e.tsUnixMs
        next.createdBy = e.actor
        next.incomplete = false
      }
      next.title = k.title
      next.body = k.body
      next.state = 'open'
      next.labels = k.labels.reduce(setAdd, p.labels)
      break
    case 'IssueUpdated':
      if (k.title != null) next.title = k.title
      if (k.body != null) next.body = k.body
      break
    case 'CommentAdded':
      next.comments = append(p.comments, { ...origin, body: k.body }, own)
      break
    case 'LabelAdded':
      next.labels = setAdd(p.labels, k.label)
      break
    case 'LabelRemoved':
      next.labels = setRemove(p.labels, k.label)
      break
    case 'StateChanged':
      next.state = k.state
      break
    case 'LinkAdded':
      next.links = append(p.links, { ...origin, url: k.url, note: k.note ?? null }, own)
      break
    case 'AssigneeAdded':
      next.assignees = setAdd(p.assignees, k.user)
      break
    case 'AssigneeRemoved':
      next.assignees = setRemove(p.assignees, k.user)
      break
    case 'AttachmentAdded':
      next.attachments = append(p.attachments, { ...origin, name: k.name, sha256: k.sha256, mime: k.mime }, own)
      break
    case 'DependencyAdded':
      next.dependencies = depAdd(p.dependencies, { target: k.target, depType: k.depType })
      break
    case 'DependencyRemoved':
      next.dependencies = depRemove(p.dependencies, { target: k.target, depType: k.depType })
      break
    case 'ContextUpdated':
    case 'ProjectContextUpdated':
      return p
    default: {
      // A kind from a newer schema: reject rather than guess its meaning.
      const unknown: never = k
      throw new CairnError('SCHEMA_MISMATCH', `unknown event kind ${(unknown as { type: string }).type}`)
    }
  }
  return next
}

function append<T>(xs: T[], x: T, own: boolean): T[] {
  if (!own) return [...xs, x]
  xs.push(x)
  return xs
}

/**
 * The lengths of a projection's lists, taken before a consuming step:
 * {@link restoreLists} cuts them back, which undoes the step for a holder
 * of the consumed projection (the other fields were never modified).
 */
export type ListMarks = readonly [IssueComment[], number, IssueLink[], number, IssueAttachment[], number]

export function markLists(p: IssueProjection): ListMarks {
  return [p.comments, p.comments.length, p.links, p.links.length, p.attachments, p.attachments.length]
}

export function restoreLists(m: ListMarks): void {
  m[0].length = m[1]
  m[2].length = m[3]
  m[4].length = m[5]
}

/** A copy whose lists no later consuming step can extend: for answers kept past the current turn. */
export function detachLists(p: IssueProjection): IssueProjection {
  return { ...p, comments: p.comments.slice(), links: p.links.slice(), attachments: p.attachments.slice() }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Index of `x` in sorted `xs`, or -(insertion point) - 1. */
function search<T>(xs: readonly T[], x: T, cmp: (a: T, b: T) => number): number {
  let lo = 0
  let hi = xs.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const c = cmp(xs[mid] as T, x)
    if (c === 0) return mid
    if (c < 0) lo = mid + 1
    else hi = mid - 1
  }
  return -lo - 1
}

function sortedAdd<T>(xs: readonly T[], x: T, cmp: (a: T, b: T) => number): T[] {
  const i = search(xs, x, cmp)
  if (i >= 0) return xs as T[]
  const at = -i - 1
  return [...xs.slice(0, at), x, ...xs.slice(at)]
}

function sortedRemove<T>(xs: readonly T[], x: T, cmp: (a: T, b: T) => number): T[] {
  const i = search(xs, x, cmp)
  if (i < 0) return xs as T[]
  return [...xs.slice(0, i), ...xs.slice(i + 1)]
}

function setAdd(xs: string[], x: string): string[] {
  return sortedAdd(xs, x, compareStrings)
}

function setRemove(xs: string[], x: string): string[] {
  return sortedRemove(xs, x, compareStrings)
}

function compareDeps(a: IssueDependency, b: IssueDependency): number {
  return compareStrings(a.target, b.target) || compareStrings(a.depType, b.depType)
}

function depAdd(xs: IssueDependency[], d: IssueDependency): IssueDependency[] {
  return sortedAdd(xs, d, compareDeps)
}

function depRemove(xs: IssueDependency[], d: IssueDependency): IssueDependency[] {
  return sortedRemove(xs, d, compareDeps)
}
