/**
 * The Sync actor as a pure machine: `idle → fetching → ingesting → pushing →
 * idle`, with `backoff` after a failure.
 *
 * Single-flight: a request for the run in progress (same remote and
 * directions) joins it and gets the same report; any other request queues
 * and starts when the current run ends. The machine only decides; the shell
 * (effects.ts) holds the waiting requests, runs the phases over git and the
 * store, and arms the retry timer on the runtime clock.
 *
 * Backoff: each consecutive failure doubles the wait (100 ms .. 30 s, with no
 * jitter here: the shell adds none either, one replica has one sync actor per
 * repository). Requests arriving during backoff wait for it to end; a success
 * resets the count. The last error and the retry time are kept for status.
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate'
import type { Envelope } from '../../protocol/envelope.ts'
import type { WireError } from '../../protocol/errors.ts'

/** Bump when states or context change shape: older snapshots are then discarded. */
export const SYNC_SNAPSHOT_VERSION = 2

export const BACKOFF_MIN_MS = 100
export const BACKOFF_MAX_MS = 30_000

/** What one run does. `key` identifies runs that may be joined. */
export interface RunSpec {
  key: string
  kind: 'remote' | 'grite'
  /** The remote as the caller named it (remote name, URL or path); '' for grite. */
  remote: string
  pull: boolean
  push: boolean
}

export interface SyncContext {
  runs: number
  /** Consecutive failures; 0 after a success. */
  failures: number
  lastError: WireError | null
  /** The wait of the current backoff, or null outside backoff. */
  backoffMs: number | null
  current: RunSpec | null
  queue: RunSpec[]
  lastRun: { key: string; ok: boolean } | null
}

export type SyncEvent =
  /** `req` is null for a run nobody waits on (a banked run resumed at boot). */
  | { type: 'SYNC'; req: Envelope | null; spec: RunSpec }
  | { type: 'STATUS'; req: Envelope }
  | { type: 'RETRY' }
  | { type: 'STOP' }
  | { type: 'FAIL' }

/** The delay before retry number `failures` (1-based). */
export function backoffDelay(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, Math.min(failures - 1, 20)))
}

/** A phase's rejection as plain data: coded errors keep their code, anything else is INTERNAL. */
export function errorOf(e: unknown): WireError {
  const err = e as { code?: unknown; message?: unknown } | null
  if (typeof err?.code === 'string' && typeof err.message === 'string') return { code: err.code as WireError['code'], message: err.message }
  return { code: 'INTERNAL', message: String(err?.message ?? e) }
}

export const syncMachine = setup({
  types: {
    context: {} as SyncContext,
    events: {} as SyncEvent,
  },
  actions: {
    /** The shell keeps `req` until the run with `spec.key` settles. */
    join: (_, _params: { req: Envelope | null; spec: RunSpec }) => {},
    answerStatus: (_, _params: { req: Envelope }) => {},
    /** Replies to every request waiting on `key`: the report, or `error`. */
    settle: (_, _params: { key: string; error: WireError | null }) => {},
    /** Sends RETRY after `ms` on the runtime clock. */
    armRetry: (_, _params: { ms: number }) => {},
    // Named actions enqueued below are typed at their definitions above; `as never` only bridges
    // setup()'s self-reference, which TypeScript cannot express.
    queueOrJoin: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SYNC') return
      const known = context.current?.key === event.spec.key || context.queue.some((q) => q.key === event.spec.key)
      if (!known) enqueue.assign({ queue: [...context.queue, event.spec] })
      enqueue({ type: 'join', params: { req: event.req, spec: event.spec } } as never)
    }),
    recordSuccess: enqueueActions(({ context, enqueue }) => {
      const key = context.current?.key ?? ''
      enqueue({ type: 'settle', params: { key, error: null } } as never)
      enqueue.assign({ runs: context.runs + 1, failures: 0, lastError: null, current: null, lastRun: { key, ok: true } })
    }),
    recordFailure: enqueueActions(({ context, event, enqueue }) => {
      const key = context.current?.key ?? ''
      const error = errorOf((event as { error?: unknown }).error)
      const failures = context.failures + 1
      const ms = backoffDelay(failures)
      enqueue({ type: 'settle', params: { key, error } } as never)
      enqueue.assign({ runs: context.runs + 1, failures, lastError: error, backoffMs: ms, current: null, lastRun: { key, ok: false } })
      enqueue({ type: 'armRetry', params: { ms } } as never)
    }),
  },
  actors: {
    fetchRemote: fromPromise<void, RunSpec>(async () => { throw new Error('fetchRemote not provided') }),
    ingestRefs: fromPromise<void, RunSpec>(async () => { throw new Error('ingestRefs not provided') }),
    pushRefs: fromPromise<void, RunSpec>(async () => { throw new Error('pushRefs not provided') }),
  },
  guards: {
    hasQueued: ({ context }) => context.queue.length > 0,
    wantsPush: ({ context }) => context.current?.push === true,
  },
}).createMachine({
  id: 'sync',
  context: { runs: 0, failures: 0, lastError: null, backoffMs: null, current: null, queue: [], lastRun: null },
  initial: 'idle',
  on: {
    STATUS: { actions: { type: 'answerStatus', params: ({ event }) => ({ req: event.req }) } },
    STOP: '.stopped',
    FAIL: '.failed',
  },
  states: {
    idle: {
      always: {
        guard: 'hasQueued',
        target: 'fetching',
        actions: assign({ current: ({ context }) => context.queue[0] ?? null, queue: ({ context }) => context.queue.slice(1) }),
      },
      on: {
        SYNC: {
          target: 'fetching',
          actions: [
            assign({ current: ({ event }) => event.spec }),
            { type: 'join', params: ({ event }) => ({ req: event.req, spec: event.spec }) },
          ],
        },
      },
    },
    fetching: {
      on: { SYNC: { actions: 'queueOrJoin' } },
      invoke: {
        src: 'fetchRemote',
        input: ({ context }) => context.current!,
        onDone: 'ingesting',
        onError: { target: 'backoff', actions: 'recordFailure' },
      },
    },
    ingesting: {
      on: { SYNC: { actions: 'queueOrJoin' } },
      invoke: {
        src: 'ingestRefs',
        input: ({ context }) => context.current!,
        onDone: [{ guard: 'wantsPush', target: 'pushing' }, { target: 'idle', actions: 'recordSuccess' }],
        onError: { target: 'backoff', actions: 'recordFailure' },
      },
    },
    pushing: {
      on: { SYNC: { actions: 'queueOrJoin' } },
      invoke: {
        src: 'pushRefs',
        input: ({ context }) => context.current!,
        onDone: { target: 'idle', actions: 'recordSuccess' },
        onError: { target: 'backoff', actions: 'recordFailure' },
      },
    },
    backoff: {
      on: {
        // Requests wait for the backoff to end; queued runs start from idle.
        SYNC: { actions: 'queueOrJoin' },
        RETRY: { target: 'idle', actions: assign({ backoffMs: null }) },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
})
