/**
 * How the daemon acts for an agent on what it holds (holds.ts): renew a
 * hold with its lease id, end it, and tell a lapse from a passing failure.
 * Shared by the lock and issue operations, the agent heartbeat and the
 * process watch.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { LeaseInfo, RemoteLeaseInfo } from '../../../protocol/messages.ts'
import type { Repo } from '../../api/repo.ts'
import type { LeaseHandle } from '../../api/locks.ts'
import type { AgentHolds, Hold } from '../holds.ts'

/** A lapse as the agent's next command reports it (a coded warning). */
export interface Lapse {
  code: 'CLAIM_LAPSED'
  resource: string
  token: number
  issueId?: string
  /** When the lease was due to expire, as last renewed. */
  expiresAt: number
  message: string
}

/** Codes that mean the hold is over for good: it lapsed, was taken over, broken, or is not ours. */
const OVER = new Set(['LEASE_LOST', 'LEASE_NOT_HELD'])

/**
 * A handle over a hold, renewing and releasing with its id (no heartbeat).
 * Its own validity is left unbounded: whether a hold past its expiry is
 * still renewable (within its grace) is the keeper's to say, not this
 * process's clock.
 */
export function handleOf(repo: Repo, hold: Hold): LeaseHandle {
  const base = {
    resource: hold.resource, token: hold.token, ...(hold.leaseId !== '' ? { id: hold.leaseId } : {}), ttlMs: hold.ttlMs, holder: { actor: repo.actor, session: '' },
    grantedAt: 0, expiresAt: Number.MAX_SAFE_INTEGER, heartbeatAt: 0,
  }
  const info: LeaseInfo | RemoteLeaseInfo = hold.remote === undefined ? base : { ...base, scope: 'remote', remote: hold.remote, commit: '', graceMs: 0 }
  return repo.locks.adopt(info, hold.ttlMs, false)
}

/** What a hold looks like in answers: the lease id included (it is the caller's own). */
export function holdView(h: Hold): Record<string, unknown> {
  return {
    resource: h.resource, token: h.token, leaseId: h.leaseId, expiresAt: h.expiresAt, ttlMs: h.ttlMs,
    ...(h.issueId !== undefined ? { issueId: h.issueId } : {}), ...(h.remote !== undefined ? { remote: h.remote } : {}), ...(h.pid !== undefined ? { pid: h.pid } : {}),
  }
}

/**
 * Renews one hold for its ttl. A hold that is over is removed and returned
 * as a lapse; any other failure (the repository restarting, a remote out of
 * reach) keeps the hold and is thrown.
 */
export async function renewHold(repo: Repo, holds: AgentHolds, hold: Hold, ttlMs = hold.ttlMs): Promise<Hold | Lapse> {
  const h = handleOf(repo, hold)
  try {
    await h.renew(ttlMs)
  } catch (err) {
    const e = CairnError.from(err)
    if (!OVER.has(e.code)) throw e
    // Only the agent's own hold is forgotten: a lease named by token alone was never in it.
    if (holds.find(hold.resource)?.token === hold.token) holds.remove(hold.resource)
    if (hold.leaseId === '') throw e
    return {
      code: 'CLAIM_LAPSED', resource: hold.resource, token: hold.token, ...(hold.issueId !== undefined ? { issueId: hold.issueId } : {}),
      expiresAt: hold.expiresAt, message: `${hold.issueId !== undefined ? `the claim on issue ${hold.issueId}` : `the lease on ${hold.resource}`} (token ${hold.token}) is over: ${e.message}`,
    }
  } finally {
    h.dispose()
  }
  const renewed: Hold = { ...hold, ttlMs, expiresAt: h.expiresAt }
  if (holds.find(hold.resource)?.token === hold.token) holds.put(renewed)
  return renewed
}

export const isLapse = (x: Hold | Lapse): x is Lapse => 'code' in x
