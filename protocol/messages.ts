/**
 * Every message type that crosses a thread boundary, in one place (piscina
 * keeps its thread messages in one file for the same reason: the wire is
 * reviewable at a glance). Bodies are plain data; optional fields default as
 * documented and receivers validate before use.
 */
import type { WireError } from './errors.ts'
import type { Envelope, ReplyBody } from './envelope.ts'
import type { CairnEvent } from './events/types.ts'

/** Actor kinds hosted per repository, all three on the same thread. */
export type ActorKind = 'repo-worker' | 'lock-keeper' | 'sync'
export const ACTOR_KINDS: readonly ActorKind[] = ['repo-worker', 'lock-keeper', 'sync']

/** `<kind>:<repoId>`; the host of a repository is `host:<repoId>`. */
export const actorAddress = (kind: ActorKind, repoId: string): string => `${kind}:${repoId}`
export const hostAddress = (repoId: string): string => `host:${repoId}`
export const SUPERVISOR = 'supervisor'

export type ReconciledOutcome = 'resumed' | 'crashed'

/** An operation a crash left in a journal, and what boot reconciliation did with it. */
export interface ReconciledOperation {
  opId: string
  type: string
  actor: string
  startedAt: number
  outcome: ReconciledOutcome
}

/** What one host found and did while opening its repository. */
export interface RepoReconciliation {
  repoId: string
  operations: ReconciledOperation[]
  timersRestored: number
  timersOverdue: number
  snapshotsRestored: string[]
  snapshotsDiscarded: { actor: string; version: number }[]
  /** Whether issue projections were current, or rebuilt from the event log (and how long that took). */
  projections: { rebuilt: boolean; reason: string | null; events: number; ms: number }
  /** The outbox drained into the git WAL before serving (events left by a crash), or why it could not be. */
  wal: { drainedEvents: number; commits: number; adopted: number; pending: number; error: string | null }
}

export interface ActorStats {
  actor: string
  kind: ActorKind
  state: string
  mailbox: number
  capacity: number
  /** Requests answered since the actor last started. */
  handled: number
}

// ---- host <-> supervisor -------------------------------------------------

export interface HostReady { threadId: number; reconciliation: RepoReconciliation; actors: ActorStats[] }
/** The host could not start (or, with `frame`, a serving host got a frame it could not read). */
export interface HostFailed { error: WireError; frame?: boolean }
/** One-way: a diagnostics report made on the host's thread, for the main thread's channel of that name. */
export interface DiagnosticBody { channel: string; message: Record<string, unknown> }
/** One-way, sync actor → supervisor: how far the run answering request `corr` has come (results.ts SyncProgress). */
export interface SyncProgressBody { corr: number; phase: 'fetching' | 'ingesting' | 'pushing'; done: number; total: number }
/** One-way: an actor's machine or effect failed; the supervisor decides. */
export interface ActorFailedBody { actor: string; kind: ActorKind; error: WireError }
export interface ActorRestartBody { kind: ActorKind }
export interface PingBody { at: number }
export interface PongBody { threadId: number; actors: ActorStats[] }
export type FaultMode = 'throw-actor' | 'throw-thread' | 'exit' | 'hang'
export interface FaultBody { mode: FaultMode; hangMs?: number }

// ---- requests to the RepoWorker (interim record log; grows into events) ----

export interface AppendBody { value: unknown; opId?: string }
export interface AppendResult { seq: number; opId: string; duplicate: boolean }
export interface GetBody { seq: number }
export interface ScanBody { fromSeq?: number; limit?: number }
export interface StoredRecord { seq: number; opId: string; at: number; value: unknown }
export interface ScheduleTimerBody { id: string; at: number; payload?: unknown }

// ---- the event log and issue board (RepoWorker) ----------------------------

/** Every write names its author; `opId` makes a retried write a no-op. */
export interface WriteBodyBase { actor: string; opId?: string; leaseToken?: number }
/** What a mutation of an existing issue resolves to. */
export interface WriteResult {
  issueId: string
  /** Ids of the events this write appended, in order; empty for a repeated opId. */
  eventIds: string[]
  /** Local sequence number of the last event appended (or of the log, for a repeat). */
  seq: number
  /** True when the opId had already been applied: nothing new was written. */
  duplicate: boolean
  /** Under lease policy `warn`: the leases of others this write went through. */
  warnings?: { code: 'LEASE_HELD'; resource: string; heldBy: string; agent?: string; expiresAt: number }[]
  /** True when the write would change nothing (closing a closed issue, removing a label it lacks): no event was logged. */
  noop?: boolean
  /** A close that carried the closer's lease on the issue released it: the claim ended with the close. */
  released?: boolean
}
/** One entry of the local log, as history and subscriptions deliver it. */
export interface LoggedEvent { seq: number; event: CairnEvent }
/**
 * `events.ingest`, Sync -> RepoWorker on their thread: events read from git,
 * stored in one commit with the sync progress to bank (written to the
 * `sync` database in the same transaction, when given).
 */
export interface EventsIngestBody { events: CairnEvent[]; bank: { key: string; value: unknown } | null }
export interface IngestResult {
  ingested: number
  duplicates: number
  lastSeq: number
  /** Positions (in the request's `events`) of the duplicates, so a caller can count new events per source. */
  duplicateAt?: number[]
}
/** One-way, RepoWorker -> supervisor, after a commit that appended events. */
export interface EventsAppendedBody { lastSeq: number }
/** An agent name known in a repository, and the actor id its events carry. */
export interface AgentIdentity { agent: string; actor: string; createdAt: number }
export interface EventStats {
  lastSeq: number
  events: number
  issues: number
  /** Locally authored events not yet in the git WAL. */
  outbox: number
  wal?: { pending: number; drainedEvents: number; commits: number; lastError: string | null; retryAt: number | null }
}

// ---- leases (LockKeeper) --------------------------------------------------

/** Who holds a lease: an actor in one runtime session; `agent` names the actor for people, when known. */
export interface LeaseHolder { actor: string; session: string; agent?: string }
/** A lease as the LockKeeper grants it; `token` is the fencing token (strictly increasing per resource). */
export interface LeaseInfo {
  resource: string
  holder: LeaseHolder
  token: number
  ttlMs: number
  grantedAt: number
  expiresAt: number
  heartbeatAt: number
  /** How long past expiry (and after the last heartbeat) a lapsed lease stays protected; absent on leases stored before it was recorded (5 s). */
  graceMs?: number
  /**
   * The lease id: 32 random hex, the proof of holding. Only the holder is
   * told it, in the answer to its grant; renewing and releasing need it
   * (LEASE_NOT_HELD otherwise). The store keeps only its SHA-256.
   */
  id?: string
}
/** What list/status show about a lease: everything but its id. */
export type LeaseView = Omit<LeaseInfo, 'id'> & { live: boolean; takeoverAt: number }
export interface AcquireBody { resource: string; actor: string; session: string; agent?: string; ttlMs: number; waitMs?: number; waitId?: string; graceMs?: number }
/** A lease on a git remote's lease ref (cross-machine); `token` is the chain epoch. */
export interface RemoteLeaseInfo extends LeaseInfo { scope: 'remote'; remote: string; commit: string; graceMs: number }
export type RemoteLeaseView = Omit<RemoteLeaseInfo, 'token' | 'id'> & { live: boolean; takeoverAt: number; released: boolean }
export interface RemoteAcquireBody { resource: string; actor: string; session: string; ttlMs: number; graceMs?: number; remote: string }
/** Renew and release name the holder too: a remote chain is fenced on (epoch, lease id). */
export interface RemoteRenewBody { resource: string; token: number; actor: string; session: string; remote: string; leaseId?: string; ttlMs?: number }
export type RemoteReleaseBody = Omit<RemoteRenewBody, 'ttlMs'>
/** Renew and release need the holder's lease id (see LeaseInfo.id). */
export interface RenewBody { resource: string; token: number; leaseId?: string; ttlMs?: number }
export interface ReleaseBody { resource: string; token: number; leaseId?: string }
/** Ends another holder's lease early, on purpose: recorded with who, when and why. */
export interface BreakBody { resource: string; actor: string; agent?: string; reason: string }
/** The record of one break, as `locks.break` answers it and LEASE_LOST details name it. */
export interface LeaseBreak {
  resource: string
  /** The broken lease's token; the next grant gets `burned + 1`. */
  token: number
  burned: number
  holder: LeaseHolder
  by: { actor: string; agent?: string }
  at: number
  reason: string
}

export const MESSAGE_TYPES = {
  hostReady: 'host.ready',
  hostFailed: 'host.failed',
  hostStop: 'host.stop',
  /** One-way, host → supervisor: a diagnostics report to publish on the main thread (DiagnosticBody). */
  diagnostic: 'host.diagnostic',
  ping: 'host.ping',
  clockTick: 'host.clock-tick',
  fault: 'host.fault',
  actorFailed: 'actor.failed',
  actorRestart: 'actor.restart',
  actorStatus: 'actor.status',
  append: 'records.append',
  get: 'records.get',
  scan: 'records.scan',
  count: 'records.count',
  scheduleTimer: 'timers.schedule',
  listTimers: 'timers.list',
  identity: 'identity.resolve',
  /** The repository's agent names and their actor ids (a read). */
  identityList: 'identity.list',
  issueCreate: 'issues.create',
  issueUpdate: 'issues.update',
  issueComment: 'issues.comment',
  issueState: 'issues.state',
  issueLabel: 'issues.label',
  issueAssign: 'issues.assign',
  issueLink: 'issues.link',
  issueAttach: 'issues.attach',
  issueDepend: 'issues.depend',
  issueShow: 'issues.show',
  issueList: 'issues.list',
  issueReady: 'issues.ready',
  issueTopo: 'issues.topo',
  issueHistory: 'issues.history',
  eventsRead: 'events.read',
  eventsStats: 'events.stats',
  eventsAppended: 'events.appended',
  walFlush: 'wal.flush',
  lockAcquire: 'locks.acquire',
  lockRenew: 'locks.renew',
  lockRelease: 'locks.release',
  lockCancel: 'locks.cancel',
  lockList: 'locks.list',
  lockStatus: 'locks.status',
  lockPolicyGet: 'locks.policy.get',
  lockPolicySet: 'locks.policy.set',
  /** RepoWorker, one step: pick the next ready issue nobody holds, lease it and record the claim. */
  issueClaimNext: 'issues.claim-next',
  /** LockKeeper: end another holder's lease on purpose, `{ resource, actor, agent?, reason }` → LeaseBreak. */
  lockBreak: 'locks.break',
  /** Sync actor: one run against a remote (fetch, ingest, push); progress streams as sync.progress. */
  syncRun: 'sync.run',
  syncStatus: 'sync.status',
  syncImportGrite: 'sync.import-grite',
  /** One-way, sync actor → supervisor: `{ corr, phase, done, total }` for the request `corr`. */
  syncProgress: 'sync.progress',
  /** Thread-local, sync actor → RepoWorker: events from git, with the progress to bank in the same commit. */
  eventsIngest: 'events.ingest',
  /** LockKeeper: the repository's lease grace period, `{ graceMs }` (persisted; recorded in each new lease). */
  lockGraceGet: 'locks.grace.get',
  lockGraceSet: 'locks.grace.set',
  /** LockKeeper, cross-machine: leases as commit chains on a git remote's refs/cairn/leases/*. */
  lockRemoteAcquire: 'locks.remote.acquire',
  lockRemoteRenew: 'locks.remote.renew',
  lockRemoteRelease: 'locks.remote.release',
  lockRemoteStatus: 'locks.remote.status',
  /** Ends whoever's lease is on a remote lease chain, recorded in a break commit (as locks.break). */
  lockRemoteBreak: 'locks.remote.break',
} as const

export type MessageType = (typeof MESSAGE_TYPES)[keyof typeof MESSAGE_TYPES]

// ---- typed messages --------------------------------------------------------
// A message's body type follows from its `type`: a switch on `type` narrows
// `body`, so a receiver names each body once, in these tables, instead of
// casting at every use. Frames between the Supervisor and its hosts are made
// by Cairn's own code on both sides; what callers send is validated where it
// is received (commands/parse.ts, queries.ts, the LockKeeper's fields.ts).

/** An envelope whose `body` is typed by its `type`, for a table of bodies. */
export type MessageOf<Bodies> = { [T in keyof Bodies & string]: Envelope<T, Bodies[T]> }[keyof Bodies & string]

/** What a repository's host sends the Supervisor: replies and one-way reports. */
export interface HostToSupervisor {
  reply: ReplyBody
  [MESSAGE_TYPES.hostReady]: HostReady
  [MESSAGE_TYPES.hostFailed]: HostFailed
  [MESSAGE_TYPES.actorFailed]: ActorFailedBody
  [MESSAGE_TYPES.eventsAppended]: EventsAppendedBody
  [MESSAGE_TYPES.syncProgress]: SyncProgressBody
  [MESSAGE_TYPES.diagnostic]: DiagnosticBody
}
export type HostMessage = MessageOf<HostToSupervisor>

/** What the Supervisor sends a repository's host itself (requests to its actors go by the actors' tables). */
export interface SupervisorToHost {
  [MESSAGE_TYPES.ping]: PingBody
  [MESSAGE_TYPES.clockTick]: Record<string, never> | null
  [MESSAGE_TYPES.hostStop]: Record<string, never> | null
  [MESSAGE_TYPES.fault]: FaultBody
  [MESSAGE_TYPES.actorRestart]: ActorRestartBody
}
export type HostControlMessage = MessageOf<SupervisorToHost>

/** The one-way messages an actor may notify the Supervisor of (ActorContext.notify). */
export type ActorNotice = MessageOf<Pick<HostToSupervisor, typeof MESSAGE_TYPES.eventsAppended | typeof MESSAGE_TYPES.syncProgress>>
