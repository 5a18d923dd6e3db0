/**
 * The decisions of the host machine (host-machine.ts) as plain functions:
 * what a thread death or an actor failure does to each actor's restart
 * history (restart-policy.ts), and the errors a failed host or actor answers
 * with. Pure: time and randomness come in as arguments.
 *
 * @example
 *   const next = restartAfterExit(context, { message: 'worker exited' }, now, 0.5)
 *   if (next.delayMs === null) giveUp() else relaunchAfter(next.delayMs)
 */
import type { ActorKind } from '../../protocol/messages.ts'
import type { WireError } from '../../protocol/errors.ts'
import type { Failure, FailureCause } from '../../protocol/supervision.ts'
import { decideRestart, EMPTY_HISTORY, type RestartHistory, type RestartPolicy } from './restart-policy.ts'

export type { Failure, FailureCause }

export type ActorSupervisionState = 'running' | 'restarting' | 'failed'

export interface ActorSupervision {
  state: ActorSupervisionState
  history: RestartHistory
  lastFailure: Failure | null
}

type Actors = Record<ActorKind, ActorSupervision>

interface Supervised { policy: RestartPolicy; actors: Actors }

export function newActors(kinds: readonly ActorKind[]): Actors {
  return Object.fromEntries(kinds.map((k) => [k, { state: 'running', history: EMPTY_HISTORY, lastFailure: null }])) as Actors
}

/**
 * A thread death or an ended task: every actor not already given up counts
 * one restart. `delayMs` is the longest backoff any of them asks for, or null
 * when one of them is past its intensity (the host gives up).
 */
export function restartAfterExit(s: Supervised, cause: FailureCause, at: number, jitter: number): { actors: Actors; delayMs: number | null; reason: string | null } {
  const actors = { ...s.actors }
  let delayMs: number | null = 0
  let reason: string | null = null
  for (const kind of Object.keys(actors) as ActorKind[]) {
    const a = actors[kind]
    if (a.state === 'failed') continue
    const d = decideRestart(s.policy, a.history, at, () => jitter)
    const lastFailure = { cause, at }
    if (d.action === 'fail') {
      actors[kind] = { state: 'failed', history: d.history, lastFailure }
      delayMs = null
      reason ??= d.reason
    } else {
      actors[kind] = { state: 'restarting', history: d.history, lastFailure }
      if (delayMs !== null) delayMs = Math.max(delayMs, d.delayMs)
    }
  }
  return { actors, delayMs, reason }
}

export function hostGivesUp(s: Supervised, cause: FailureCause, at: number, jitter: number): boolean {
  return restartAfterExit(s, cause, at, jitter).delayMs === null
}

/** One actor failed inside a live host: its backoff, or null when it gives up. */
export function restartAfterActorFailure(s: Supervised, kind: ActorKind, cause: FailureCause, at: number, jitter: number): { actor: ActorSupervision; delayMs: number | null; reason: string | null } {
  const d = decideRestart(s.policy, s.actors[kind].history, at, () => jitter)
  const lastFailure = { cause, at }
  return d.action === 'fail'
    ? { actor: { state: 'failed', history: d.history, lastFailure }, delayMs: null, reason: d.reason }
    : { actor: { state: 'restarting', history: d.history, lastFailure }, delayMs: d.delayMs, reason: null }
}

/**
 * What a failed host answers every request with. A first start that never got
 * ready is UNAVAILABLE with the cause in `details.cause`; restarting past the
 * intensity is ACTOR_FAILED.
 */
export function failureOfHost(path: string, cause: FailureCause, why: 'start' | 'intensity', reason?: string): WireError {
  return why === 'start'
    ? { code: 'UNAVAILABLE', message: `the thread for ${path} could not start: ${cause.message}`, details: { repo: path, cause } }
    : { code: 'ACTOR_FAILED', message: `actors of ${path} exceeded their restart intensity (${reason ?? 'too many restarts'}): ${cause.message}`, details: { repo: path, cause } }
}

/** What an actor that gave up answers requests with. */
export function failureOfActor(address: string, actor: ActorSupervision): WireError {
  const cause = actor.lastFailure?.cause ?? { message: 'unknown' }
  return { code: 'ACTOR_FAILED', message: `${address} exceeded its restart intensity: ${cause.message}`, details: { actor: address, cause } }
}

/** The plain-data cause of anything thrown. */
export function causeOf(err: unknown): FailureCause {
  if (err instanceof Error) {
    const cause: FailureCause = { message: err.message, name: err.name }
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') cause.code = code
    return cause
  }
  return { message: String(err) }
}
