/**
 * `issues.list`, `issues.ready` and `issues.topo` answered from the listing
 * index (listing-keys.ts) and the projection heads, straight from LMDB: a
 * page costs the keys it walks and the heads it returns, not the store.
 *
 * - list: one key range per state (two merged for `all`), driven by the
 *   label or the assignee index when one is given; stops at `limit`.
 * - ready: walks the open issues in order and, for each, its prerequisites
 *   (`p` keys) and their states (`x` keys); stops at `limit`. A page holding
 *   many blocked issues costs those too: readiness is decided per issue.
 * - topo: every open issue (the answer is all of them) from its head, never
 *   a comment.
 *
 * Paging: `after` is the id of the last issue of the previous page; the
 * next page starts right after it in the listing order. An issue that moved
 * (closed, relabelled) since still marks its place by its creation time.
 */
import { invalidArgument } from '../../../protocol/errors.ts'
import type { LeaseView } from '../../../protocol/messages.ts'
import type { IssueSummary, TopoView } from '../../../protocol/results.ts'
import { topo, type IssueProjection } from '../projection/index.ts'
import type { RepoDbs } from './dbs.ts'
import { END_AT, INCOMPLETE_AT, type ListingKey } from './listing-keys.ts'
import type { StoredIssue } from './projections.ts'

type State = 'open' | 'closed'
/** A place in the listing order. */
interface Place { at: number; id: string }

export interface ListFilter { state: State | 'all'; label?: string; assignee?: string; limit: number; after?: string }
/**
 * `claimedBy` tells who holds the claim (the live lease on `issue:<id>`) on
 * an issue: claimed issues are left out, or with `includeClaimed` listed
 * with `claimedBy`.
 */
export interface ReadyFilter { label?: string; limit: number; after?: string; claimedBy?: (issueId: string) => LeaseView | null; includeClaimed?: boolean }

export function summaryOfHead(h: StoredIssue): IssueSummary {
  return {
    id: h.id, title: h.title, state: h.state, labels: h.labels, assignees: h.assignees, dependencies: h.dependencies,
    comments: h.commentCount, createdAt: h.createdAt as number, createdBy: h.createdBy as string, updatedAt: h.updatedAt,
  }
}

/** The state and creation time of an issue, from its `x` key, or undefined for an issue this store does not hold. */
export function placeOf(dbs: RepoDbs, id: string): { state: State; at: number } | undefined {
  const v = dbs.listing.get(['x', id]) as unknown as [State, number] | undefined
  return v === undefined ? undefined : { state: v[0], at: v[1] }
}

/** Issues of one index range (`prefix` + state), in listing order, from just after `from`; complete ones only. */
function* places(dbs: RepoDbs, prefix: ListingKey, from: Place | null): Generator<Place> {
  const start = from === null ? prefix : [...prefix, from.at, from.id]
  for (const key of dbs.listing.getKeys({ start, end: [...prefix, INCOMPLETE_AT] })) {
    const k = key as ListingKey
    const id = k[k.length - 1] as string
    const at = k[k.length - 2] as number
    if (from !== null && at === from.at && id === from.id) continue
    yield { at, id }
  }
}

/** Two listing-ordered streams as one. */
function* merged(a: Generator<Place>, b: Generator<Place>): Generator<Place> {
  let x = a.next()
  let y = b.next()
  while (!x.done || !y.done) {
    const takeX = y.done || (!x.done && (x.value.at < y.value.at || (x.value.at === y.value.at && x.value.id < y.value.id)))
    if (takeX) {
      yield (x as IteratorYieldResult<Place>).value
      x = a.next()
    } else {
      yield (y as IteratorYieldResult<Place>).value
      y = b.next()
    }
  }
}

function cursor(dbs: RepoDbs, after: string | undefined): Place | null {
  if (after === undefined) return null
  const place = placeOf(dbs, after)
  if (place === undefined) throw invalidArgument('after', `names no issue of this repository (${after}); pass the id of the last issue of the previous page`)
  return { at: place.at, id: after }
}

function head(dbs: RepoDbs, id: string): StoredIssue | undefined {
  return dbs.issues.get(id) as unknown as StoredIssue | undefined
}

/** Complete issues matching `f`, earliest created first, at most `f.limit`. */
export function listIssues(dbs: RepoDbs, f: ListFilter): IssueSummary[] {
  const from = cursor(dbs, f.after)
  const driver: ListingKey = f.label !== undefined ? ['l', f.label] : f.assignee !== undefined ? ['a', f.assignee] : ['s']
  const stream = f.state === 'all'
    ? merged(places(dbs, [...driver, 'closed'], from), places(dbs, [...driver, 'open'], from))
    : places(dbs, [...driver, f.state], from)
  const out: IssueSummary[] = []
  if (f.limit <= 0) return out
  for (const { id } of stream) {
    const h = head(dbs, id)
    if (h === undefined) continue
    if (f.label !== undefined && f.assignee !== undefined && !h.assignees.includes(f.assignee)) continue
    out.push(summaryOfHead(h))
    if (out.length >= f.limit) break
  }
  return out
}

/** Whether something keeps `id` from being ready: an open or unknown prerequisite (graph.ts's rule). */
function blocked(dbs: RepoDbs, id: string): boolean {
  for (const key of dbs.listing.getKeys({ start: ['p', id], end: ['p', id, '\uffff'] })) {
    const before = (key as ListingKey)[2] as string
    const p = placeOf(dbs, before)
    if (p === undefined || p.state === 'open') return true
  }
  return false
}

/** Open, complete issues with no blocking prerequisite, earliest created first, at most `f.limit`. */
export function readyIssues(dbs: RepoDbs, f: ReadyFilter): IssueSummary[] {
  const from = cursor(dbs, f.after)
  const out: IssueSummary[] = []
  if (f.limit <= 0) return out
  for (const { id } of places(dbs, f.label !== undefined ? ['l', f.label, 'open'] : ['s', 'open'], from)) {
    if (blocked(dbs, id)) continue
    const claim = f.claimedBy?.(id) ?? null
    if (claim !== null && f.includeClaimed !== true) continue
    const h = head(dbs, id)
    if (h === undefined) continue
    if (claim === null) out.push(summaryOfHead(h))
    else {
      const { actor, agent } = claim.holder
      out.push({ ...summaryOfHead(h), claimedBy: { actor, ...(agent ? { agent } : {}), token: claim.token, expiresAt: claim.expiresAt } })
    }
    if (out.length >= f.limit) break
  }
  return out
}

/** graph.ts's topo over the open issues' heads (incomplete ones too: they constrain the order). */
export function topoIssues(dbs: RepoDbs, limit = Number.MAX_SAFE_INTEGER): TopoView {
  const open: IssueProjection[] = []
  for (const key of dbs.listing.getKeys({ start: ['s', 'open'], end: ['s', 'open', END_AT] })) {
    const id = (key as ListingKey)[3] as string
    const h = head(dbs, id)
    if (h === undefined) continue
    // topo reads ids, states, dependencies and creation; comments are never looked at.
    open.push(h as unknown as IssueProjection)
  }
  const { order, cycles } = topo(open)
  // The whole order is decided (any issue may come first); only the first `limit` are summarised and sent.
  return { order: order.slice(0, limit).map((p) => summaryOfHead(p as unknown as StoredIssue)), cycles }
}
