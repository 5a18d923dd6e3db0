/**
 * The lease rules (DESIGN §5), pure: each decision reads a {@link LeaseSource}
 * and returns the lease it grants (or the error) and the changes to make.
 * No I/O, no clock reads, no randomness: time comes in as `now`, the lease
 * id's hash comes in with the request, and nothing is written here. The
 * LockKeeper's ledger (../ledger.ts) is the source in production (the store
 * plus its writes in flight); table.ts is an in-memory one for tests and
 * models.
 *
 * Liveness: a lease is live while `now < expiresAt` OR `now - heartbeatAt <
 * graceMs` (its own grace, else the `graceMs` argument). Grace protects a
 * holder whose renewal is late: nobody may take over until both have passed.
 *
 * Holders: a grant carries `idHash`, the SHA-256 of an unguessable lease id
 * that only the holder is told. Renewing or releasing needs the id
 * (LEASE_NOT_HELD otherwise, and nothing changes); ending another's lease
 * early is {@link decideBreak}, a separate, recorded operation. Leases stored
 * before they carried an id are held by whoever names their token.
 *
 * Fencing: the source's `lastToken` is the highest token ever granted (or
 * burned by a break) per resource and is never lowered, so tokens strictly
 * increase per resource across release, expiry, takeover and break.
 */
import { createHash } from 'node:crypto'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { LeaseInfo } from '../../../protocol/messages.ts'
import { MAX_GRACE_MS, MAX_TTL_MS } from '../../../protocol/limits.ts'
import { conflicts, parseResource, type Resource } from './resource.ts'

export interface Holder {
  /** The holding actor's id: 32 lowercase hex. */
  actor: string
  /** The actor's session (1..128 chars). */
  session: string
  /** The agent name the actor stands for, when known: for people reading lists. */
  agent?: string
}

/** A grant as it is stored: the wire's LeaseInfo without the id itself, with the id's hash. */
export type Lease = Omit<LeaseInfo, 'id'> & { idHash?: string }

/** What the rules read: the current leases and the last tokens. */
export interface LeaseSource {
  get(key: string): Lease | undefined
  /** Highest token ever granted or burned on `key`; 0 for none. */
  lastToken(key: string): number
  /** Every lease that may conflict with `resource` (a superset is fine: conflicts are checked here). */
  candidates(resource: Resource): Iterable<Lease>
}

/** Writes a decision asks for; `tokens` raise last tokens. */
export interface LeaseChanges {
  put: Lease[]
  remove: string[]
  tokens: Array<[key: string, token: number]>
}

export { MAX_GRACE_MS, MAX_TTL_MS }
export const MAX_SESSION_LENGTH = 128
const ACTOR_ID = /^[0-9a-f]{32}$/
const HASH = /^[0-9a-f]{64}$/

/**
 * The hash a lease stores for its id.
 * @example leaseIdHash('3f9c…') // 64 hex
 */
export function leaseIdHash(leaseId: string): string {
  return createHash('sha256').update(leaseId, 'utf8').digest('hex')
}

export function checkTime(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalidArgument(field, 'must be a non-negative safe integer')
  return value
}

export function checkTtl(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TTL_MS) {
    throw invalidArgument('ttlMs', `must be an integer from 1 to ${MAX_TTL_MS}`)
  }
  return value
}

export function checkGrace(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_GRACE_MS) {
    throw invalidArgument('graceMs', `must be an integer from 0 to ${MAX_GRACE_MS}`)
  }
  return value
}

export function checkToken(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalidArgument('token', 'must be a positive safe integer')
  return value
}

export function checkHolder(value: unknown): Holder {
  if (value === null || typeof value !== 'object') throw invalidArgument('holder', 'must be an object')
  const { actor, session, agent } = value as Record<string, unknown>
  if (typeof actor !== 'string' || !ACTOR_ID.test(actor)) throw invalidArgument('actor', 'must be 32 lowercase hex digits')
  if (typeof session !== 'string' || session.length < 1 || session.length > MAX_SESSION_LENGTH) {
    throw invalidArgument('session', `must be a string of 1 to ${MAX_SESSION_LENGTH} characters`)
  }
  if (agent !== undefined && (typeof agent !== 'string' || agent.length < 1 || agent.length > 128)) throw invalidArgument('agent', 'must be a string of 1 to 128 characters')
  // Copy only the named fields: the caller's object may carry more, or change later.
  return agent === undefined ? { actor, session } : { actor, session, agent }
}

/** The instant a lease becomes takeover-able: both TTL and grace (its own, else `graceMs`) have passed. */
export function takeoverTime(lease: Lease, graceMs: number): number {
  return Math.max(lease.expiresAt, lease.heartbeatAt + (lease.graceMs ?? graceMs))
}

export function isLive(lease: Lease, now: number, graceMs: number): boolean {
  return now < lease.expiresAt || now - lease.heartbeatAt < (lease.graceMs ?? graceMs)
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Stored keys are normal resources already; parsing one again is pure, so memoise (bounded). */
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

export function lost(resource: string, token: number, current: Lease | undefined, reason: string, more?: Record<string, unknown>): CairnError {
  return new CairnError('LEASE_LOST', `lease on ${resource} with token ${token} is lost: ${reason}`,
    { resource, token, currentToken: current?.token ?? null, ...more })
}

/**
 * LEASE_NOT_HELD unless `leaseId` proves holding `lease` (or the lease
 * predates ids). Nothing about the lease is given away: not its id, not
 * whether the one offered was close.
 */
function checkHolds(lease: Lease, leaseId: unknown, op: string): void {
  if (lease.idHash === undefined) return
  if (typeof leaseId !== 'string' || leaseId.length === 0 || leaseId.length > 128 || leaseIdHash(leaseId) !== lease.idHash) {
    throw new CairnError('LEASE_NOT_HELD', `${op} ${lease.resource} needs its holder's lease id: the lease with token ${lease.token} is held by ${lease.holder.agent ?? lease.holder.actor}`,
      { resource: lease.resource, token: lease.token, holder: { actor: lease.holder.actor, ...(lease.holder.agent ? { agent: lease.holder.agent } : {}) } })
  }
}

/**
 * The live lease conflicting with `resource` that has the smallest key, or
 * null; and the lapsed conflicting leases a grant replaces.
 */
export function conflictOf(src: LeaseSource, resource: Resource, now: number, graceMs: number): { conflict: Lease | null; lapsed: Lease[] } {
  let conflict: Lease | null = null
  const lapsed: Lease[] = []
  for (const lease of src.candidates(resource)) {
    if (!conflicts(resource, parsedKey(lease.resource))) continue
    if (isLive(lease, now, graceMs)) {
      if (conflict === null || compareStrings(lease.resource, conflict.resource) < 0) conflict = lease
    } else {
      lapsed.push(lease)
    }
  }
  return { conflict, lapsed: lapsed.sort((a, b) => compareStrings(a.resource, b.resource)) }
}

export type AcquireDecision =
  | { granted: true; lease: Lease; replaced: Lease[]; changes: LeaseChanges }
  | { granted: false; conflict: Lease }

/**
 * Grants a lease when no live lease conflicts with the resource, replacing
 * (and reporting) conflicting leases that lapsed. The same holder
 * re-acquiring a resource it holds gets the conflict like anyone else: one
 * token names one grant; to extend a lease, renew it.
 * @example decideAcquire(src, { resource: 'path:src', holder, ttlMs: 30_000, idHash }, now, 5_000)
 */
export function decideAcquire(
  src: LeaseSource,
  request: { resource: string; holder: Holder; ttlMs: number; graceMs?: number; idHash?: string },
  now: number,
  graceMs: number,
): AcquireDecision {
  const resource = parseResource(request.resource)
  const holder = checkHolder(request.holder)
  const ttlMs = checkTtl(request.ttlMs)
  checkTime('now', now)
  checkTime('graceMs', graceMs)
  const leaseGrace = request.graceMs === undefined ? graceMs : checkGrace(request.graceMs)
  if (request.idHash !== undefined && (typeof request.idHash !== 'string' || !HASH.test(request.idHash))) throw invalidArgument('idHash', 'must be 64 lowercase hex')
  const { conflict, lapsed } = conflictOf(src, resource, now, graceMs)
  if (conflict !== null) return { granted: false, conflict }
  const key = resource.key
  // The current lease's token counts too: a lost last token must still not hand out one in use.
  const token = Math.max(src.lastToken(key), src.get(key)?.token ?? 0) + 1
  const lease: Lease = { resource: key, holder, token, ttlMs, grantedAt: now, expiresAt: now + ttlMs, heartbeatAt: now, graceMs: leaseGrace }
  if (request.idHash !== undefined) lease.idHash = request.idHash
  return {
    granted: true,
    lease,
    replaced: lapsed,
    changes: { put: [lease], remove: lapsed.map((l) => l.resource).filter((k) => k !== key), tokens: [[key, token]] },
  }
}

function current(src: LeaseSource, resource: string, token: number): Lease {
  const lease = src.get(resource)
  if (lease === undefined) throw lost(resource, token, lease, 'no lease on the resource')
  if (lease.token !== token) throw lost(resource, token, lease, `the current token is ${lease.token}`)
  return lease
}

/**
 * Extends a live lease: `expiresAt = now + (ttlMs ?? lease.ttlMs)`,
 * heartbeat at `now`, same token. LEASE_LOST (details `{ resource, token,
 * currentToken }`) when there is no lease, the token is stale, or it lapsed
 * past grace (anyone may take it at any moment: re-acquire for a new token);
 * LEASE_NOT_HELD when `leaseId` is not the holder's.
 * @example decideRenew(src, { resource: 'path:src', token: 7, leaseId }, now, 5_000)
 */
export function decideRenew(
  src: LeaseSource,
  request: { resource: string; token: number; leaseId?: string; ttlMs?: number },
  now: number,
  graceMs: number,
): { lease: Lease; changes: LeaseChanges } {
  const { key } = parseResource(request.resource)
  const token = checkToken(request.token)
  const ttlOverride = request.ttlMs === undefined ? undefined : checkTtl(request.ttlMs)
  checkTime('now', now)
  checkTime('graceMs', graceMs)
  const lease = current(src, key, token)
  checkHolds(lease, request.leaseId, 'renewing')
  if (!isLive(lease, now, graceMs)) throw lost(key, token, lease, 'it lapsed past its grace period')
  const ttlMs = ttlOverride ?? lease.ttlMs
  const next: Lease = { ...lease, ttlMs, expiresAt: now + ttlMs, heartbeatAt: now }
  return { lease: next, changes: { put: [next], remove: [], tokens: [] } }
}

/**
 * Gives a lease up. LEASE_LOST when the token is not the current lease's;
 * LEASE_NOT_HELD when `leaseId` is not the holder's. A lapsed lease nobody
 * took over can still be released: no one else holds it.
 * @example decideRelease(src, { resource: 'path:src', token: 7, leaseId }, now)
 */
export function decideRelease(
  src: LeaseSource,
  request: { resource: string; token: number; leaseId?: string },
  now: number,
): { released: Lease; changes: LeaseChanges } {
  const { key } = parseResource(request.resource)
  const token = checkToken(request.token)
  checkTime('now', now)
  const lease = current(src, key, token)
  checkHolds(lease, request.leaseId, 'releasing')
  return { released: lease, changes: { put: [], remove: [key], tokens: [] } }
}

/**
 * Ends whatever lease is stored on exactly `resource`, live or not, and
 * burns one token: the next grant gets `broken.token + 2`, and the old
 * holder's token, renewals and fenced writes are refused. NOT_FOUND when
 * there is no lease to break. The caller records who, when and why.
 * @example decideBreak(src, { resource: 'path:src' }, now) // { broken, burned: 8, changes }
 */
export function decideBreak(src: LeaseSource, request: { resource: string }, now: number): { broken: Lease; burned: number; changes: LeaseChanges } {
  const { key } = parseResource(request.resource)
  checkTime('now', now)
  const lease = src.get(key)
  if (lease === undefined) throw new CairnError('NOT_FOUND', `no lease on ${key} to break`, { resource: key })
  const burned = Math.max(src.lastToken(key), lease.token) + 1
  return { broken: lease, burned, changes: { put: [], remove: [key], tokens: [[key, burned]] } }
}
