/**
 * `repo.issues.claimNext`: pick the next ready issue nobody holds, lease it
 * and record the claim (assign the agent), so two callers never win the
 * same issue.
 *
 * One request: the RepoWorker does all of it in one serial step on the
 * repository's thread (actors/repo-worker/commands/claim.ts) and answers
 * once the lease and the claim's event are durable, in one block. The lease
 * comes back as a handle that heartbeats (unless `autoRenew: false`) and
 * carries the lease id; pass it to `close(id, { lease })` to end the claim
 * with the issue.
 */
import { invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M, type LeaseInfo } from '../../protocol/messages.ts'
import type { IssueProjection } from '../../protocol/results.ts'
import type { Call } from './call.ts'
import type { LeaseHandle, LocksApi } from './locks.ts'
import { checkPlainFields } from './plain-data.ts'

export interface ClaimOptions {
  ttlMs: number
  label?: string
  autoRenew?: boolean
  /** A retried claim with the same opId answers the same issue (with its lease renewed, if still held). */
  opId?: string
  timeoutMs?: number
  signal?: AbortSignal
}
/** The claimed issue and its lease; null when nothing is claimable. `duplicate`: a retry (same opId) of an earlier claim. */
export type ClaimResult = { issue: IssueProjection; lease: LeaseHandle; duplicate: boolean } | null

export function claimNext(call: Call, locks: LocksApi, who: { actor: string; session: string; user: string }) {
  return async (opts: ClaimOptions): Promise<ClaimResult> => {
    if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with ttlMs')
    if (opts.autoRenew !== undefined && typeof opts.autoRenew !== 'boolean') throw invalidArgument('autoRenew', 'must be a boolean')
    const body = { actor: who.actor, session: who.session, user: who.user, ttlMs: opts.ttlMs, label: opts.label, opId: opts.opId }
    checkPlainFields(body)
    const sent = locks.monotonic()
    const got = await call<{ issue: IssueProjection; lease: LeaseInfo; duplicate: boolean } | null>(M.issueClaimNext, body,
      { timeoutMs: opts.timeoutMs, signal: opts.signal })
    if (got === null) return null
    return { issue: got.issue, lease: locks.adoptGranted(got.lease, opts.ttlMs, opts.autoRenew ?? true, sent), duplicate: got.duplicate }
  }
}
