/**
 * `repo.issues.claimNext`: pick the next ready issue nobody holds, lease it
 * and record the claim, so that two callers never win the same issue.
 *
 * The LockKeeper is the atomic step: each caller sends the first few ready,
 * unleased issues and the LockKeeper, in its serial batch, leases the first
 * one still free, so 50 callers racing get 50 different issues in one round
 * instead of all colliding on the earliest. The winner then records the
 * claim (an AssigneeAdded event) through the RepoWorker fenced by its token,
 * which re-checks, in the write transaction, that the issue is still open
 * and unblocked; if it is not (closed or blocked meanwhile) the lease is
 * released and the next candidate is tried. Candidates come in `ready()`
 * order: earliest created first.
 */
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { IssueProjection } from '../../protocol/results.ts'
import type { IssueSummary } from '../../protocol/results.ts'
import type { Call } from './call.ts'
import type { LeaseHandle, LocksApi } from './locks.ts'
import type { LeaseInfo } from '../../protocol/messages.ts'

export interface ClaimOptions { label?: string; ttlMs: number; autoRenew?: boolean }
export type ClaimResult = { issue: IssueProjection; lease: LeaseHandle } | null

const ROUNDS = 8
const CANDIDATES_PER_ROUND = 64
const SKIP = new Set(['LEASE_HELD', 'LEASE_LOST', 'NOT_FOUND'])

type LockCall = <T>(type: string, body: Record<string, unknown>) => Promise<T>

export function claimNext(call: Call, lockCall: LockCall, locks: LocksApi, who: { actor: string; session: string; user: string }) {
  return async (opts: ClaimOptions): Promise<ClaimResult> => {
    if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with ttlMs')
    if (opts.label !== undefined && typeof opts.label !== 'string') throw invalidArgument('label', 'must be a string')
    const skip = new Set<string>()
    for (let round = 0; round < ROUNDS; round++) {
      const ready = await call<IssueSummary[]>(M.issueReady, { label: opts.label, unleased: true, limit: CANDIDATES_PER_ROUND + skip.size })
      const candidates = ready.map((i) => i.id).filter((id) => !skip.has(id)).slice(0, CANDIDATES_PER_ROUND)
      if (candidates.length === 0) return null
      // One atomic step in the LockKeeper: the first candidate nobody holds is leased to us.
      const info = await lockCall<LeaseInfo | null>(M.lockClaimFirst, {
        resources: candidates.map((id) => `issue:${id}`), actor: who.actor, session: who.session, ttlMs: opts.ttlMs,
      })
      if (info === null) continue // every candidate was taken meanwhile; the next round sees fresh ones
      const lease = locks.adopt(info, opts.ttlMs, opts.autoRenew ?? true)
      const id = info.resource.slice('issue:'.length)
      try {
        await call(M.issueClaim, { id, actor: who.actor, user: who.user, leaseToken: lease.token })
        return { issue: await call<IssueProjection>(M.issueShow, { id }), lease }
      } catch (err) {
        await lease.release().catch(() => undefined)
        if (!(err instanceof CairnError) || !SKIP.has(err.code)) throw err
        skip.add(id) // closed or blocked since ready() said otherwise
      }
    }
    return null
  }
}
