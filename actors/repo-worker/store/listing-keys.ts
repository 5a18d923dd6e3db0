/**
 * The listing index: the keys that let `issues.list`, `issues.ready` and
 * `issues.topo` read what they return instead of every projection of the
 * store (decoding all of them was the whole cost of a list, and grew with
 * the store, not with the answer).
 *
 * Every key is an LMDB key of the `issue-listing` database, with no value
 * worth reading; LMDB's key order is the listing order (earliest created
 * first, then id; incomplete issues last, at {@link INCOMPLETE_AT}):
 *
 * - `['s', state, createdAt, id]`          every issue, by state
 * - `['l', label, state, createdAt, id]`   one per label
 * - `['a', assignee, state, createdAt, id]` one per assignee
 * - `['p', after, before, declarer]`       one per dependency edge (graph.ts's
 *   direction: `before` must close before `after`), keyed by the issue that
 *   declares it, so that `A depends_on B` and `B blocks A` are two keys and
 *   removing one leaves the other
 * - `['n', before, after, declarer]`       the same edge the other way round, for
 *   the write path's cycle search (graph-view.ts)
 * - `['x', id]` -> `[state, createdAt]`    an issue's state by its id: the one
 *   entry with a value, read with a point lookup (a range per issue was
 *   most of a ready page); written whenever either changes, never removed
 *   (an issue never goes away; the rebuild clears the index)
 *
 * The keys are written with the projection head, in the same block
 * (batch.ts), and rebuilt with the projections (rebuild.ts), so they are
 * exactly as current as the heads they point at.
 */
import { edgeOf, type IssueProjection } from '../projection/index.ts'
import type { ListingKey, RepoDbs } from './dbs.ts'
import type { Writes } from './projections.ts'
import type { IndexedEdge, IndexedIssue } from './ready-set.ts'

export type { ListingKey }

/** Where incomplete issues (no IssueCreated yet) sort: after every complete one. */
export const INCOMPLETE_AT = 2 ** 52
/** Past every createdAt, as the end of a range. */
export const END_AT = 2 ** 53

export function createdAtOf(p: { createdAt: number | null; incomplete?: boolean }): number {
  return p.incomplete === true || p.createdAt === null ? INCOMPLETE_AT : p.createdAt
}

/** The listing keys of one projection (or head: comments are not looked at). */
export function listingKeys(p: IssueProjection): ListingKey[] {
  const at = createdAtOf(p)
  const keys: ListingKey[] = [['s', p.state, at, p.id], ['x', p.id, p.state, at]]
  for (const l of p.labels) keys.push(['l', l, p.state, at, p.id])
  for (const a of p.assignees) keys.push(['a', a, p.state, at, p.id])
  for (const d of p.dependencies) {
    const edge = edgeOf(p.id, d.target, d.depType)
    if (edge !== null) keys.push(['p', edge[1], edge[0], p.id], ['n', edge[0], edge[1], p.id])
  }
  return keys
}

const flat = (k: ListingKey): string => k.join('\u0000')

/** The `x` entry is listed as `['x', id, state, createdAt]` and stored as `['x', id]` -> `[state, createdAt]`. */
function put(dbs: RepoDbs, k: ListingKey, w: Writes): void {
  if (k[0] === 'x') w.put(dbs.listing, ['x', k[1]], [k[2], k[3]])
  else w.put(dbs.listing, k, true)
}

/**
 * Writes what changed between the keys `before` (of the projection as it
 * was, null for a new issue) and those of `next`. A comment changes none,
 * so most events write nothing here.
 */
export function writeListing(dbs: RepoDbs, before: ListingKey[] | null, next: IssueProjection, w: Writes): void {
  const after = listingKeys(next)
  if (before === null) {
    for (const k of after) put(dbs, k, w)
    return
  }
  const had = new Set(before.map(flat))
  const has = new Set<string>()
  for (const k of after) {
    const f = flat(k)
    has.add(f)
    if (!had.has(f)) put(dbs, k, w)
  }
  for (const k of before) if (k[0] !== 'x' && !has.has(flat(k))) w.remove(dbs.listing, k)
}

/** Every issue of the index with its state and creation (`x` entries), in id order. */
export function* indexedIssues(dbs: RepoDbs): Generator<IndexedIssue> {
  for (const { key, value } of dbs.listing.getRange({ start: ['x'], end: ['x', '\uffff'] })) {
    const [state, at] = value as [string, number]
    yield { id: (key as ListingKey)[1] as string, open: state === 'open', createdAt: at === INCOMPLETE_AT ? null : at }
  }
}

/** Every dependency edge of the index (`p` keys), with the issue that states it. */
export function* indexedEdges(dbs: RepoDbs): Generator<IndexedEdge> {
  for (const key of dbs.listing.getKeys({ start: ['p'], end: ['p', '\uffff'] })) {
    const k = key as ListingKey
    yield { after: k[1] as string, before: k[2] as string, declarer: k[3] as string }
  }
}
