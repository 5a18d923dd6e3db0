/**
 * The lease table of the LockKeeper: a pure function core (DESIGN §5). No I/O,
 * no clock reads, no randomness: time comes in as `now` (ms), state comes in
 * as plain JSON-serialisable data and goes out as a new object. Inputs are
 * never mutated; unchanged leases are shared between the old and new table,
 * so treat every Lease as read-only.
 *
 * Resources and their conflicts are in ./resource.ts.
 *
 * Liveness: a lease is live while `now < expiresAt` OR `now - heartbeatAt <
 * graceMs`. The grace window protects a holder that heartbeated recently but
 * whose TTL lapsed (a slow renew, a GC pause): nobody may take over until
 * both have passed. From then on the lease is takeover-able: the next
 * conflicting acquire replaces it, and its holder can no longer renew.
 *
 * Grace is per lease: a grant records the grace in force (the request's, or
 * the `graceMs` argument), and that lease keeps it, so changing a
 * repository's grace never shortens the protection of a lease already
 * granted. The `graceMs` argument of every function is also the grace of a
 * lease stored before leases carried one.
 *
 * Fencing: `lastToken` holds the highest token ever granted per resource key
 * and is never lowered or forgotten, so each resource's tokens strictly
 * increase across release, expiry and takeover, and a stale holder's token is
 * always smaller than its successor's. A token identifies one grant.
 *
 * Cost: acquire scans every lease (O(n)); a LockKeeper holds leases per
 * repository, tens to hundreds, where a scan is cheaper than an index.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { LeaseInfo } from '../../../protocol/messages.ts'
import { conflicts, parseResource, type Resource } from './resource.ts'
import { MAX_GRACE_MS, MAX_TTL_MS } from '../../../protocol/limits.ts'

export interface Holder {
  /** The holding actor's id: 32 lowercase hex. */
  actor: string
  /** The actor's session (1..128 chars): a restarted actor is a new holder. */
  session: string
}

/** A grant as the table keeps it: exactly the wire's LeaseInfo (resource normalised, token the fencing token). */
export type Lease = LeaseInfo

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

export { MAX_GRACE_MS, MAX_TTL_MS }
export const MAX_SESSION_LENGTH = 128
const ACTOR_ID = /^[0-9a-f]{32}$/

function checkTime(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(field, 'must be a non-negative safe integer')
  }
  return value
}

function checkTtl(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TTL_MS) {
    throw invalidArgument('ttlMs', `must be an integer from 1 to ${MAX_TTL_MS}`)
  }
  return value
}

function checkGrace(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_GRACE_MS) {
    throw invalidArgument('graceMs', `must be an integer from 0 to ${MAX_GRACE_MS}`)
  }
  return value
}

function checkToken(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidArgument('token', 'must be a positive safe integer')
  }
  return value
}

function checkHolder(value: unknown): Holder {
  if (value === null || typeof value !== 'object') throw invalidArgument('holder', 'must be an object')
  const { actor, session } = value as Record<string, unknown>
  if (typeof actor !== 'string' || !ACTOR_ID.test(actor)) throw invalidArgument('actor', 'must be 32 lowercase hex digits')
  if (typeof session !== 'string' || session.length < 1 || session.length > MAX_SESSION_LENGTH) {
    throw invalidArgument('session', `must be a string of 1 to ${MAX_SESSION_LENGTH} characters`)
  }
  // Copy only the two fields: the caller's object may carry more, or change later.
  return { actor, session }
}

function checkRequest(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object') throw invalidArgument('request', 'must be an object')
  return value as Record<string, unknown>
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function leaseAt(state: LeaseTable, key: string): Lease | undefined {
  return Object.hasOwn(state.leases, key) ? state.leases[key] : undefined
}

/**
 * `[key, lease]` pairs in key order: every list this module returns is
 * deterministic. Work goes by the table key, which is the lease's `resource`.
 */
/** Lease keys are already normalised resources; parsing them again is pure, so memoise (bounded). */
const parsedKeys = new Map<string, Resource>()
function parsedKey(key: string): Resource {
  let r = parsedKeys.get(key)
  if (r === undefined) {
    if (parsedKeys.size >= 50_000) parsedKeys.clear()
    r = parseResource(key)
    parsedKeys.set(key, r)
  }
  return r
}

function sortedEntries(state: LeaseTable): Array<[string, Lease]> {
  return Object.keys(state.leases)
    .sort(compareStrings)
    .map((k) => [k, state.leases[k] as Lease])
}

/** The instant a lease becomes takeover-able: both TTL and grace (its own, else `graceMs`) have passed. */
export function takeoverTime(lease: Lease, graceMs: number): number {
  return Math.max(lease.expiresAt, lease.heartbeatAt + (lease.graceMs ?? graceMs))
}

export function isLive(lease: Lease, now: number, graceMs: number): boolean {
  return now < lease.expiresAt || now - lease.heartbeatAt < (lease.graceMs ?? graceMs)
}

function lost(resource: string, token: number, current: Lease | undefined, reason: string): CairnError {
  const currentToken = current?.token ?? null
  return new CairnError('LEASE_LOST', `lease on ${resource} with token ${token} is lost: ${reason}`, { resource, token, currentToken })
}

/**
 * An empty table.
 * @example let table = emptyLeaseTable()
 */
export function emptyLeaseTable(): LeaseTable {
  return { leases: {}, lastToken: {} }
}

/**
 * Grants a lease when no live lease conflicts with the resource, replacing
 * (and reporting) conflicting leases that are takeover-able. Otherwise
 * returns the live conflicting lease with the smallest resource key.
 *
 * The same holder re-acquiring a resource it holds live gets a conflict like
 * anyone else: a token must name exactly one grant, and handing out a second
 * token for a held lease would leave two valid tokens for one holder. To
 * extend a lease, {@link renew} it.
 * @example
 *   const r = acquire(table, { resource: 'path:src', holder, ttlMs: 30_000 }, now, 5_000)
 *   if (!r.granted) throw new CairnError('LEASE_HELD', 'held', { holder: r.conflict.holder })
 */
export function acquire(
  state: LeaseTable,
  request: { resource: string; holder: Holder; ttlMs: number; graceMs?: number },
  now: number,
  graceMs: number,
): AcquireResult {
  const req = checkRequest(request)
  const resource = parseResource(req.resource)
  const holder = checkHolder(req.holder)
  const ttlMs = checkTtl(req.ttlMs)
  checkTime('now', now)
  checkTime('graceMs', graceMs)
  const leaseGrace = req.graceMs === undefined ? graceMs : checkGrace(req.graceMs)

  // One pass, no sort: this runs for every acquire attempt, and claimNext
  // makes many (sorting and re-parsing every key here dominated its profile).
  let conflict: Lease | null = null
  const replacedKeys: string[] = []
  for (const k in state.leases) {
    if (!conflicts(resource, parsedKey(k))) continue
    const lease = state.leases[k] as Lease
    if (isLive(lease, now, graceMs)) {
      if (conflict === null || compareStrings(k, conflict.resource) < 0) conflict = lease
    } else if (conflict === null) {
      replacedKeys.push(k)
    }
  }
  if (conflict !== null) return { granted: false, conflict }
  replacedKeys.sort(compareStrings)
  const replaced = replacedKeys.map((k) => state.leases[k] as Lease)
  const key = resource.key
  // The current lease's token counts too, so a table whose lastToken was lost
  // still cannot hand out a token its holder may be using.
  const token = Math.max(state.lastToken[key] ?? 0, leaseAt(state, key)?.token ?? 0) + 1
  const lease: Lease = { resource: key, holder, token, ttlMs, grantedAt: now, expiresAt: now + ttlMs, heartbeatAt: now, graceMs: leaseGrace }
  const leases = { ...state.leases }
  for (const k of replacedKeys) delete leases[k]
  leases[key] = lease
  return { granted: true, state: { leases, lastToken: { ...state.lastToken, [key]: token } }, lease, replaced }
}

/**
 * Extends a live lease: `expiresAt = now + (ttlMs ?? lease.ttlMs)`, heartbeat
 * at `now`, same token. LEASE_LOST (details `{ resource, token, currentToken }`)
 * when there is no lease, the token is stale, or the lease lapsed past grace:
 * then anyone may take it at any moment, so the holder must re-acquire and get
 * a new token rather than keep writing under the old one.
 * @example ({ state: table } = renew(table, { resource: 'path:src', token: 7 }, now, 5_000))
 */
export function renew(
  state: LeaseTable,
  request: { resource: string; token: number; ttlMs?: number },
  now: number,
  graceMs: number,
): { state: LeaseTable; lease: Lease } {
  const req = checkRequest(request)
  const { key } = parseResource(req.resource)
  const token = checkToken(req.token)
  const ttlOverride = req.ttlMs === undefined ? undefined : checkTtl(req.ttlMs)
  checkTime('now', now)
  checkTime('graceMs', graceMs)

  const current = leaseAt(state, key)
  if (current === undefined) throw lost(key, token, current, 'no lease on the resource')
  if (current.token !== token) throw lost(key, token, current, `the current token is ${current.token}`)
  if (!isLive(current, now, graceMs)) throw lost(key, token, current, 'it lapsed past its grace period')
  const ttlMs = ttlOverride ?? current.ttlMs
  const lease: Lease = { ...current, ttlMs, expiresAt: now + ttlMs, heartbeatAt: now }
  return { state: { leases: { ...state.leases, [key]: lease }, lastToken: state.lastToken }, lease }
}

/**
 * Gives a lease up. LEASE_LOST when the token is not the current lease's. A
 * lapsed lease that nobody took over yet can still be released: no one else
 * holds it (a takeover would have replaced it). `lastToken` is kept.
 * @example ({ state: table } = release(table, { resource: 'path:src', token: 7 }, now))
 */
export function release(
  state: LeaseTable,
  request: { resource: string; token: number },
  now: number,
): { state: LeaseTable; released: Lease } {
  const req = checkRequest(request)
  const { key } = parseResource(req.resource)
  const token = checkToken(req.token)
  checkTime('now', now)

  const current = leaseAt(state, key)
  if (current === undefined) throw lost(key, token, current, 'no lease on the resource')
  if (current.token !== token) throw lost(key, token, current, `the current token is ${current.token}`)
  const leases = { ...state.leases }
  delete leases[key]
  return { state: { leases, lastToken: state.lastToken }, released: current }
}

/**
 * Removes takeover-able leases, returned in key order. Only housekeeping:
 * acquire already treats them as free. Tokens are kept.
 * @example const { state: next, expired } = expire(table, now, 5_000)
 */
export function expire(state: LeaseTable, now: number, graceMs: number): { state: LeaseTable; expired: Lease[] } {
  checkTime('now', now)
  checkTime('graceMs', graceMs)
  const leases = { ...state.leases }
  const expired: Lease[] = []
  for (const [k, lease] of sortedEntries(state)) {
    if (isLive(lease, now, graceMs)) continue
    expired.push(lease)
    delete leases[k]
  }
  return { state: { leases, lastToken: state.lastToken }, expired }
}

/**
 * The earliest time some lease becomes takeover-able (it may be in the past
 * for a lease nobody cleaned up), or null for an empty table. Arm one timer
 * for it and call {@link expire} when it fires.
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
  return sortedEntries(state)
    .map(([, l]) => l)
    .filter((l) => isLive(l, now, graceMs))
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
  const lease = leaseAt(state, key) ?? null
  if (lease === null) return { lease, live: false, takeoverAt: null }
  return { lease, live: isLive(lease, now, graceMs), takeoverAt: takeoverTime(lease, graceMs) }
}
