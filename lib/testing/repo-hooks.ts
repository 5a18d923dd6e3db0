/**
 * Test hooks on a repository handle, outside the public Repo: the
 * RepoWorker's journaled record log and durable timers, and fault
 * injection.
 *
 * The record log is how the runtime's durability machinery is exercised end
 * to end without the issue board: every append is journaled, applied and
 * flushed before it is acknowledged (so a `kill -9` leaves exactly the
 * operations in flight for boot reconciliation to resume), and durable
 * timers are absolute deadlines that fire once, also across restarts, by
 * appending `{ timer, deadline, payload }`.
 *
 * @example
 *   const hooks = repoHooks(await runtime.repo(path))
 *   await hooks.records.append({ hello: 'world' }, { opId: 'once' })
 *   await hooks.timers.schedule('t1', clock.now() + 1000)
 *   await hooks.fault('throw-actor')  // needs createRuntime({ __unsafe_faultInjection: true })
 */
import { MESSAGE_TYPES as M, type AppendResult, type FaultMode, type StoredRecord } from '../../protocol/messages.ts'
import type { CallOptions } from '../api/call.ts'
import { channelsOf } from '../api/repo-channels.ts'
import type { Repo } from '../api/repo.ts'

export interface RepoHooks {
  readonly records: {
    /** Appends a value durably; resolves after the commit is flushed. `opId` makes retries idempotent. */
    append(value: unknown, opts?: CallOptions & { opId?: string }): Promise<AppendResult>
    get(seq: number, opts?: CallOptions): Promise<StoredRecord>
    /** At most `limit` (1..10,000, default 1,000) records from `fromSeq` (default 1). */
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
  /**
   * Crashes the repository's RepoWorker (`throw-actor`) or its thread
   * (`throw-thread`, `exit`, `hang` for `hangMs`). Refused unless the runtime
   * was created with `__unsafe_faultInjection: true`.
   */
  fault(mode: FaultMode, opts?: { hangMs?: number }): Promise<void>
}

/** The test hooks of a handle made by `runtime.repo()`. */
export function repoHooks(repo: Repo): RepoHooks {
  const { request } = channelsOf(repo)
  const worker = <T>(type: string, body: unknown, opts?: CallOptions): Promise<T> => request('repo-worker', type, body, opts) as Promise<T>
  return {
    records: {
      append: (value, opts) => worker(M.append, { value, opId: opts?.opId }, opts),
      get: (seq, opts) => worker(M.get, { seq }, opts),
      scan: (range = {}, opts) => worker(M.scan, range, opts),
      count: (opts) => worker(M.count, {}, opts),
    },
    timers: {
      schedule: (id, at, payload, opts) => worker(M.scheduleTimer, { id, at, payload }, opts),
      list: (opts) => worker(M.listTimers, {}, opts),
    },
    fault: async (mode, opts) => {
      await request('host', M.fault, { mode, hangMs: opts?.hangMs }, { timeoutMs: 10_000 })
    },
  }
}
