/**
 * The handle of one open repository. Today: the RepoWorker's durable record
 * log and durable timers; issues, locks and sync join as their actors grow.
 */
import { MESSAGE_TYPES as M, type AppendResult, type FaultMode, type StoredRecord } from '../../protocol/messages.ts'
import { invalidArgument } from '../../protocol/errors.ts'
import type { HostRecord } from './hosts.ts'
import type { RequestOptions } from './router.ts'
import type { Supervisor } from './supervisor.ts'

export type CallOptions = RequestOptions

export interface Repo {
  readonly id: string
  /** The repository's git common dir. */
  readonly path: string
  readonly records: {
    /** Appends a value durably; resolves after the commit is flushed. `opId` makes retries idempotent. */
    append(value: unknown, opts?: CallOptions & { opId?: string }): Promise<AppendResult>
    get(seq: number, opts?: CallOptions): Promise<StoredRecord>
    scan(range?: { fromSeq?: number; limit?: number }, opts?: CallOptions): Promise<StoredRecord[]>
    count(opts?: CallOptions): Promise<{ count: number; lastSeq: number }>
  }
  readonly timers: {
    /**
     * Schedules a durable timer at an absolute time on the runtime clock. When
     * it fires (once, even across crashes) it appends `{ timer, deadline, payload }`.
     */
    schedule(id: string, at: number, payload?: unknown, opts?: CallOptions): Promise<{ id: string; at: number }>
    list(opts?: CallOptions): Promise<{ id: string; at: number; payload: unknown }[]>
  }
  /** Tests only (needs `__unsafe_faultInjection`): crash an actor or the thread. */
  __unsafe_fault(mode: FaultMode, opts?: { hangMs?: number }): Promise<void>
}

function checkOpts(opts: CallOptions | undefined): void {
  if (opts === undefined) return
  if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object')
  if (opts.timeoutMs !== undefined && (!Number.isSafeInteger(opts.timeoutMs) || opts.timeoutMs < 1)) throw invalidArgument('timeoutMs', 'must be a positive integer')
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArgument('signal', 'must be an AbortSignal')
}

export function repoHandle(sup: Supervisor, rec: HostRecord): Repo {
  const call = async <T>(type: string, body: unknown, opts?: CallOptions): Promise<T> => {
    checkOpts(opts)
    return (await sup.request(rec, 'repo-worker', type, body, { timeoutMs: opts?.timeoutMs, signal: opts?.signal })) as T
  }
  return {
    id: rec.repoId,
    path: rec.path,
    records: {
      append: (value, opts) => call(M.append, { value, opId: opts?.opId }, opts),
      get: (seq, opts) => call(M.get, { seq }, opts),
      scan: (range = {}, opts) => call(M.scan, range, opts),
      count: (opts) => call(M.count, {}, opts),
    },
    timers: {
      schedule: (id, at, payload, opts) => call(M.scheduleTimer, { id, at, payload }, opts),
      list: (opts) => call(M.listTimers, {}, opts),
    },
    __unsafe_fault: async (mode, opts) => {
      await sup.request(rec, 'host', M.fault, { mode, hangMs: opts?.hangMs }, { timeoutMs: 10_000 })
    },
  }
}
