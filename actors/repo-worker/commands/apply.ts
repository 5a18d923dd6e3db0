/**
 * Turns a validated issue command into grite events and ingests them into
 * its batch, so what a command checks (ids, prefixes, cycles) sees every
 * write adopted before it, committed or still in flight. A command that
 * fails its checks writes nothing.
 *
 * Timestamps: a command's events get `max(now, last event of the issue + 1)`
 * and count up from there. A write made after seeing an issue's state so
 * sorts after that state on every replica, even when another replica's
 * clock ran ahead; last-writer-wins then means "the writer who saw the
 * most", and the only cost is that such an issue's times drift forward.
 */
import { randomBytes } from 'node:crypto'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { eventIdWithPreimage } from '../../../protocol/events/canonical.ts'
import { chunkRecordBytes } from '../../../protocol/events/chunk.ts'
import type { EventKind } from '../../../protocol/events/types.ts'
import type { WriteResult } from '../../../protocol/messages.ts'
import { blockersOf, checkNewDependency, detachLists, type IssueProjection } from '../projection/index.ts'
import { parseResource, type Lease } from '../../lock-keeper/leases.ts'
import { checkWrite, type LeasePolicy } from '../../lock-keeper/policy.ts'
import type { Batch } from '../store/event-store.ts'
import type { IssueCommand } from './parse.ts'

/** A new issue id: 16 random bytes, as grite makes them. */
export function newIssueId(): string {
  return randomBytes(16).toString('hex')
}

/**
 * Applies one command; returns the reply value: the new issue for `create`,
 * a {@link WriteResult} otherwise. Throws a CairnError (and writes nothing)
 * when the command cannot apply.
 */
/** What the RepoWorker sees of the LockKeeper's state (read in the batch transaction). */
export interface LeaseGate {
  policy(): LeasePolicy
  covering(resourceKey: string): Lease[]
}

export function applyCommand(cmd: IssueCommand, batch: Batch, now: number, gate: LeaseGate): IssueProjection | WriteResult {
  const { appliedOps } = batch.dbs
  if (cmd.opId !== null) {
    const done = batch.get(appliedOps, cmd.opId)
    if (done !== undefined) {
      if (cmd.type === 'create') return detachLists(batch.issue(done.issueId) as IssueProjection)
      return { issueId: done.issueId, eventIds: done.eventIds, seq: done.seq, duplicate: true }
    }
  }
  const issueId = cmd.type === 'create' ? freshId(batch) : batch.resolve(cmd.id)
  const key = `issue:${issueId}`
  const policy = gate.policy()
  // With policy off and no token the check cannot refuse or warn: skip the lease reads.
  const warnings = policy === 'off' && cmd.leaseToken === null ? []
    : checkWrite({ policy, leases: gate.covering(key), now, actor: cmd.actor, resource: parseResource(key), token: cmd.leaseToken })
  const kinds = kindsOf(cmd, issueId, batch)
  const current = batch.issue(issueId)
  let ts = Math.max(now, (current?.lastEvent?.tsUnixMs ?? -1) + 1)
  let parent = current?.lastEventId ?? null
  const eventIds: string[] = []
  let seq = batch.seq
  for (const kind of kinds) {
    const input = { issueId, actor: cmd.actor, tsUnixMs: ts++, parent, kind }
    const { eventId, preimage } = eventIdWithPreimage(input)
    seq = batch.ingest({ ...input, eventId }, true, chunkRecordBytes(eventId, preimage)).seq
    eventIds.push(eventId)
    parent = eventId
  }
  if (cmd.opId !== null) batch.putKeyed(appliedOps, cmd.opId, { issueId, eventIds, seq })
  if (cmd.type === 'create') {
    // Answered once durable: by then a later command may have appended to the live projection's lists.
    const created = detachLists(batch.issue(issueId) as IssueProjection)
    return warnings.length > 0 ? { ...created, warnings } as IssueProjection : created
  }
  return warnings.length > 0 ? { issueId, eventIds, seq, duplicate: false, warnings } : { issueId, eventIds, seq, duplicate: false }
}

function freshId(batch: Batch): string {
  // 128 random bits; the loop only guards against a broken RNG handing out repeats.
  for (let i = 0; i < 4; i++) {
    const id = newIssueId()
    if (batch.issue(id) === undefined) return id
  }
  throw new CairnError('INTERNAL', 'could not draw an unused issue id')
}

function kindsOf(cmd: IssueCommand, issueId: string, batch: Batch): EventKind[] {
  switch (cmd.type) {
    case 'create':
      return [{ type: 'IssueCreated', title: cmd.title, body: cmd.body, labels: cmd.labels }]
    case 'update':
      return [{ type: 'IssueUpdated', title: cmd.title, body: cmd.body }]
    case 'comment':
      return [{ type: 'CommentAdded', body: cmd.body }]
    case 'state':
      return [{ type: 'StateChanged', state: cmd.state }]
    case 'label':
      return [
        ...cmd.add.map((label): EventKind => ({ type: 'LabelAdded', label })),
        ...cmd.remove.map((label): EventKind => ({ type: 'LabelRemoved', label })),
      ]
    case 'assign':
      return [
        ...cmd.add.map((user): EventKind => ({ type: 'AssigneeAdded', user })),
        ...cmd.remove.map((user): EventKind => ({ type: 'AssigneeRemoved', user })),
      ]
    case 'link':
      return [{ type: 'LinkAdded', url: cmd.url, note: cmd.note }]
    case 'attach':
      return [{ type: 'AttachmentAdded', name: cmd.name, sha256: cmd.sha256, mime: cmd.mime }]
    case 'claim': {
      const p = batch.issue(issueId) as IssueProjection
      if (p.incomplete || p.state !== 'open') throw new CairnError('NOT_FOUND', `issue ${issueId} is not open`, { issueId, reason: 'not-open' })
      const blockers = blockersOf(batch.projections(), issueId)
      if (blockers.length > 0) throw new CairnError('NOT_FOUND', `issue ${issueId} is blocked by ${blockers.join(', ')}`, { issueId, reason: 'blocked', blockers })
      return [{ type: 'AssigneeAdded', user: cmd.user }]
    }
    case 'depend': {
      const target = batch.resolve(cmd.target, 'target')
      // Refused both ways: no replica can have added it, so a removal is a caller's mistake.
      if (target === issueId) throw invalidArgument('target', 'is the issue itself')
      if (cmd.remove) return [{ type: 'DependencyRemoved', target, depType: cmd.depType }]
      checkNewDependency(batch.projections(), issueId, target, cmd.depType)
      return [{ type: 'DependencyAdded', target, depType: cmd.depType }]
    }
  }
}
