/**
 * Cairn's public surface, curated by hand. Test helpers live behind
 * `cairn/testing`; wire types and codecs behind `cairn/protocol`.
 */
export { createRuntime } from './api/create-runtime.ts'
export type { Runtime, RuntimeStatus } from './api/create-runtime.ts'
export type { RuntimeOptions } from './api/options.ts'
export type { SupervisionApi, WatchOptions, HandOff } from './api/supervision.ts'
export type { ActorInfo, SupervisionEvent, SupervisionEventType, MissedEvents, WatchItem, FailureCause, Failure } from '../protocol/supervision.ts'
export type { Repo, CallOptions } from './api/repo.ts'
export type { IssuesApi, WriteOptions } from './api/issues.ts'
export type { SubscribeOptions } from './api/subscribe.ts'
export type { SyncOptions, SyncApi } from './api/sync.ts'
export type { LocksApi, LeaseHandle, AcquireOptions, LeaseScope } from './api/locks.ts'
export type { LeaseView, LeaseInfo, RemoteLeaseView } from '../protocol/messages.ts'
export type {
  IssueSummary, TopoView, IssueProjection, IssueComment, IssueLink, IssueAttachment, IssueDependency,
  ReconciliationReport, LeasePolicy, WalFlushReport, SyncReport, SyncProgress, SyncStatus, RefReport,
} from '../protocol/results.ts'
export type { WriteResult, LoggedEvent, EventStats, AgentIdentity } from '../protocol/messages.ts'
export type { CairnEvent, EventKind, DepType } from '../protocol/events/types.ts'
export { CairnError, isCairnError, ERROR_CODES } from '../protocol/errors.ts'
export type { ErrorCode } from '../protocol/errors.ts'
export { CHANNELS } from './kernel/diagnostics.ts'
export { SystemClock } from './adapters/system-clock.ts'
export type { Clock } from './kernel/ports/clock.ts'
