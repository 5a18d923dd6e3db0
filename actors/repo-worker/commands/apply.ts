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
import type { LeaseGate } from '../../../lib/kernel/ports/lease-gate.ts'
import { checkNewDependencyIn, detachLists, type IssueProjection } from '../projection/index.ts'
import type { Batch } from '../store/event-store.ts'
import type { IssueCommand } from './parse.ts'

export type { LeaseGate }

/** A new issue id: 16 random bytes, as grite makes them. */
export function newIssueId(): string {
  return randomBytes(16).toString('hex')
}

/**
 * Appends `kinds` as the issue's next events by `actor`, timestamped from
 * `max(now, its last event + 1)` up, each the parent of the next.
 */
export function appendEvents(batch: Batch, issueId: string, actor: string, kinds: EventKind[], now: number): { eventIds: string[]; seq: number } {
  const current = batch.issue(issueId)
  let ts = Math.max(now, (current?.lastEvent?.tsUnixMs ?? -1) + 1)
  let parent = current?.lastEventId ?? null
  const eventIds: string[] = []
  let seq = batch.seq
  for (const kind of kinds) {
    const input = { issueId, actor, tsUnixMs: ts++, parent, kind }
    const { eventId, preimage } = eventIdWithPreimage(input)
    seq = batch.ingest({ ...input, eventId }, true, chunkRecordBytes(eventId, preimage)).seq
    eventIds.push(eventId)
    parent = eventId
  }
  return { eventIds, seq }
}

/**
 * Applies one command; returns the reply value: the new issue for `create`,
 * a {@link WriteResult} otherwise. Throws a CairnError (and writes nothing)
 * when the command cannot apply. A command that would change nothing
 * (closing a closed issue, adding a label it has) logs no event and answers
 * `noop: true`.
 */
export function applyCommand(cmd: Exclude<IssueCommand, { type: 'claim-next' }>, batch: Batch, now: number, gate: LeaseGate): IssueProjection | WriteResult {
  const { appliedOps } = batch.dbs
  if (cmd.opId !== null) {
    const done = batch.get(appliedOps, cmd.opId)
    if (done !== undefined) {
      if (cmd.type === 'create') return detachLists(batch.issue(done.issueId) as IssueProjection)
      return { issueId: done.issueId, eventIds: done.eventIds, seq: done.seq, duplicate: true }
    }
  }
  const issueId = cmd.type === 'create' ? freshId(batch) : batch.resolve(cmd.id)
  const warnings = gate.checkWrite({ actor: cmd.actor, issueId, token: cmd.leaseToken, now })
  const kinds = kindsOf(cmd, issueId, batch)
  const { eventIds, seq } = kinds.length > 0 ? appendEvents(batch, issueId, cmd.actor, kinds, now) : { eventIds: [], seq: batch.seq }
  // Closing with the claim's lease ends the claim: the lease goes in the same block.
  const released = cmd.type === 'state' && cmd.state === 'closed' && cmd.leaseId !== null && cmd.leaseToken !== null
  if (released) batch.stage(gate.release({ issueId, token: cmd.leaseToken as number, leaseId: cmd.leaseId as string, now }))
  if (cmd.opId !== null) batch.putKeyed(appliedOps, cmd.opId, { issueId, eventIds, seq })
  if (cmd.type === 'create') {
    // Answered once durable: by then a later command may have appended to the live projection's lists.
    const created = detachLists(batch.issue(issueId) as IssueProjection)
    return warnings.length > 0 ? { ...created, warnings } as IssueProjection : created
  }
  return {
    issueId, eventIds, seq, duplicate: false,
    ...(kinds.length === 0 ? { noop: true } : {}),
    ...(released ? { released: true } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  }
}

function freshId(batch: Batch): string {
  // 128 random bits; the loop only guards against a broken RNG handing out repeats.
  for (let i = 0; i < 4; i++) {
    const id = newIssueId()
    if (batch.issue(id) === undefined) return id
  }
  throw new CairnError('INTERNAL', 'could not draw an unused issue id')
}

/** The events a command makes, without those that would change nothing. */
function kindsOf(cmd: Exclude<IssueCommand, { type: 'claim-next' }>, issueId: string, batch: Batch): EventKind[] {
  const current = batch.issue(issueId)
  switch (cmd.type) {
    case 'create':
      return [{ type: 'IssueCreated', title: cmd.title, body: cmd.body, labels: cmd.labels }]
    case 'update': {
      const title = cmd.title !== null && cmd.title !== current?.title ? cmd.title : null
      const body = cmd.body !== null && cmd.body !== current?.body ? cmd.body : null
      return title === null && body === null ? [] : [{ type: 'IssueUpdated', title, body }]
    }
    case 'comment':
      return [{ type: 'CommentAdded', body: cmd.body }]
    case 'state':
      if (current?.state === cmd.state) return []
      return [
        ...(cmd.reason !== null ? [{ type: 'CommentAdded', body: cmd.reason } satisfies EventKind] : []),
        { type: 'StateChanged', state: cmd.state },
      ]
    case 'label': {
      const has = new Set(current?.labels ?? [])
      return [
        ...cmd.add.filter((l) => !has.has(l)).map((label): EventKind => ({ type: 'LabelAdded', label })),
        ...cmd.remove.filter((l) => has.has(l)).map((label): EventKind => ({ type: 'LabelRemoved', label })),
      ]
    }
    case 'assign': {
      const has = new Set(current?.assignees ?? [])
      return [
        ...cmd.add.filter((u) => !has.has(u)).map((user): EventKind => ({ type: 'AssigneeAdded', user })),
        ...cmd.remove.filter((u) => has.has(u)).map((user): EventKind => ({ type: 'AssigneeRemoved', user })),
      ]
    }
    case 'link':
      return [{ type: 'LinkAdded', url: cmd.url, note: cmd.note }]
    case 'attach':
      return [{ type: 'AttachmentAdded', name: cmd.name, sha256: cmd.sha256, mime: cmd.mime }]
    case 'depend': {
      const target = batch.resolve(cmd.target, 'target')
      // Refused both ways: no replica can have added it, so a removal is a caller's mistake.
      if (target === issueId) throw invalidArgument('target', 'is the issue itself')
      const exists = (current?.dependencies ?? []).some((d) => d.target === target && d.depType === cmd.depType)
      if (cmd.remove) return exists ? [{ type: 'DependencyRemoved', target, depType: cmd.depType }] : []
      if (exists) return []
      checkNewDependencyIn(batch.graph(), issueId, target, cmd.depType)
      return [{ type: 'DependencyAdded', target, depType: cmd.depType }]
    }
  }
}
