/**
 * What the Supervisor tells an operator: a snapshot per actor
 * (`runtime.actors()`) and the stream of supervision events
 * (`runtime.watch()`), as plain data that crosses the daemon's socket and a
 * JSON envelope unchanged.
 */
import type { ActorKind } from './messages.ts'

/**
 * Why something died, as plain data: the error's message, its class name and
 * its own code (a Cairn code, or Node's `ERR_MODULE_NOT_FOUND` and the like).
 */
export interface FailureCause { message: string; name?: string; code?: string }

/** A failure and when it happened (runtime clock, ms since the epoch). */
export interface Failure { cause: FailureCause; at: number }

/**
 * One actor as the Supervisor sees it.
 *
 * `state` is its supervision: `running`, `restarting` (backing off or its
 * thread relaunching) or `failed` (past its restart intensity, or its thread
 * could not start); `starting` and `stopping` while its repository's thread
 * is. `machine` is the state its machine reports, null when the thread did
 * not answer. `handled` counts the requests it answered since it last started.
 */
export interface ActorInfo {
  /** The repository's git common dir. */
  repo: string
  repoId: string
  /** `<kind>:<repoId>` */
  actor: string
  kind: ActorKind
  thread: number | null
  state: 'starting' | 'running' | 'restarting' | 'failed' | 'stopping'
  machine: string | null
  mailbox: number
  capacity: number
  handled: number
  restarts: number
  lastFailure: Failure | null
  /** When the repository was opened in this runtime (kept across restarts and moves). */
  openSince: number
}

export type SupervisionEventType =
  | 'placed' | 'started' | 'failed' | 'restarted' | 'gave-up' | 'thread-died' | 'closed' | 'moved'

/**
 * One supervision event. `seq` increases by one per event of a runtime, so a
 * consumer sees a gap when it missed some (a `missed` item also says so).
 *
 * - `placed`: a repository was given a thread; `started`: its actors serve.
 * - `failed`: an actor (`kind`) failed with `cause`; `restartInMs` is its
 *   backoff, null when it gives up (a `gave-up` follows).
 * - `restarted`: actors serve again after a failure, a thread death, or an
 *   operator's `restart` (`reason: 'operator'`).
 * - `gave-up`: past the restart intensity (or a thread that cannot start):
 *   requests are refused with `error` until `restart`.
 * - `thread-died`: the thread hosting the repository died, with `cause`.
 * - `closed`: passivated (`reason`: `request` or `idle`); `moved`: handed off
 *   from thread `from` to thread `to`.
 */
export interface SupervisionEvent {
  seq: number
  /** Runtime clock, ms since the epoch. */
  at: number
  type: SupervisionEventType
  repo: string
  repoId: string
  kind?: ActorKind
  thread?: number | null
  cause?: FailureCause
  restartInMs?: number | null
  error?: { code: string; message: string }
  reason?: 'request' | 'idle' | 'operator' | 'failure' | 'thread'
  from?: number | null
  to?: number | null
  /** How long the hand-off (close, move, restart) held requests. */
  ms?: number
}

/** Told to a watcher that fell behind: events `fromSeq`..`toSeq` (count of them) were dropped for it. */
export interface MissedEvents { type: 'missed'; count: number; fromSeq: number; toSeq: number }

export type WatchItem = SupervisionEvent | MissedEvents
