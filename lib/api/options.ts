/**
 * createRuntime options: validated up front with errors that name the option
 * (piscina style), then frozen into a fully-defaulted record.
 */
import { availableParallelism, homedir } from 'node:os'
import { join } from 'node:path'
import { CairnError } from '../../protocol/errors.ts'
import type { Clock, ClockDescriptor } from '../kernel/ports/clock.ts'
import { SystemClock } from '../adapters/system-clock.ts'
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from '../../actors/supervisor/restart-policy.ts'
import type { SupervisorOptions } from '../../actors/supervisor/options.ts'

export interface RuntimeOptions {
  /** Runtime home (journal, daemon files). Default `$CAIRN_HOME` or `~/.local/state/cairn`. */
  home?: string
  /**
   * Worker threads, all started with the runtime. Default min(4, cores). A
   * thread loads the code that hosts repositories when it first hosts one
   * (the first thread at once): until then it costs a bare isolate.
   */
  threads?: number
  /** Repositories hosted per thread (Piscina `concurrentTasksPerWorker`). Default 16. */
  reposPerThread?: number
  /** Requests an actor accepts before answering MAILBOX_FULL. Default 1024. */
  mailboxCapacity?: number
  /** Default per-request timeout on the runtime clock. Default 30 s. */
  requestTimeoutMs?: number
  /** Restart intensity and backoff. Default 5 restarts in 10 s. */
  restart?: Partial<RestartPolicy>
  /**
   * Thread liveness checks; `false` disables. Default every 1 s, 20 s to
   * answer: a live thread can block that long loading a native module (the
   * first git write loads nodegit) on a loaded machine, and a thread killed
   * for it loses its in-flight requests; a truly hung one is still freed.
   */
  watchdog?: { intervalMs?: number; timeoutMs?: number } | false
  /** The clock every deadline reads. Default the system clock. */
  clock?: Clock & { describe(): ClockDescriptor }
  /**
   * Sends the requests made in one turn of the event loop to a repository's
   * thread as one message. Saves CPU when a turn gathers requests from many
   * sources (the daemon turns it on for its sockets: ~5% more durable writes
   * per second there); costs in-process callers that send in bursts (a burst
   * leaves only once it is complete). Default false.
   */
  coalesceRequests?: boolean
  /**
   * Closes (passivates) a repository nobody used for this long: its thread
   * slot, LMDB handles and caches are freed, and its next use opens it again
   * with nothing lost. 0 never closes. Default 0; the daemon's is 120 s.
   */
  idleCloseMs?: number
  /** Tests only: lets `repoHooks(repo).fault()` (`cairn/testing`) crash threads and actors. */
  __unsafe_faultInjection?: boolean
}

/** The options after validation and defaults; createRuntime adds where the host module is. */
export type ResolvedOptions = Omit<SupervisorOptions, 'hostEntry'>

/** How long a thread may leave the watchdog's ping unanswered before it is terminated. */
export const DEFAULT_WATCHDOG_TIMEOUT_MS = 20_000

const KNOWN = new Set(['home', 'threads', 'reposPerThread', 'mailboxCapacity', 'requestTimeoutMs', 'restart', 'watchdog', 'clock', 'coalesceRequests', 'idleCloseMs', '__unsafe_faultInjection'])

function bad(name: string, problem: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', `options.${name} ${problem}`, { option: name })
}

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw bad(name, `must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`)
  }
  return value as number
}

/** Validates and fills defaults. @example resolveOptions({ threads: 2 }) */
export function resolveOptions(options: unknown = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new CairnError('INVALID_ARGUMENT', 'options must be an object', { option: '' })
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw bad(key, 'is not a known option')

  const home = o.home ?? process.env.CAIRN_HOME ?? join(homedir(), '.local', 'state', 'cairn')
  if (typeof home !== 'string' || home.length === 0) throw bad('home', 'must be a non-empty path')

  const r = o.restart ?? {}
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw bad('restart', 'must be an object')
  const rr = r as Record<string, unknown>
  for (const key of Object.keys(rr)) if (!(key in DEFAULT_RESTART_POLICY)) throw bad(`restart.${key}`, 'is not a known option')
  const restart: RestartPolicy = {
    maxRestarts: int('restart.maxRestarts', rr.maxRestarts, DEFAULT_RESTART_POLICY.maxRestarts, 0, 1000),
    withinMs: int('restart.withinMs', rr.withinMs, DEFAULT_RESTART_POLICY.withinMs, 1, 86_400_000),
    initialBackoffMs: int('restart.initialBackoffMs', rr.initialBackoffMs, DEFAULT_RESTART_POLICY.initialBackoffMs, 0, 600_000),
    maxBackoffMs: int('restart.maxBackoffMs', rr.maxBackoffMs, DEFAULT_RESTART_POLICY.maxBackoffMs, 0, 3_600_000),
  }

  let watchdog: ResolvedOptions['watchdog'] = { intervalMs: 1000, timeoutMs: DEFAULT_WATCHDOG_TIMEOUT_MS }
  if (o.watchdog === false) watchdog = false
  else if (o.watchdog !== undefined) {
    if (typeof o.watchdog !== 'object' || o.watchdog === null) throw bad('watchdog', 'must be an object or false')
    const w = o.watchdog as Record<string, unknown>
    for (const key of Object.keys(w)) if (key !== 'intervalMs' && key !== 'timeoutMs') throw bad(`watchdog.${key}`, 'is not a known option')
    watchdog = {
      intervalMs: int('watchdog.intervalMs', w.intervalMs, 1000, 10, 3_600_000),
      timeoutMs: int('watchdog.timeoutMs', w.timeoutMs, DEFAULT_WATCHDOG_TIMEOUT_MS, 10, 3_600_000),
    }
  }

  const clock = o.clock ?? new SystemClock()
  const c = clock as Record<string, unknown>
  if (typeof c.now !== 'function' || typeof c.at !== 'function' || typeof c.describe !== 'function') {
    throw bad('clock', 'must provide now(), at() and describe() (use SystemClock or ManualClock)')
  }
  for (const name of ['coalesceRequests', '__unsafe_faultInjection']) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw bad(name, 'must be a boolean')
  }

  return {
    home,
    threads: int('threads', o.threads, Math.min(4, availableParallelism()), 1, 64),
    reposPerThread: int('reposPerThread', o.reposPerThread, 16, 1, 1024),
    mailboxCapacity: int('mailboxCapacity', o.mailboxCapacity, 1024, 1, 1_000_000),
    requestTimeoutMs: int('requestTimeoutMs', o.requestTimeoutMs, 30_000, 1, 86_400_000),
    restart,
    watchdog,
    clock: clock as ResolvedOptions['clock'],
    coalesceRequests: o.coalesceRequests === true,
    idleCloseMs: int('idleCloseMs', o.idleCloseMs, 0, 0, 7 * 86_400_000),
    faultInjection: o.__unsafe_faultInjection === true,
  }
}
