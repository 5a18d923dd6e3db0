/**
 * The MCP tools: each one daemon operation, its arguments the operation's
 * schema (protocol/operations, so the names are the library's and the
 * checks the daemon's), its structured content what the operation returns,
 * and a short text form (text.ts). Lists are wrapped in an object
 * (`{ issues }`, `{ events }`, `{ leases }`) and "nothing to claim" is
 * `{ issue: null, lease: null }`, because MCP's structured content is
 * always a JSON object.
 *
 * Leases a tool takes (claim_next, lock_acquire) are the session's: kept
 * alive by session-leases.ts until released, closed or the session ends.
 */
import type { z } from 'zod'
import type { LoggedEvent, WriteResult } from '../../protocol/messages.ts'
import { ttlMs } from '../../protocol/operations/fields.ts'
import { OPERATION_SPECS as OPS } from '../../protocol/operations/index.ts'
import type { IssueProjection, IssueSummary, SyncReport } from '../../protocol/results.ts'
import type { CallOptions } from '../cli/executor.ts'
import type { SessionLeases } from './session-leases.ts'
import { eventsText, issueText, leaseText, summaries, summaryLine, writeText } from './text.ts'

export interface ToolContext {
  call<T>(method: string, args: Record<string, unknown>, opts?: CallOptions): Promise<T>
  leases: SessionLeases
  /** The TTL of leases this session takes when the agent names none. */
  leaseTtlMs: number
  /** Reports progress of a long call (sync), when the client asked for it. */
  progress(done: number, total: number, message: string): void
}

export interface ToolOutput { data: Record<string, unknown>; text: string }

export interface Tool<S extends z.ZodObject = z.ZodObject> {
  name: string
  title: string
  description: string
  args: S
  /** Reads only; a client may call it without asking. */
  readOnly: boolean
  run(ctx: ToolContext, args: z.output<S>): Promise<ToolOutput>
}

type Lease = { resource: string; token: number; expiresAt: number }

const tool = <S extends z.ZodObject>(t: Tool<S>): Tool => t as unknown as Tool
const write = (verb: string) => (r: WriteResult): ToolOutput => ({ data: { ...r }, text: writeText(verb, r) })
const SESSION_TTL = 'how long the lease lasts unless renewed, in ms; default the session\'s lease TTL. The session renews it for as long as it lives either way'

export const TOOLS: readonly Tool[] = [
  tool({
    name: 'create', title: 'Create an issue', readOnly: false, args: OPS['issues.create'].args,
    description: "Create an issue on the repository's shared board (other agents and people see it at once). Returns the new issue with its id.",
    run: async (ctx, a) => {
      const issue = await ctx.call<IssueProjection>('issues.create', a)
      return { data: issue as never, text: `created ${summaryLine(issue)}` }
    },
  }),
  tool({
    name: 'show', title: 'Show an issue', readOnly: true, args: OPS['issues.show'].args,
    description: 'One issue in full: title, body, state, labels, assignees, dependencies, links, attachments and comments. The id may be a unique prefix of 4+ hex characters.',
    run: async (ctx, a) => {
      const issue = await ctx.call<IssueProjection>('issues.show', a)
      return { data: issue as never, text: issueText(issue) }
    },
  }),
  tool({
    name: 'list', title: 'List issues', readOnly: true, args: OPS['issues.list'].args,
    description: 'Issue summaries, earliest created first, optionally only one state, label or assignee. Returns { issues }.',
    run: async (ctx, a) => {
      const issues = await ctx.call<IssueSummary[]>('issues.list', a)
      return { data: { issues }, text: summaries(issues, 'no issues') }
    },
  }),
  tool({
    name: 'ready', title: 'Ready issues', readOnly: true, args: OPS['issues.ready'].args,
    description: 'Open issues with no open blocker, earliest created first: the work that can start now. Claims nothing; take one with claim_next. Returns { issues }.',
    run: async (ctx, a) => {
      const issues = await ctx.call<IssueSummary[]>('issues.ready', a)
      return { data: { issues }, text: summaries(issues, 'nothing is ready') }
    },
  }),
  tool({
    name: 'claim_next', title: 'Claim the next ready issue', readOnly: false,
    args: OPS['issues.claim'].args.extend({ ttlMs: ttlMs.optional().describe(SESSION_TTL) }),
    description: 'Claim the next ready issue nobody holds: it is leased and assigned to you in one step, and two agents never get the same issue. '
      + 'The claim is renewed for as long as this session lives and released when the session ends; close the issue when the work is done. '
      + 'Returns { issue, lease }, or { issue: null, lease: null } when nothing is ready.',
    run: async (ctx, a) => {
      const ttl = a.ttlMs ?? ctx.leaseTtlMs
      const got = await ctx.call<{ issue: IssueProjection; lease: Lease } | null>('issues.claim', { ...a, ttlMs: ttl })
      if (got === null) return { data: { issue: null, lease: null }, text: 'nothing to claim: no ready issue is free' }
      ctx.leases.hold(got.lease, ttl)
      return { data: got as never, text: `claimed ${summaryLine(got.issue)}\nlease ${leaseText(got.lease)} (renewed while this session lives)` }
    },
  }),
  tool({
    name: 'comment', title: 'Comment on an issue', readOnly: false, args: OPS['issues.comment'].args,
    description: 'Add a comment to an issue: progress, findings, questions, a hand-off note. Returns the write result { issueId, seq, eventIds, duplicate }.',
    run: async (ctx, a) => write('commented on')(await ctx.call<WriteResult>('issues.comment', a)),
  }),
  tool({
    name: 'close', title: 'Close an issue', readOnly: false, args: OPS['issues.close'].args,
    description: "Close an issue whose work is done; this session's claim on it is released. Returns the write result.",
    run: async (ctx, a) => {
      const r = await ctx.call<WriteResult>('issues.close', a)
      const done = ctx.leases.forget(`issue:${r.issueId}`)
      await Promise.all(done.map((l) => ctx.call('locks.release', { resource: l.resource, token: l.token }).catch(() => undefined)))
      const out = write('closed')(r)
      return done.length > 0 ? { ...out, text: `${out.text}; claim released` } : out
    },
  }),
  tool({
    name: 'update', title: 'Update an issue', readOnly: false, args: OPS['issues.update'].args,
    description: "Change an issue's title and/or body (give at least one). Returns the write result.",
    run: async (ctx, a) => write('updated')(await ctx.call<WriteResult>('issues.update', a)),
  }),
  tool({
    name: 'label', title: 'Label an issue', readOnly: false, args: OPS['issues.label'].args,
    description: 'Add and/or remove labels on an issue (at least one entry in add or remove). Returns the write result.',
    run: async (ctx, a) => write('labelled')(await ctx.call<WriteResult>('issues.label', a)),
  }),
  tool({
    name: 'depend', title: 'Add or remove a dependency', readOnly: false, args: OPS['issues.depend'].args,
    description: 'Record that issue id depends_on (or blocks, or is related_to) issue target; with remove, take it away. A dependency that would close a cycle is refused (CYCLE). '
      + 'An issue with an open blocker is not ready. Returns the write result.',
    run: async (ctx, a) => write(a.remove === true ? 'removed a dependency of' : 'added a dependency to')(await ctx.call<WriteResult>('issues.depend', a)),
  }),
  tool({
    name: 'history', title: "An issue's history", readOnly: true, args: OPS['issues.history'].args,
    description: "An issue's events in order (created, commented, labelled, state changes, ...): who did what, when. Returns { events }.",
    run: async (ctx, a) => {
      const events = await ctx.call<LoggedEvent[]>('issues.history', a)
      return { data: { events }, text: eventsText(events, 'no events') }
    },
  }),
  tool({
    name: 'lock_acquire', title: 'Lease a resource', readOnly: false,
    args: OPS['locks.acquire'].args.extend({ ttlMs: ttlMs.optional().describe(SESSION_TTL) }),
    description: 'Lease a resource so no other agent works on it at the same time: path:<relative/path> (a file or directory; conflicts with its parents and children), '
      + 'issue:<id>, or repo:<name> (everything). Fails with LEASE_HELD when someone else holds a conflicting lease, unless waitMs is given. '
      + 'Renewed for as long as this session lives; give it up with lock_release. Returns { resource, token, expiresAt }.',
    run: async (ctx, a) => {
      const ttl = a.ttlMs ?? ctx.leaseTtlMs
      const lease = await ctx.call<Lease>('locks.acquire', { ...a, ttlMs: ttl })
      ctx.leases.hold(lease, ttl)
      return { data: lease, text: `leased ${leaseText(lease)} (renewed while this session lives)` }
    },
  }),
  tool({
    name: 'lock_renew', title: 'Renew a lease', readOnly: false, args: OPS['locks.renew'].args,
    description: "Extend a lease you hold, by its token. Rarely needed: this session renews its leases itself. Fails with LEASE_LOST when the lease lapsed and was taken.",
    run: async (ctx, a) => {
      const lease = await ctx.call<Lease>('locks.renew', a)
      ctx.leases.renewed(lease, a.ttlMs ?? 60_000)
      return { data: lease, text: `renewed ${leaseText(lease)}` }
    },
  }),
  tool({
    name: 'lock_release', title: 'Release a lease', readOnly: false, args: OPS['locks.release'].args,
    description: 'Give up a lease you hold (by its resource and token), so others may take it.',
    run: async (ctx, a) => {
      const r = await ctx.call<{ resource: string; token: number; released: boolean }>('locks.release', a)
      ctx.leases.forget(a.resource, a.token)
      return { data: r, text: `released ${r.resource}` }
    },
  }),
  tool({
    name: 'lock_list', title: 'Live leases', readOnly: true, args: OPS['locks.list'].args,
    description: "The repository's live leases: resource, holder, expiry. Returns { leases }.",
    run: async (ctx) => {
      const leases = await ctx.call<{ resource: string; holder: { actor: string }; expiresAt: number }[]>('locks.list', {})
      const text = leases.length === 0 ? 'no leases' : leases.map((l) => `${l.resource}  held by ${l.holder.actor}  until ${new Date(l.expiresAt).toISOString()}`).join('\n')
      return { data: { leases }, text }
    },
  }),
  tool({
    name: 'sync', title: 'Sync with a git remote', readOnly: false, args: OPS.sync.args,
    description: "Fetch other machines' issue events from a git remote and push this repository's (plain git refs under refs/cairn/). Returns the sync report.",
    run: async (ctx, a) => {
      const report = await ctx.call<SyncReport>('sync', a, {
        onItem: (p) => {
          const { phase, done, total } = p as { phase: string; done: number; total: number }
          ctx.progress(done, total, phase)
        },
      })
      return { data: report as never, text: `synced with ${report.remote}: pulled ${report.pulled}, pushed ${report.pushed} in ${report.durationMs} ms${report.diverged.length ? `; diverged: ${report.diverged.join(', ')}` : ''}` }
    },
  }),
  tool({
    name: 'events_since', title: 'Events since a point of the log', readOnly: true, args: OPS['events.read'].args,
    description: "What happened on the board, from a point of the repository's event log on (cursor paging): returns { events, nextSeq }; "
      + 'call again with fromSeq = nextSeq to read only what came after. Start with fromSeq 1 (or omit it).',
    run: async (ctx, a) => {
      const events = await ctx.call<LoggedEvent[]>('events.read', a)
      const nextSeq = events.length > 0 ? events[events.length - 1]!.seq + 1 : a.fromSeq ?? 1
      return { data: { events, nextSeq }, text: `${eventsText(events, 'no new events')}\nnextSeq ${nextSeq}` }
    },
  }),
]

/** The tool named `name`, or undefined. */
export function toolNamed(name: string): Tool | undefined {
  return TOOLS.find((t) => t.name === name)
}
