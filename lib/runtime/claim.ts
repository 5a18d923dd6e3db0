/**
 * `repo.issues.claimNext`: pick the next ready issue nobody holds, lease it
 * and record the claim, so that two callers never win the same issue.
 *
 * The LockKeeper's acquire is the atomic step: of all callers racing for
 * `issue:<id>`, exactly one gets the lease. The winner then records the
 * claim (an AssigneeAdded event) through the RepoWorker fenced by its token,
 * which re-checks, in the write transaction, that the issue is still open
 * and unblocked; if it is not (closed or blocked meanwhile) the lease is
 * released and the next candidate is tried. Candidates come in `ready()`
 * order: earliest created first.
 */
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { IssueProjection } from '../../actors/repo-worker/projection/index.ts'
import type { IssueSummary } from '../../actors/repo-worker/queries.ts'
import type { Call } from './repo.ts'
import type { LeaseHandle, LocksApi } from './repo-locks.ts'

export interface ClaimOptions { label?: string; ttlMs: number; autoRenew?: boolean }
export type ClaimResult = { issue: IssueProjection; lease: LeaseHandle } | null

const ROUNDS = 3
const CANDIDATES_PER_ROUND = 64
const SKIP = new Set(['LEASE_HELD', 'LEASE_LOST', 'NOT_FOUND'])

export function claimNext(call: Call, locks: LocksApi, who: { actor: string; user: string }) {
  return async (opts: ClaimOptions): Promise<ClaimResult> => {
    if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with ttlMs')
    if (opts.label !== undefined && typeof opts.label !== 'string') throw invalidArgument('label', 'must be a string')
    for (let round = 0; round < ROUNDS; round++) {
      const ready = await call<IssueSummary[]>(M.issueReady, { label: opts.label })
      if (ready.length === 0) return null
      const held = new Set((await locks.list()).filter((l) => l.live).map((l) => l.resource))
      const free = ready.filter((i) => !held.has(`issue:${i.id}`)).slice(0, CANDIDATES_PER_ROUND)
      if (free.length === 0) return null
      for (const candidate of free) {
        let lease: LeaseHandle
        try {
          lease = await locks.acquire(`issue:${candidate.id}`, { ttlMs: opts.ttlMs, autoRenew: opts.autoRenew })
        } catch (err) {
          if (err instanceof CairnError && SKIP.has(err.code)) continue
          throw err
        }
        try {
          await call(M.issueClaim, { id: candidate.id, actor: who.actor, user: who.user, leaseToken: lease.token })
          return { issue: await call<IssueProjection>(M.issueShow, { id: candidate.id }), lease }
        } catch (err) {
          await lease.release().catch(() => undefined)
          if (err instanceof CairnError && SKIP.has(err.code)) continue
          throw err
        }
      }
    }
    return null
  }
}
