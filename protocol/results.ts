/**
 * The result types the public API returns, as plain data: what a caller gets
 * back from the library, the daemon's replies and the CLI's `--json`. They
 * live here, below everything, so the API, the daemon and the actors that
 * build them all name the same shapes.
 */
import type { WireError } from './errors.ts'
import type { DepType, IssueState } from './events/types.ts'
import type { RepoReconciliation, SyncProgressBody } from './messages.ts'

/** The part of an event that decides its position in the order. */
export interface EventKey {
  tsUnixMs: number
  actor: string
  eventId: string
}

/** Where an entry of a list (comment, link, attachment) came from. */
export interface EntryOrigin {
  eventId: string
  actor: string
  tsUnixMs: number
}

export interface IssueComment extends EntryOrigin {
  body: string
}

export interface IssueLink extends EntryOrigin {
  url: string
  note: string | null
}

export interface IssueAttachment extends EntryOrigin {
  name: string
  sha256: string
  mime: string
}

/** An edge from this issue; the direction is explained in graph.ts. */
export interface IssueDependency {
  target: string
  depType: DepType
}

/**
 * Plain data (msgpack and structured clone carry it as is). Sets are kept as
 * sorted arrays so two equal projections are equal field by field.
 */
export interface IssueProjection {
  id: string
  title: string
  body: string
  state: IssueState
  /** Sorted, unique. */
  labels: string[]
  /** Sorted, unique. */
  assignees: string[]
  /** Sorted by target, then depType; unique. */
  dependencies: IssueDependency[]
  /** In event order. */
  comments: IssueComment[]
  links: IssueLink[]
  attachments: IssueAttachment[]
  /** From the first IssueCreated in event order; null while incomplete. */
  createdAt: number | null
  createdBy: string | null
  /** True while no IssueCreated for this issue is known. */
  incomplete: boolean
  /** Largest tsUnixMs of the applied events; 0 before any. */
  updatedAt: number
  /** Number of distinct issue events applied. */
  eventCount: number
  /** Position of the last applied event; null before any. */
  lastEvent: EventKey | null
  lastEventId: string | null
}

/** What listings return per issue: the projection without its long lists. */
export interface IssueSummary {
  id: string
  title: string
  state: 'open' | 'closed'
  labels: string[]
  assignees: string[]
  dependencies: IssueDependency[]
  comments: number
  createdAt: number
  createdBy: string
  updatedAt: number
  /** In `ready` with `includeClaimed`: who holds the issue's claim (its live `issue:` lease) and until when. */
  claimedBy?: { actor: string; agent?: string; token: number; expiresAt: number }
}

/** Issues in dependency order, and the cycles that kept some out of it. */
export interface TopoView { order: IssueSummary[]; cycles: string[][] }

export interface RefReport {
  /** `wal/<actor>` for a remote, the full ref for a grite import. */
  ref: string
  from: string | null
  to: string | null
  /** New events ingested from this ref by this run. */
  events: number
  status: 'unchanged' | 'ingested' | 'diverged' | 'pushed' | 'rejected' | 'behind' | 'quarantined'
}

/**
 * A commit Sync could not read (INVALID_FORMAT: malformed; CHUNK_TOO_LARGE:
 * its chunk is past MAX_CHUNK_BYTES): nothing of it or after it on its ref
 * is ingested or relayed; the ref's earlier commits are.
 */
export interface QuarantinedCommit { ref: string; commit: string; code: 'INVALID_FORMAT' | 'CHUNK_TOO_LARGE'; message: string }

export interface SyncReport {
  remote: string
  url: string
  /** Events new to this replica. */
  pulled: number
  /** Events read from git that this replica already had. */
  duplicates: number
  /** Refs pushed. */
  pushed: number
  refs: RefReport[]
  /** Events an interrupted earlier run banked, which this run did not read again. */
  resumedFrom: number
  diverged: string[]
  /** Refs stopped at a commit that cannot be read; every other ref is ingested and pushed as usual. */
  quarantined: QuarantinedCommit[]
  durationMs: number
  /** Where `durationMs` went: fetch (resolve + git fetch), ingest, the WAL flush before the push, and the push itself. */
  phasesMs?: { fetch: number; ingest: number; flush: number; push: number }
}

/** How far a sync run has come: commits while ingesting, refs while pushing. */
export type SyncProgress = Omit<SyncProgressBody, 'corr'>

export interface SyncStatus {
  state: string
  runs: number
  failures: number
  lastError: WireError | null
  backoffMs: number | null
  current: { remote: string; kind: 'remote' | 'grite' } | null
  queued: number
  lastRunAt: number | null
}

export interface WalFlushReport {
  /** Events and commits written by this flush. */
  events: number
  commits: number
  /** Events found already in git (a crashed drain wrote them) and dropped from the outbox. */
  adopted: number
  /** Drain rounds the flush needed after the one in progress when it was called: 1 unless a backlog or a moving ref needed more. */
  rounds: number
  pending: number
  drainedEvents: number
  lastError: string | null
}

/** What boot reconciliation found and did, before anything was served. */
export interface ReconciliationReport {
  previousSessions: { id: string; pid: number; startedAt: number; outcome: 'crashed' }[]
  /** One entry per repository this runtime opened, from its first open (at boot for those a crashed session held). */
  repos: RepoReconciliation[]
}

/** How a repository enforces leases on issue writes. */
export type LeasePolicy = 'off' | 'warn' | 'require'
