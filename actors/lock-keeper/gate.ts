/**
 * The LockKeeper's LeaseGate (lib/kernel/ports/lease-gate.ts): the lease
 * check of every issue write, which issues are claimed, and the lease half
 * of a claim, decided against the ledger (the store plus every lease write
 * in flight on this thread) with the same rules as the LockKeeper's own
 * operations. Writes it stages ride in the RepoWorker's block.
 */
import { randomBytes } from 'node:crypto'
import type { LeaseInfo, LeaseView } from '../../protocol/messages.ts'
import type { ClaimGrant, LeaseGate, StagedLeaseWrites } from '../../lib/kernel/ports/lease-gate.ts'
import { decideAcquire, decideRelease, isLive, leaseIdHash, parseResource, takeoverTime, type Lease } from './leases.ts'
import { Ticket, type LeaseLedger } from './ledger.ts'
import { checkWrite, GRACE_MS } from './policy.ts'

/** A new lease id: 128 random bits, hex. */
export function newLeaseId(): string {
  return randomBytes(16).toString('hex')
}

/** What list and status show: everything but the id's hash. */
export function leaseView(lease: Lease, now: number): LeaseView {
  const { idHash: _hash, ...rest } = lease
  return { ...rest, live: isLive(lease, now, GRACE_MS), takeoverAt: takeoverTime(lease, GRACE_MS) }
}

/** Who holds the claim on an issue: its `issue:` lease while live, as list and status show it, or null. */
export function claimOf(lease: Lease | undefined, now: number): LeaseView | null {
  return lease !== undefined && isLive(lease, now, GRACE_MS) ? leaseView(lease, now) : null
}

/** What the holder is told: the lease with its id. */
export function leaseInfo(lease: Lease, id: string | undefined): LeaseInfo {
  const { idHash: _hash, ...rest } = lease
  return id === undefined ? rest : { ...rest, id }
}

export class LockGate implements LeaseGate {
  readonly #ledger: LeaseLedger
  readonly #onSettled: (granted: Lease) => void

  /** `onSettled` hears of every grant made through the gate once it is durable. */
  constructor(ledger: LeaseLedger, onSettled: (granted: Lease) => void = () => {}) {
    this.#ledger = ledger
    this.#onSettled = onSettled
  }

  policy() {
    return this.#ledger.policy()
  }

  checkWrite(w: { actor: string; issueId: string; token: number | null; now: number }) {
    const policy = this.#ledger.policy()
    if (policy === 'off' && w.token === null) return []
    const resource = parseResource(`issue:${w.issueId}`)
    return checkWrite({ policy, leases: this.#ledger.candidates(resource), now: w.now, actor: w.actor, resource, token: w.token,
      brokenBy: (r, t) => this.#ledger.breakOf(r, t) })
  }

  claimedBy(issueId: string, now: number): LeaseView | null {
    return claimOf(this.#ledger.get(`issue:${issueId}`), now)
  }

  claim(c: { issueId: string; holder: LeaseInfo['holder']; ttlMs: number; now: number }): ClaimGrant {
    const id = newLeaseId()
    const d = decideAcquire(this.#ledger, {
      resource: `issue:${c.issueId}`, holder: c.holder, ttlMs: c.ttlMs, graceMs: this.#ledger.grace(GRACE_MS), idHash: leaseIdHash(id),
    }, c.now, GRACE_MS)
    if (!d.granted) return { granted: false, conflict: leaseView(d.conflict, c.now), wide: d.conflict.resource.startsWith('repo:') }
    return { granted: true, lease: leaseInfo(d.lease, id), ...this.#staged(d.changes, d.lease) }
  }

  reclaim(c: { issueId: string; actor: string; token: number; ttlMs: number; now: number }): ({ lease: LeaseInfo } & StagedLeaseWrites) | null {
    const lease = this.#ledger.get(`issue:${c.issueId}`)
    if (lease === undefined || lease.token !== c.token || lease.holder.actor !== c.actor || !isLive(lease, c.now, GRACE_MS)) return null
    const id = newLeaseId()
    const next: Lease = { ...lease, idHash: leaseIdHash(id), ttlMs: c.ttlMs, expiresAt: c.now + c.ttlMs, heartbeatAt: c.now }
    return { lease: leaseInfo(next, id), ...this.#staged({ put: [next], remove: [], tokens: [] }, null) }
  }

  release(r: { issueId: string; token: number; leaseId: string; now: number }): StagedLeaseWrites {
    const d = decideRelease(this.#ledger, { resource: `issue:${r.issueId}`, token: r.token, leaseId: r.leaseId }, r.now)
    return this.#staged(d.changes, null)
  }

  freed(cursor: number): { cursor: number; ids: string[]; stale: boolean } {
    return this.#ledger.freed(cursor)
  }

  #staged(changes: Parameters<LeaseLedger['stage']>[0], granted: Lease | null): StagedLeaseWrites {
    const ticket = new Ticket()
    const writes = this.#ledger.stage(changes, ticket)
    let settled = false
    return {
      writes,
      settle: (applied) => {
        if (settled) return
        settled = true
        this.#ledger.settle(ticket, applied)
        if (applied && granted) this.#onSettled(granted)
      },
    }
  }
}
