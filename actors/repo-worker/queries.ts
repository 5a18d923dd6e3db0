/**
 * The RepoWorker's read side over the event store: issue lookups, listings,
 * the dependency views, history and log pages. Reads never wait for a
 * commit; they see everything committed (and, once acknowledged, durable).
 */
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M, type AgentIdentity, type EventStats, type LeaseView, type LoggedEvent } from '../../protocol/messages.ts'
import type { IssueProjection } from './projection/index.ts'
import { listIssues, readyIssues, topoIssues } from './store/listing.ts'
import { idRef } from './commands/parse.ts'
import type { EventStore } from './store/event-store.ts'
import { lastKey } from './store/dbs.ts'
import type { IssueSummary, TopoView } from '../../protocol/results.ts'
import { MAX_PAGE } from '../../protocol/limits.ts'
export type { IssueSummary, TopoView }


export { MAX_PAGE }

export function summary(p: IssueProjection): IssueSummary {
  return {
    id: p.id, title: p.title, state: p.state, labels: p.labels, assignees: p.assignees, dependencies: p.dependencies,
    comments: p.comments.length, createdAt: p.createdAt as number, createdBy: p.createdBy as string, updatedAt: p.updatedAt,
  }
}

function fields(body: unknown): Record<string, unknown> {
  const b = body ?? {}
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidArgument('body', 'must be an object')
  return b as Record<string, unknown>
}

function optName(b: Record<string, unknown>, field: string): string | undefined {
  const v = b[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' || v.length === 0 || v.length > 128) throw invalidArgument(field, 'must be a string of 1..128 characters')
  return v
}

function positive(b: Record<string, unknown>, field: string, dflt: number, max: number): number {
  const v = b[field] ?? dflt
  if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > max) throw invalidArgument(field, `must be an integer in 1..${max}`)
  return v as number
}

/** `limit` (default: no limit) and `after` (the id of the last issue of the previous page). */
function page(b: Record<string, unknown>): { limit: number; after?: string } {
  const limit = positive(b, 'limit', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
  if (b.after === undefined || b.after === null) return { limit }
  if (typeof b.after !== 'string' || !FULL_ID.test(b.after)) throw invalidArgument('after', 'must be a full issue id (32 lowercase hex), the last of the previous page')
  return { limit, after: b.after }
}

const FULL_ID = /^[0-9a-f]{32}$/

/** Who holds the claim (the live lease on `issue:<id>`) on an issue now, or null. */
export type ClaimedBy = (issueId: string) => LeaseView | null

/**
 * Answers one query of `type` with the request's `body`, wherever it runs:
 * the RepoWorker (over its writer's view) and the store readers of other
 * threads (store/reader.ts) call this one function. Throws
 * INVALID_ARGUMENT, NOT_FOUND, AMBIGUOUS_ID, or UNKNOWN_MESSAGE for a type
 * that is not a query. `claimedBy` tells claimed issues, which `ready`
 * leaves out unless asked (`includeClaimed`, then they carry `claimedBy`).
 * @example query(store, 'issues.show', { id: 'ab12' })
 */
export function query(store: EventStore, type: string, body: unknown, claimedBy: ClaimedBy = () => null): unknown {
  const b = fields(body)
  switch (type) {
    case M.issueShow:
      return store.issue(store.resolve(idRef(b.id, 'id'))) as IssueProjection
    case M.issueList: {
      const state = b.state ?? 'all'
      if (state !== 'open' && state !== 'closed' && state !== 'all') throw invalidArgument('state', "must be 'open', 'closed' or 'all'")
      return listIssues(store.dbs, { state, label: optName(b, 'label'), assignee: optName(b, 'assignee'), ...page(b) })
    }
    case M.issueReady: {
      if (b.includeClaimed !== undefined && typeof b.includeClaimed !== 'boolean') throw invalidArgument('includeClaimed', 'must be a boolean')
      return readyIssues(store.dbs, { label: optName(b, 'label'), ...page(b), claimedBy, includeClaimed: b.includeClaimed === true })
    }
    case M.issueTopo:
      return topoIssues(store.dbs, positive(b, 'limit', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) satisfies TopoView
    case M.issueHistory:
      return store.history(store.resolve(idRef(b.id, 'id'))) satisfies LoggedEvent[]
    case M.eventsRead:
      return store.read(positive(b, 'fromSeq', 1, Number.MAX_SAFE_INTEGER), positive(b, 'limit', 256, MAX_PAGE)) satisfies LoggedEvent[]
    case M.eventsStats: {
      // All from the disk, in one read transaction: a consistent snapshot (the writer's lastSeq would count writes in flight).
      const { dbs } = store
      return { lastSeq: lastKey(dbs.log), events: dbs.byIssue.getCount(), issues: dbs.issues.getCount(), outbox: dbs.outbox.getCount() } satisfies EventStats
    }
    case M.identityList: {
      const out: AgentIdentity[] = []
      for (const { key, value } of store.dbs.identities.getRange()) out.push({ agent: key, actor: value.actor, createdAt: value.createdAt })
      return out
    }
    default:
      throw new CairnError('UNKNOWN_MESSAGE', `repo-worker does not handle ${type}`)
  }
}
