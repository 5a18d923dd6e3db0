/**
 * claimNext as one step of the RepoWorker (DESIGN §5): the first ready
 * issue nobody holds, in ready order, is leased to the caller through the
 * lease gate and assigned to the caller's agent, in one synchronous step on
 * the repository's thread and one block on the store's write chain. Two
 * callers never win one issue: the second step sees the first one's lease
 * (the gate decides against every write in flight), and a runtime on
 * another home that claimed meanwhile makes the block refused and the step
 * run again on what the disk holds. The answer waits until the block is
 * durable, as every command's does.
 *
 * Candidates come from the writer's ready set (store/ready-set.ts), kept
 * current as issues change, so a claim costs the same on a board of a
 * thousand issues as on one of ten thousand, however many are claimed.
 *
 * `opId` makes a retried claim answer the same issue: if its lease is still
 * the caller's, it is renewed under a new lease id (the answer carrying the
 * first one may never have arrived); if it lapsed and the issue is still
 * ready and free, it is leased again; if someone else holds it now, or it
 * is no longer ready, the claim is lost: LEASE_LOST.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { EventKind } from '../../../protocol/events/types.ts'
import type { LeaseInfo } from '../../../protocol/messages.ts'
import type { LeaseGate, StagedLeaseWrites } from '../../../lib/kernel/ports/lease-gate.ts'
import { detachLists, type IssueProjection } from '../projection/index.ts'
import type { Batch } from '../store/event-store.ts'
import type { ReadySet } from '../store/ready-set.ts'
import { appendEvents } from './apply.ts'
import type { IssueCommand } from './parse.ts'

export type ClaimNextCommand = Extract<IssueCommand, { type: 'claim-next' }>

/** What a claim answers; null when nothing is claimable. */
export interface ClaimNextResult { issue: IssueProjection; lease: LeaseInfo; duplicate: boolean }

/** Grace of a lease that names none (policy.ts GRACE_MS). */
const DEFAULT_GRACE_MS = 5_000

/** When a lease granted now could be taken over: the moment its issue is a candidate again (the rules' takeoverTime). */
const takeoverOf = (l: LeaseInfo): number => Math.max(l.expiresAt, l.heartbeatAt + (l.graceMs ?? DEFAULT_GRACE_MS))

/**
 * Runs one claim in `batch`. Throws LEASE_HELD when a `repo:` lease held by
 * someone else keeps every issue from being claimed.
 * @example applyClaimNext(cmd, batch, store.readySet(), now, gate) // { issue, lease, duplicate: false } | null
 */
export function applyClaimNext(cmd: ClaimNextCommand, batch: Batch, ready: ReadySet, now: number, gate: LeaseGate): ClaimNextResult | null {
  const { appliedOps } = batch.dbs
  if (cmd.opId !== null) {
    const done = batch.get(appliedOps, cmd.opId)
    if (done !== undefined) {
      if (done.claim === undefined) throw new CairnError('INVALID_ARGUMENT', `opId ${cmd.opId} was used for another write, not a claim`, { field: 'opId' })
      const id = done.issueId
      const lost = (why: string): CairnError => new CairnError('LEASE_LOST', `the claim ${cmd.opId} on issue ${id} (token ${done.claim?.token}) lapsed and ${why}`,
        { resource: `issue:${id}`, token: done.claim?.token, issueId: id })
      let again: { lease: LeaseInfo; writes: StagedLeaseWrites['writes']; settle: StagedLeaseWrites['settle'] } | null =
        gate.reclaim({ issueId: id, actor: cmd.actor, token: done.claim.token, ttlMs: cmd.ttlMs, now })
      if (again === null) {
        if (!ready.has(id)) throw lost('the issue is no longer ready')
        const got = gate.claim({ issueId: id, holder: { actor: cmd.actor, session: cmd.session, agent: cmd.user }, ttlMs: cmd.ttlMs, now })
        if (!got.granted) throw lost(`it is held by ${got.conflict.holder.agent ?? got.conflict.holder.actor} now`)
        ready.hold(id, takeoverOf(got.lease))
        again = got
      }
      batch.stage(again)
      return { issue: detachLists(batch.issue(id) as IssueProjection), lease: again.lease, duplicate: true }
    }
  }
  const holder = { actor: cmd.actor, session: cmd.session, agent: cmd.user }
  // Claims released or broken before they could lapse are candidates again.
  const freed = gate.freed(ready.freedCursor)
  if (freed.stale) ready.unholdAll()
  else for (const id of freed.ids) ready.unhold(id)
  ready.freedCursor = freed.cursor
  // One named issue (won on the coordination remote): a candidate while ready; the gate decides the rest.
  const candidates = cmd.issue === null ? ready.free(now) : ready.has(cmd.issue) ? [cmd.issue] : []
  for (const id of candidates) {
    const p = batch.issue(id) as IssueProjection
    if (cmd.label !== null && !p.labels.includes(cmd.label)) continue
    const got = gate.claim({ issueId: id, holder, ttlMs: cmd.ttlMs, now })
    if (!got.granted) {
      if (got.wide) {
        const h = got.conflict
        throw new CairnError('LEASE_HELD', `${h.resource} is leased by ${h.holder.agent ?? h.holder.actor} until ${new Date(h.expiresAt).toISOString()}: no issue can be claimed before`,
          { resource: `issue:${id}`, heldBy: h })
      }
      ready.hold(id, got.conflict.takeoverAt)
      continue
    }
    ready.hold(id, takeoverOf(got.lease))
    batch.stage(got)
    const kinds: EventKind[] = p.assignees.includes(cmd.user) ? [] : [{ type: 'AssigneeAdded', user: cmd.user }]
    const { eventIds, seq } = appendEvents(batch, id, cmd.actor, kinds, now)
    if (cmd.opId !== null) batch.putKeyed(appliedOps, cmd.opId, { issueId: id, eventIds, seq, claim: { token: got.lease.token } })
    return { issue: detachLists(batch.issue(id) as IssueProjection), lease: got.lease, duplicate: false }
  }
  return null
}
