/**
 * One repository host's supervision, pure: starting → ready → restarting →
 * failed → stopping → stopped. Every restart decision of the Supervisor is
 * made here, from the events the engine (repo-host.ts) reports:
 *
 * - the thread died or its task ended (`EXITED`): every actor of the host
 *   counts one restart against its intensity (one-for-one per actor; a
 *   thread death crashes all three); past the intensity the host is
 *   `failed`, else it relaunches after the longest backoff any actor asks for;
 * - an actor failed inside a live host (`ACTOR_FAILED`): only that actor
 *   restarts, after its backoff (a delayed `ACTOR_RESTART_DUE`), or gives up;
 * - a first start that never reached `ready` fails at once (a module that
 *   does not load, a store that is refused, will not heal by retrying);
 * - `STOP` is honoured in every state: a booting host is stopped as soon as
 *   it can take the message, a waiting restart is cancelled.
 *
 * Time: events carry `at` (the runtime clock's now) and `jitter` (a random
 * draw in [0, 1)), and backoffs are delayed events that run on the actor's
 * clock, which the engine wires to the injected runtime clock. So
 * `transition()` steps this machine with no thread, timer or randomness.
 *
 * Effects are named actions with plain-data params, implemented by the engine:
 * `launch`, `announceReady`, `failInFlight`, `threadDied`, `gaveUp`,
 * `actorFailing`, `restartActor`, `actorRestarted`, `sendStop`.
 */
import { assign, enqueueActions, setup } from 'xstate'
import { ACTOR_KINDS, actorAddress, type ActorKind } from '../../protocol/messages.ts'
import type { WireError } from '../../protocol/errors.ts'
import {
  failureOfActor, failureOfHost, hostGivesUp, newActors, restartAfterActorFailure, restartAfterExit,
  type ActorSupervision, type FailureCause,
} from './host-restarts.ts'
import type { RestartPolicy } from './restart-policy.ts'

export type { ActorSupervision, FailureCause } from './host-restarts.ts'

export interface HostContext {
  repoId: string
  path: string
  policy: RestartPolicy
  /** The current launch of the host task; 0 before the first. */
  generation: number
  threadId: number | null
  /** The backoff before the next relaunch (restarting.backoff). */
  backoffMs: number
  actors: Record<ActorKind, ActorSupervision>
  /** Why the host is failed: what every request to it is refused with. */
  failure: WireError | null
}

export type HostEvent =
  | { type: 'READY'; threadId: number }
  | { type: 'START_FAILED'; error: WireError }
  | { type: 'EXITED'; cause: FailureCause | null; at: number; jitter: number }
  | { type: 'ACTOR_FAILED'; kind: ActorKind; cause: FailureCause; at: number; jitter: number }
  | { type: 'ACTOR_RESTART_DUE'; kind: ActorKind; generation: number }
  | { type: 'ACTOR_RESTARTED'; kind: ActorKind; generation: number }
  | { type: 'STOP' }

export interface HostInput { repoId: string; path: string; policy: RestartPolicy }

/** What a task that returned without being asked to stop is reported as. */
export const ENDED_UNEXPECTEDLY: FailureCause = { message: 'host task ended unexpectedly' }

type Ev<T extends HostEvent['type']> = Extract<HostEvent, { type: T }>

/** The effects the engine implements, with their params. */
interface Effects {
  launch: { generation: number }
  announceReady: { generation: number; threadId: number; first: boolean }
  failInFlight: { cause: FailureCause }
  threadDied: { threadId: number | null; generation: number; cause: FailureCause }
  gaveUp: { kind: ActorKind | null; error: WireError }
  actorFailing: { kind: ActorKind; cause: FailureCause; restartInMs: number | null }
  restartActor: { kind: ActorKind; generation: number }
  actorRestarted: { kind: ActorKind; generation: number }
  sendStop: { generation: number }
}

/**
 * An effect for `enqueue` inside `setup({ actions })`, whose typings cannot
 * name sibling actions yet; the params are checked against {@link Effects}.
 */
const effect = <K extends keyof Effects>(type: K, params: Effects[K]): never => ({ type, params }) as never
const exitCause = (e: HostEvent): FailureCause => (e as Ev<'EXITED'>).cause ?? ENDED_UNEXPECTEDLY

export const hostMachine = setup({
  types: {
    context: {} as HostContext,
    events: {} as HostEvent,
    input: {} as HostInput,
  },
  actions: {
    // Effects, implemented by the engine (repo-host.ts).
    launch: (_, _p: { generation: number }) => {},
    announceReady: (_, _p: { generation: number; threadId: number; first: boolean }) => {},
    failInFlight: (_, _p: { cause: FailureCause }) => {},
    threadDied: (_, _p: { threadId: number | null; generation: number; cause: FailureCause }) => {},
    gaveUp: (_, _p: { kind: ActorKind | null; error: WireError }) => {},
    actorFailing: (_, _p: { kind: ActorKind; cause: FailureCause; restartInMs: number | null }) => {},
    restartActor: (_, _p: { kind: ActorKind; generation: number }) => {},
    actorRestarted: (_, _p: { kind: ActorKind; generation: number }) => {},
    sendStop: (_, _p: { generation: number }) => {},

    launchNext: enqueueActions(({ enqueue, context }) => {
      enqueue.assign({ generation: context.generation + 1 })
      enqueue(effect('launch', { generation: context.generation + 1 }))
    }),
    markReady: enqueueActions(({ enqueue, context, event }) => {
      const { threadId } = event as Ev<'READY'>
      enqueue(effect('announceReady', { generation: context.generation, threadId, first: context.generation === 1 }))
      const actors = { ...context.actors }
      for (const kind of ACTOR_KINDS) if (actors[kind].state === 'restarting') actors[kind] = { ...actors[kind], state: 'running' }
      enqueue.assign({ threadId, actors })
    }),
    /** The thread is gone: report it, fail what was in flight, count the restarts. */
    exited: enqueueActions(({ enqueue, context, event }) => {
      const e = event as Ev<'EXITED'>
      const cause = exitCause(e)
      enqueue(effect('threadDied', { threadId: context.threadId, generation: context.generation, cause }))
      enqueue(effect('failInFlight', { cause }))
      const next = restartAfterExit(context, cause, e.at, e.jitter)
      if (next.delayMs === null) {
        const failure = failureOfHost(context.path, cause, 'intensity', next.reason ?? undefined)
        enqueue.assign({ actors: next.actors, failure })
        enqueue(effect('gaveUp', { kind: null, error: failure }))
      } else {
        enqueue.assign({ actors: next.actors, backoffMs: next.delayMs })
      }
    }),
    failedToStart: enqueueActions(({ enqueue, context, event }) => {
      const cause = exitCause(event)
      enqueue(effect('threadDied', { threadId: context.threadId, generation: context.generation, cause }))
      const failure = failureOfHost(context.path, cause, 'start')
      enqueue.assign({ failure })
      enqueue(effect('gaveUp', { kind: null, error: failure }))
    }),
    refused: enqueueActions(({ enqueue, event }) => {
      const { error } = event as Ev<'START_FAILED'>
      enqueue.assign({ failure: error })
      enqueue(effect('gaveUp', { kind: null, error }))
    }),
    actorFailed: enqueueActions(({ enqueue, context, event }) => {
      const e = event as Ev<'ACTOR_FAILED'>
      const next = restartAfterActorFailure(context, e.kind, e.cause, e.at, e.jitter)
      enqueue.assign({ actors: { ...context.actors, [e.kind]: next.actor } })
      enqueue(effect('actorFailing', { kind: e.kind, cause: e.cause, restartInMs: next.delayMs }))
      if (next.delayMs === null) {
        enqueue(effect('gaveUp', { kind: e.kind, error: failureOfActor(actorAddress(e.kind, context.repoId), next.actor) }))
      } else {
        // Keyed by actor: a newer failure of the same actor replaces its pending restart.
        enqueue.raise({ type: 'ACTOR_RESTART_DUE', kind: e.kind, generation: context.generation },
          { delay: next.delayMs, id: `restart:${e.kind}` })
      }
    }),
    actorBack: enqueueActions(({ enqueue, context, event }) => {
      const e = event as Ev<'ACTOR_RESTARTED'>
      enqueue.assign({ actors: { ...context.actors, [e.kind]: { ...context.actors[e.kind], state: 'running' } } })
      enqueue(effect('actorRestarted', { kind: e.kind, generation: e.generation }))
    }),
  },
  guards: {
    givesUp: ({ context, event }) => hostGivesUp(context, exitCause(event), (event as Ev<'EXITED'>).at, (event as Ev<'EXITED'>).jitter),
    /** A restart timer or reply of this generation, for an actor still restarting. */
    current: ({ context, event }) => {
      const e = event as Ev<'ACTOR_RESTART_DUE' | 'ACTOR_RESTARTED'>
      return e.generation === context.generation && context.actors[e.kind].state === 'restarting'
    },
    /** Requests to a given-up actor are refused by the engine; it does not fail again. */
    actorLive: ({ context, event }) => context.actors[(event as Ev<'ACTOR_FAILED'>).kind].state !== 'failed',
  },
  delays: {
    backoff: ({ context }) => context.backoffMs,
  },
}).createMachine({
  id: 'host',
  context: ({ input }) => ({
    repoId: input.repoId, path: input.path, policy: input.policy,
    generation: 0, threadId: null, backoffMs: 0, actors: newActors(ACTOR_KINDS), failure: null,
  }),
  initial: 'starting',
  states: {
    starting: {
      entry: 'launchNext',
      on: {
        READY: { target: 'ready', actions: 'markReady' },
        START_FAILED: { target: 'failed', actions: 'refused' },
        // Never ready: the thread could not load its module or open its repository.
        EXITED: { target: 'failed', actions: 'failedToStart' },
        STOP: 'stopping.awaitingReady',
      },
    },
    ready: {
      on: {
        EXITED: [
          { guard: 'givesUp', target: 'failed', actions: 'exited' },
          { target: 'restarting', actions: 'exited' },
        ],
        ACTOR_FAILED: { guard: 'actorLive', actions: 'actorFailed' },
        ACTOR_RESTART_DUE: { guard: 'current', actions: { type: 'restartActor', params: ({ event }) => ({ kind: event.kind, generation: event.generation }) } },
        ACTOR_RESTARTED: { guard: 'current', actions: 'actorBack' },
        STOP: 'stopping.draining',
      },
    },
    restarting: {
      initial: 'backoff',
      states: {
        backoff: {
          after: { backoff: 'launching' },
          on: { STOP: '#host.stopped' },
        },
        launching: {
          entry: 'launchNext',
          on: {
            READY: { target: '#host.ready', actions: 'markReady' },
            START_FAILED: { target: '#host.failed', actions: 'refused' },
            EXITED: [
              { guard: 'givesUp', target: '#host.failed', actions: 'exited' },
              { target: 'backoff', actions: 'exited' },
            ],
            STOP: '#host.stopping.awaitingReady',
          },
        },
      },
    },
    failed: {
      on: { STOP: 'stopped' },
    },
    stopping: {
      initial: 'draining',
      states: {
        // Booting: the host reads no message until it is ready, so the stop waits for that.
        awaitingReady: {
          on: {
            READY: 'draining',
            START_FAILED: '#host.stopped',
            EXITED: '#host.stopped',
          },
        },
        draining: {
          entry: { type: 'sendStop', params: ({ context }) => ({ generation: context.generation }) },
          on: { EXITED: '#host.stopped' },
        },
      },
    },
    stopped: { type: 'final' },
  },
})

/** The top-level state of a host snapshot (`restarting`, not `{ restarting: 'backoff' }`). */
export function hostState(value: unknown): HostState {
  return (typeof value === 'string' ? value : Object.keys(value as object)[0]) as HostState
}

export type HostState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped'
