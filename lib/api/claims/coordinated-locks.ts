/**
 * Issue leases through a coordination remote (issue 19): when the repository
 * names one (`cairn.remote`), a local `locks.acquire('issue:<id>')` is a claim
 * like claimNext's: the issue's claim ref on the remote first (one push),
 * then the local lease, the two bound together (coordinated.ts bindClaim).
 * So an issue claimed or finished on another machine cannot be leased here,
 * and a lease taken here keeps other machines out.
 *
 * Refusals are LEASE_HELD naming the remote holder (or saying the issue is
 * done there); with `wait`, the remote claim is asked again until its holder
 * could be taken over or the wait ends. An unreachable remote is
 * UNREACHABLE: nothing is leased locally instead, unless the caller asks
 * `local: true`. Other resources, and remote-scope leases, are unchanged.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { ClaimRecord } from '../../../protocol/claim-record.ts'
import type { AcquireOptions, LocksApi } from '../locks.ts'
import type { LeaseHandle } from '../lease-handle/handle.ts'
import type { CoordinationApi } from './coordination.ts'
import { bindClaim } from './coordinated.ts'
import type { HeldClaim, RemoteClaims } from './remote-claims.ts'

const ISSUE_RESOURCE = /^issue:([0-9a-f]{32})$/
/** How often a waiting acquire asks the remote again, at most. */
const POLL_MS = 1_000
const MIN_POLL_MS = 50

export interface CoordinatedLocksDeps {
  who: { actor: string; session: string }
  coordination: CoordinationApi
  claims: RemoteClaims
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  if (signal?.aborted) return reject(new CairnError('ABORTED', 'acquire was aborted'))
  const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
  const onAbort = (): void => { clearTimeout(timer); reject(new CairnError('ABORTED', 'acquire was aborted')) }
  signal?.addEventListener('abort', onAbort, { once: true })
})

function held(issue: string, remote: string, r: ClaimRecord | null): CairnError {
  if (r !== null && r.state === 'done') {
    return new CairnError('LEASE_HELD', `issue:${issue} is done on the coordination remote ${remote} (finished by ${r.holder.actor})`,
      { resource: `issue:${issue}`, remote, done: true, heldBy: { holder: { actor: r.holder.actor } } })
  }
  if (r === null) return new CairnError('LEASE_HELD', `issue:${issue} is being claimed by another agent of this runtime`, { resource: `issue:${issue}`, remote })
  return new CairnError('LEASE_HELD', `issue:${issue} is claimed on the coordination remote ${remote} by ${r.holder.actor} until ${new Date(r.expiresAt).toISOString()}`,
    { resource: `issue:${issue}`, remote, heldBy: { holder: { actor: r.holder.actor }, expiresAt: r.expiresAt, takeoverAt: r.expiresAt + r.graceMs } })
}

/** `locks` whose local `issue:` leases go through the coordination remote when one is set. */
export function coordinatedLocks(locks: LocksApi, d: CoordinatedLocksDeps): LocksApi {
  const holder = { actor: d.who.actor, session: d.who.session }
  const acquire = async (resource: string, opts: AcquireOptions): Promise<LeaseHandle> => {
    if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with ttlMs')
    if (opts.local !== undefined && typeof opts.local !== 'boolean') throw invalidArgument('local', 'must be a boolean')
    const { local, ...plain } = opts
    const issue = typeof resource === 'string' ? ISSUE_RESOURCE.exec(resource)?.[1] : undefined
    // Anything the local acquire would refuse is refused by it, in its words, before the network.
    const valid = Number.isSafeInteger(plain.ttlMs) && plain.ttlMs > 0 && (plain.wait === undefined || (typeof plain.wait === 'object' && plain.wait !== null))
    if (issue === undefined || local === true || (plain.scope ?? 'local') !== 'local' || !valid) return locks.acquire(resource, plain)
    const remote = await d.coordination.get()
    if (remote === null) return locks.acquire(resource, plain)
    const waitMs = plain.wait?.timeoutMs ?? 0
    if (!Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > 600_000) throw invalidArgument('waitMs', 'must be an integer in 0..600000')
    const deadline = d.claims.now() + waitMs
    let claim: HeldClaim | null = null
    for (let round = 0; claim === null; round++) {
      plain.signal?.throwIfAborted()
      const attempt = await d.claims.claim(remote, issue, holder, plain.ttlMs)
      if (attempt.ok) {
        claim = attempt.claim
        break
      }
      const now = d.claims.now()
      const rec = attempt.record
      // Bounded: a done issue never frees; otherwise until the wait ends (at most one round per MIN_POLL_MS of it).
      if (attempt.why === 'done' || now >= deadline || round >= waitMs / MIN_POLL_MS) throw held(issue, remote, rec)
      const takeover = rec !== null ? rec.expiresAt + rec.graceMs : now + MIN_POLL_MS
      await sleep(Math.max(MIN_POLL_MS, Math.min(deadline - now, POLL_MS, takeover - now)), plain.signal)
    }
    let lease: LeaseHandle
    try {
      lease = await locks.acquire(resource, plain)
    } catch (err) {
      await d.claims.release(claim).catch(() => undefined)
      throw err
    }
    // Paused between the push and the local grant, the remote claim may have lapsed (and been taken) meanwhile.
    if (d.claims.now() >= claim.tip.record.expiresAt) {
      await lease.release().catch(() => undefined)
      await d.claims.release(claim).catch(() => undefined)
      throw new CairnError('LEASE_LOST', `the claim of issue ${issue} on ${remote} lapsed while it was being taken; acquire again`, { resource, token: claim.token })
    }
    bindClaim({ locks, claims: d.claims }, claim, lease)
    return lease
  }
  return { ...locks, acquire }
}
