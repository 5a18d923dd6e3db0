/**
 * An in-memory lease table over the rules of rules.ts: plain,
 * JSON-serialisable data in, a new object out, inputs never mutated
 * (unchanged leases are shared between the old and the new table, so treat
 * every Lease as read-only). It is the reference model the tests and the
 * property tests step; the LockKeeper itself decides against its ledger
 * (the store plus its writes in flight), with the very same rules.
 *
 * Cost: every decision scans the whole table (O(n)); fine for a model.
 */
import { checkTime, decideAcquire, decideRelease, decideRenew, isLive, takeoverTime, type Holder, type Lease, type LeaseChanges, type LeaseSource } from './rules.ts'
import { invalidArgument } from '../../../protocol/errors.ts'
import { parseResource } from './resource.ts'

export { isLive, MAX_GRACE_MS, MAX_SESSION_LENGTH, MAX_TTL_MS, takeoverTime, type Holder, type Lease } from './rules.ts'

/** The whole table, plain data: persist it as is. */
export interface LeaseTable {
  /** Current leases by resource key, live or not yet cleaned up. */
  leases: Record<string, Lease>
  /** Highest token ever granted per resource key; never decreased or dropped. */
  lastToken: Record<string, number>
}

export type AcquireResult =
  | { granted: true; state: LeaseTable; lease: Lease; replaced: Lease[] }
  | { granted: false; conflict: Lease }

export interface LeaseStatus {
  lease: Lease | null
  live: boolean
  /** When the lease becomes takeover-able, or null when there is no lease. */
  takeoverAt: number | null
}

function checkRequest(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object') throw invalidArgument('request', 'must be an object')
  return value as Record<string, unknown>
}

/**
 * The table as a rules source.
 * @example decideAcquire(tableSource(table), request, now, 5_000)
 */
export function tableSource(state: LeaseTable): LeaseSource {
  return {
    get: (key) => (Object.hasOwn(state.leases, key) ? state.leases[key] : undefined),
    lastToken: (key) => (Object.hasOwn(state.lastToken, key) ? state.lastToken[key] as number : 0),
    candidates: () => Object.values(state.leases),
  }
}

/** The table after `changes`: a new object; unchanged leases shared. */
export function applyChanges(state: LeaseTable, changes: LeaseChanges): LeaseTable {
  const leases = { ...state.leases }
  for (const k of changes.remove) delete leases[k]
  for (const l of changes.put) leases[l.resource] = l
  const lastToken = changes.tokens.length === 0 ? state.lastToken : { ...state.lastToken }
  for (const [k, t] of changes.tokens) lastToken[k] = Math.max(lastToken[k] ?? 0, t)
  return { leases, lastToken }
}

function sortedLeases(state: LeaseTable): Lease[] {
  return Object.keys(state.leases).sort().map((k) => state.leases[k] as Lease)
}

/**
 * An empty table.
 * @example let table = emptyLeaseTable()
 */
export function emptyLeaseTable(): LeaseTable {
  return { leases: {}, lastToken: {} }
}

/**
 * Grants a lease when no live lease conflicts (see rules.ts decideAcquire);
 * otherwise returns the live conflicting lease with the smallest key.
 * @example
 *   const r = acquire(table, { resource: 'path:src', holder, ttlMs: 30_000 }, now, 5_000)
 *   if (!r.granted) throw new CairnError('LEASE_HELD', 'held', { holder: r.conflict.holder })
 */
export function acquire(
  state: LeaseTable,
  request: { resource: string; holder: Holder; ttlMs: number; graceMs?: number; idHash?: string },
  now: number,
  graceMs: number,
): AcquireResult {
  const r = decideAcquire(tableSource(state), checkRequest(request) as typeof request, now, graceMs)
  if (!r.granted) return r
  return { granted: true, state: applyChanges(state, r.changes), lease: r.lease, replaced: r.replaced }
}

/**
 * Extends a live lease (rules.ts decideRenew): LEASE_LOST when there is no
 * lease, the token is stale or it lapsed past grace; LEASE_NOT_HELD without
 * the holder's lease id.
 * @example ({ state: table } = renew(table, { resource: 'path:src', token: 7 }, now, 5_000))
 */
export function renew(
  state: LeaseTable,
  request: { resource: string; token: number; ttlMs?: number; leaseId?: string },
  now: number,
  graceMs: number,
): { state: LeaseTable; lease: Lease } {
  const r = decideRenew(tableSource(state), checkRequest(request) as typeof request, now, graceMs)
  return { state: applyChanges(state, r.changes), lease: r.lease }
}

/**
 * Gives a lease up (rules.ts decideRelease). `lastToken` is kept.
 * @example ({ state: table } = release(table, { resource: 'path:src', token: 7 }, now))
 */
export function release(
  state: LeaseTable,
  request: { resource: string; token: number; leaseId?: string },
  now: number,
): { state: LeaseTable; released: Lease } {
  const r = decideRelease(tableSource(state), checkRequest(request) as typeof request, now)
  return { state: applyChanges(state, r.changes), released: r.released }
}

/**
 * Removes takeover-able leases, returned in key order. Only housekeeping:
 * acquire already treats them as free. Tokens are kept.
 * @example const { state: next, expired } = expire(table, now, 5_000)
 */
export function expire(state: LeaseTable, now: number, graceMs: number): { state: LeaseTable; expired: Lease[] } {
  checkTime('now', now)
  checkTime('graceMs', graceMs)
  const expired = sortedLeases(state).filter((l) => !isLive(l, now, graceMs))
  return { state: applyChanges(state, { put: [], remove: expired.map((l) => l.resource), tokens: [] }), expired }
}

/**
 * The earliest time some lease becomes takeover-able (it may be in the past
 * for a lease nobody cleaned up), or null for an empty table.
 * @example const at = nextDeadline(table, 5_000); if (at !== null) clock.setTimer(at)
 */
export function nextDeadline(state: LeaseTable, graceMs: number): number | null {
  checkTime('graceMs', graceMs)
  let earliest: number | null = null
  for (const lease of Object.values(state.leases)) {
    const at = takeoverTime(lease, graceMs)
    if (earliest === null || at < earliest) earliest = at
  }
  return earliest
}

/**
 * The live leases at `now`, in resource key order.
 * @example liveLeases(table, now, 5_000).map((l) => l.resource)
 */
export function liveLeases(state: LeaseTable, now: number, graceMs: number): Lease[] {
  checkTime('now', now)
  checkTime('graceMs', graceMs)
  return sortedLeases(state).filter((l) => isLive(l, now, graceMs))
}

/**
 * The lease stored on exactly this resource (not on conflicting ones), whether
 * it is live, and when it becomes takeover-able.
 * @example status(table, 'issue:beef', now, 5_000) // { lease: null, live: false, takeoverAt: null }
 */
export function status(state: LeaseTable, resource: string, now: number, graceMs: number): LeaseStatus {
  const { key } = parseResource(resource)
  checkTime('now', now)
  checkTime('graceMs', graceMs)
  const lease = tableSource(state).get(key) ?? null
  if (lease === null) return { lease, live: false, takeoverAt: null }
  return { lease, live: isLive(lease, now, graceMs), takeoverAt: takeoverTime(lease, graceMs) }
}
