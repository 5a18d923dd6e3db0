/**
 * Cairn's public surface, curated by hand. Test helpers live behind
 * `cairn/testing`; wire types and codecs behind `cairn/protocol`.
 */
export { createRuntime } from './runtime/create-runtime.ts'
export type { Runtime, RuntimeStatus } from './runtime/create-runtime.ts'
export type { RuntimeOptions } from './runtime/options.ts'
export type { Repo, CallOptions, WalFlushReport } from './runtime/repo.ts'
export type { IssuesApi, WriteOptions } from './runtime/repo-issues.ts'
export type { SubscribeOptions } from './runtime/subscribe.ts'
export type { SyncOptions, SyncReport, SyncProgress, SyncStatus, RefReport, SyncApi } from './runtime/repo-sync.ts'
export type { LocksApi, LeaseHandle, AcquireOptions, LeaseScope } from './runtime/repo-locks.ts'
export type { LeaseView, LeaseInfo, RemoteLeaseView } from '../protocol/messages.ts'
export type { IssueSummary, TopoView } from '../actors/repo-worker/queries.ts'
export type {
  IssueProjection, IssueComment, IssueLink, IssueAttachment, IssueDependency,
} from '../actors/repo-worker/projection/index.ts'
export type { WriteResult, LoggedEvent, EventStats } from '../protocol/messages.ts'
export type { CairnEvent, EventKind, DepType } from '../protocol/events/types.ts'
export type { ReconciliationReport } from './runtime/supervisor.ts'
export { CairnError, isCairnError, ERROR_CODES } from '../protocol/errors.ts'
export type { ErrorCode } from '../protocol/errors.ts'
export { CHANNELS } from './diagnostics.ts'
export { SystemClock } from './adapters/system-clock.ts'
export type { Clock } from './ports/clock.ts'
