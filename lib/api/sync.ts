/**
 * `repo.sync()`, `repo.importGrite()` and `repo.syncStatus()`: the library
 * side of the Sync actor. Argument errors are thrown here, before anything
 * crosses the thread boundary; the actor validates again (it is the boundary
 * other callers, such as the daemon, reach too).
 */
import { invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { WireError } from '../../protocol/errors.ts'
import type { SyncProgress, SyncReport } from '../../protocol/results.ts'
import type { RequestOptions } from '../../actors/supervisor/router.ts'
import type { SyncStatus } from '../../protocol/results.ts'
export type { SyncStatus }

export type { SyncProgress, SyncReport, RefReport } from '../../protocol/results.ts'

/** A sync can move a whole history; its default deadline is generous (override with timeoutMs). */
export const SYNC_TIMEOUT_MS = 10 * 60_000

export interface SyncOptions {
  /** A configured remote name (`origin`), a URL (`file:///srv/x.git`, `git://host/x`, `https://...`) or a path. */
  remote: string
  /** Fetch and ingest the remote's WAL refs (default true). */
  pull?: boolean
  /** Push this replica's WAL refs the remote lacks, never forced (default true). */
  push?: boolean
  /** Stops waiting (the run itself continues for anyone else waiting on it, and its progress stays banked). */
  signal?: AbortSignal
  timeoutMs?: number
  /** Called with `{ phase, done, total }` as the run advances (commits when ingesting, refs when pushing). */
  onProgress?: (p: SyncProgress) => void
}


export interface SyncApi {
  /**
   * One sync run against `remote`: fetch `refs/cairn/wal/*`, ingest what is
   * new from each actor's ref, push this replica's refs. A request while a
   * run with the same options is in progress joins it (same report).
   * @example const r = await repo.sync({ remote: 'origin' }); console.log(r.pulled, r.pushed)
   */
  sync(opts: SyncOptions): Promise<SyncReport>
  /** Ingests an existing grite WAL (`refs/grite/wal`) into the store; resumable like a sync. */
  importGrite(opts?: Omit<SyncOptions, 'remote' | 'pull' | 'push'>): Promise<SyncReport>
  syncStatus(opts?: RequestOptions): Promise<SyncStatus>
}

type SyncCall = (type: string, body: unknown, opts: RequestOptions) => Promise<unknown>

function checkRunOptions(opts: unknown): RequestOptions {
  if (opts === undefined) return { timeoutMs: SYNC_TIMEOUT_MS }
  if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object')
  const o = opts as SyncOptions
  if (o.timeoutMs !== undefined && (!Number.isSafeInteger(o.timeoutMs) || o.timeoutMs < 1)) throw invalidArgument('timeoutMs', 'must be a positive integer')
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArgument('signal', 'must be an AbortSignal')
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidArgument('onProgress', 'must be a function')
  return { timeoutMs: o.timeoutMs ?? SYNC_TIMEOUT_MS, signal: o.signal, onProgress: o.onProgress as RequestOptions['onProgress'] }
}

export function syncApi(call: SyncCall): SyncApi {
  return {
    sync: async (opts) => {
      if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with a remote')
      const { remote, pull, push } = opts
      if (typeof remote !== 'string' || remote.length === 0) throw invalidArgument('remote', 'must be a remote name, URL or path')
      if (pull !== undefined && typeof pull !== 'boolean') throw invalidArgument('pull', 'must be a boolean')
      if (push !== undefined && typeof push !== 'boolean') throw invalidArgument('push', 'must be a boolean')
      return call(M.syncRun, { remote, pull: pull ?? true, push: push ?? true }, checkRunOptions(opts)) as Promise<SyncReport>
    },
    importGrite: async (opts) => call(M.syncImportGrite, {}, checkRunOptions(opts)) as Promise<SyncReport>,
    syncStatus: async (opts) => call(M.syncStatus, {}, opts ?? {}) as Promise<SyncStatus>,
  }
}
