/**
 * Cairn's public surface, curated by hand. Test helpers live behind
 * `cairn/testing`; wire types and codecs behind `cairn/protocol`.
 */
export { createRuntime } from './runtime/create-runtime.ts'
export type { Runtime, RuntimeStatus } from './runtime/create-runtime.ts'
export type { RuntimeOptions } from './runtime/options.ts'
export type { Repo, CallOptions } from './runtime/repo.ts'
export type { ReconciliationReport } from './runtime/supervisor.ts'
export { CairnError, isCairnError, ERROR_CODES } from '../protocol/errors.ts'
export type { ErrorCode } from '../protocol/errors.ts'
export { CHANNELS } from './diagnostics.ts'
export { SystemClock } from './adapters/system-clock.ts'
export type { Clock } from './ports/clock.ts'
