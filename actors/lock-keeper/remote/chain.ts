/**
 * Cross-machine leases (DESIGN §5), pure: what the next commit of a lease
 * chain is, and whether the chain's tip still holds the resource. No I/O, no
 * clock reads: `now` comes in.
 *
 * A lease ref `refs/cairn/leases/<first 16 hex of sha256(resource)>` is a
 * commit chain that only fast-forwards, so a commit's `seq` (parent's + 1) is
 * the chain's length at it. An acquire commit's `seq` is the lease's epoch,
 * its fencing token: epochs strictly increase per resource (until someone
 * deletes the ref by hand, which restarts them: never do that). Renew and
 * release commits repeat the epoch and holder of the lease they extend.
 *
 * Time: `expiresAt` and `heartbeatAt` are on the holder's clock. Another
 * machine may take over once ITS clock reads `expiresAt + graceMs`, with the
 * holder's graceMs (written in the lease, so every machine applies the same
 * one). A holder that stops renewing stops working at its own `expiresAt`
 * (the handle aborts), so a clock running up to graceMs ahead of the
 * holder's never lets two machines work at once; a clock behind only delays
 * the takeover. A holder heartbeating every ttl/3 keeps its expiry at least
 * ~2/3 ttl ahead, so a live holder is never taken over unless the skew
 * exceeds graceMs + 2/3 ttl minus one renewal's latency.
 *
 * Conflicts: a chain excludes exactly its own resource key. `path:a` and
 * `path:a/b` (or `repo:x` and anything) are two chains, and git offers no
 * compare-and-swap over two refs in one push (libgit2 has no atomic push),
 * so checking one chain and then appending to another would be a race, not
 * a rule: remote leases do not conflict hierarchically. Callers agree on one
 * granularity per kind of resource. (A sound alternative: one chain per
 * remote holding the whole table, at the price of every lease contending on
 * it.) Local leases keep their hierarchy; the two scopes never see each other.
 */
import { createHash } from 'node:crypto'
import { CairnError } from '../../../protocol/errors.ts'
import type { LeaseRecord } from '../../../lib/kernel/ports/lease-refs.ts'
import { leaseIdHash } from '../leases.ts'

export const LEASE_REF_PREFIX = 'refs/cairn/leases/'

export interface Holder { actor: string; session: string }

/**
 * The ref of a resource key's lease chain.
 * @example leaseRef('issue:beef') // 'refs/cairn/leases/' + first 16 hex of sha256('issue:beef')
 */
export function leaseRef(resource: string): string {
  return LEASE_REF_PREFIX + createHash('sha256').update(resource, 'utf8').digest('hex').slice(0, 16)
}

/** When others may take over: at once after a release or a break, else `expiresAt + graceMs` on their clock. */
export function takeoverAt(r: LeaseRecord): number {
  return r.op === 'release' || r.op === 'break' ? 0 : r.expiresAt + r.graceMs
}

/** True while the record still holds its resource at `now`. */
export function isLive(r: LeaseRecord, now: number): boolean {
  return now < takeoverAt(r)
}

const sameHolder = (a: Holder, b: Holder): boolean => a.actor === b.actor && a.session === b.session

/**
 * The acquire commit to append on `tip` (null: no chain yet), or the live
 * lease in the way. The same holder re-acquiring a lease it holds is in the
 * way too: one token must name one grant (as in the local table).
 * @example acquireRecord(null, { resource: 'path:a', holder, ttlMs: 30_000, graceMs: 5_000 }, now) // { ok: true, record: { epoch: 1, seq: 1, ... } }
 */
export function acquireRecord(
  tip: LeaseRecord | null,
  req: { resource: string; holder: Holder; ttlMs: number; graceMs: number; idHash?: string },
  now: number,
): { ok: true; record: LeaseRecord } | { ok: false; held: LeaseRecord } {
  if (tip !== null && isLive(tip, now)) return { ok: false, held: tip }
  const seq = (tip?.seq ?? 0) + 1
  return {
    ok: true,
    record: {
      v: 1, op: 'acquire', resource: req.resource, holder: { actor: req.holder.actor, session: req.holder.session },
      epoch: seq, seq, ttlMs: req.ttlMs, graceMs: req.graceMs, grantedAt: now, expiresAt: now + req.ttlMs, heartbeatAt: now,
      ...(req.idHash !== undefined ? { idHash: req.idHash } : {}),
    },
  }
}

function lost(tip: LeaseRecord | null, resource: string, token: number, reason: string): CairnError {
  return new CairnError('LEASE_LOST', `remote lease on ${resource} with epoch ${token} is lost: ${reason}`,
    { resource, token, currentToken: tip?.epoch ?? null })
}

/**
 * LEASE_LOST unless `tip` is the lease with epoch `token`, neither released
 * nor broken; LEASE_NOT_HELD unless `leaseId` proves holding it (a lease
 * without an id: unless the caller is its holder session).
 */
function checkOwn(tip: LeaseRecord | null, resource: string, token: number, holder: Holder, leaseId: string | undefined): LeaseRecord {
  if (tip === null) throw lost(tip, resource, token, 'the remote has no lease chain for it')
  if (tip.epoch !== token) throw lost(tip, resource, token, `the chain moved on to epoch ${tip.epoch}`)
  if (tip.op === 'break' && tip.broken) {
    const b = tip.broken
    throw new CairnError('LEASE_LOST', `remote lease on ${resource} with epoch ${token} is lost: broken by ${b.by.agent ?? b.by.actor} at ${new Date(b.at).toISOString()} (${b.reason})`,
      { resource, token, currentToken: null, broken: { resource, token, burned: tip.seq, holder: tip.holder, by: b.by, at: b.at, reason: b.reason } })
  }
  if (tip.idHash !== undefined) {
    if (leaseId === undefined || leaseIdHash(leaseId) !== tip.idHash) {
      throw new CairnError('LEASE_NOT_HELD', `remote lease on ${resource} with epoch ${token} is held by ${tip.holder.actor}: renewing or releasing it needs its lease id`,
        { resource, token, holder: { actor: tip.holder.actor } })
    }
  } else if (!sameHolder(tip.holder, holder)) {
    throw lost(tip, resource, token, 'another holder wrote that epoch')
  }
  if (tip.op === 'release') throw lost(tip, resource, token, 'it was released')
  return tip
}

/**
 * The renew commit extending the caller's lease at `tip`; LEASE_LOST when
 * the tip is not that lease or it lapsed past its grace (anyone may be
 * taking it over now: re-acquire for a new epoch instead).
 * @example renewRecord(tip, { resource, token: 7, holder }, now) // { op: 'renew', epoch: 7, seq: tip.seq + 1, ... }
 */
export function renewRecord(tip: LeaseRecord | null, req: { resource: string; token: number; holder: Holder; leaseId?: string; ttlMs?: number }, now: number): LeaseRecord {
  const own = checkOwn(tip, req.resource, req.token, req.holder, req.leaseId)
  if (!isLive(own, now)) throw lost(own, req.resource, req.token, 'it lapsed past its grace period')
  const ttlMs = req.ttlMs ?? own.ttlMs
  return { ...own, holder: { ...own.holder }, op: 'renew', seq: own.seq + 1, ttlMs, expiresAt: now + ttlMs, heartbeatAt: now }
}

/**
 * The release commit ending the caller's lease at `tip` (expiry 0). A lapsed
 * lease nobody took over can still be released, as locally.
 * @example releaseRecord(tip, { resource, token: 7, holder }, now) // { op: 'release', expiresAt: 0, ... }
 */
export function releaseRecord(tip: LeaseRecord | null, req: { resource: string; token: number; holder: Holder; leaseId?: string }, now: number): LeaseRecord {
  const own = checkOwn(tip, req.resource, req.token, req.holder, req.leaseId)
  return { ...own, holder: { ...own.holder }, op: 'release', seq: own.seq + 1, expiresAt: 0, heartbeatAt: now }
}

/**
 * The break commit ending whatever lease is at the tip (live or lapsed),
 * recording who, when and why; NOT_FOUND when nothing is held there.
 * @example breakRecord(tip, { resource, by: { actor }, reason: 'holder crashed' }, now) // { op: 'break', expiresAt: 0, broken, ... }
 */
export function breakRecord(tip: LeaseRecord | null, req: { resource: string; by: { actor: string; agent?: string }; reason: string }, now: number): LeaseRecord {
  if (tip === null || tip.op === 'release' || tip.op === 'break') throw new CairnError('NOT_FOUND', `no remote lease on ${req.resource} to break`, { resource: req.resource })
  const { idHash: _hash, ...rest } = tip
  return { ...rest, holder: { ...tip.holder }, op: 'break', seq: tip.seq + 1, expiresAt: 0, heartbeatAt: now, broken: { by: { ...req.by }, at: now, reason: req.reason } }
}

/** A lease as list/status/LEASE_HELD show it: no epoch, which only its holder should hold. */
export function remoteView(r: LeaseRecord, now: number, remote: string, commit: string): Record<string, unknown> {
  return {
    scope: 'remote', remote, commit, resource: r.resource, holder: { ...r.holder }, ttlMs: r.ttlMs, graceMs: r.graceMs,
    grantedAt: r.grantedAt, expiresAt: r.expiresAt, heartbeatAt: r.heartbeatAt, released: r.op === 'release' || r.op === 'break',
    live: isLive(r, now), takeoverAt: takeoverAt(r),
  }
}
