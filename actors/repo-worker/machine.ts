/**
 * RepoWorker lifecycle and group-commit loop, as a pure machine.
 *
 * Requests never wait for each other: WRITE/TIMER_FIRED only enqueue (the
 * shell holds the payloads), and while a commit runs the next batch grows.
 * Each commit journals the newly queued operations and applies the ones
 * journaled by the previous commit, so a crash between the two leaves a
 * journal entry for exactly the operations that were in flight.
 */
import { assign, fromPromise, setup } from 'xstate'
import type { Envelope } from '../../protocol/envelope.ts'
import type { DurableTimer } from '../../lib/kernel/store/snapshots.ts'

/** Bump when states or context change shape: older snapshots are then discarded. */
export const REPO_WORKER_SNAPSHOT_VERSION = 1

export interface RepoWorkerContext {
  /** Operations enqueued but not yet journaled. */
  queued: number
  /** Operations journaled by the last commit, applied by the next. */
  staged: number
  commits: number
}

export type RepoWorkerEvent =
  /**
   * The writes delivered in one turn of the loop: one event for all of
   * them, since a machine step per write cost as much as the write's own
   * LMDB puts. Their order is their arrival order.
   */
  | { type: 'WRITE'; reqs: readonly Envelope[] }
  | { type: 'READ'; req: Envelope }
  | { type: 'TIMER_FIRED'; timer: DurableTimer }
  | { type: 'STOP' }
  /** A write block did not commit: the shell's view is ahead of the disk, so the actor must restart. */
  | { type: 'BROKEN' }

export interface CommitOutput { staged: number }

export const repoWorkerMachine = setup({
  types: {
    context: {} as RepoWorkerContext,
    events: {} as RepoWorkerEvent,
  },
  actions: {
    enqueueWrites: (_, _params: { reqs: readonly Envelope[] }) => {},
    enqueueTimerFire: (_, _params: { timer: DurableTimer }) => {},
    answerRead: (_, _params: { req: Envelope }) => {},
    countWrites: assign({ queued: ({ context }, params: { n: number }) => context.queued + params.n }),
  },
  actors: {
    commitBatch: fromPromise<CommitOutput, { drain: boolean }>(async () => { throw new Error('commitBatch not provided') }),
  },
  guards: {
    hasWork: ({ context }) => context.queued > 0 || context.staged > 0,
  },
}).createMachine({
  id: 'repo-worker',
  context: { queued: 0, staged: 0, commits: 0 },
  initial: 'idle',
  on: {
    READ: { actions: { type: 'answerRead', params: ({ event }) => ({ req: event.req }) } },
    BROKEN: '.failed',
  },
  states: {
    idle: {
      always: { guard: 'hasWork', target: 'committing' },
      on: {
        WRITE: { target: 'committing', actions: [{ type: 'enqueueWrites', params: ({ event }) => ({ reqs: event.reqs }) }, { type: 'countWrites', params: ({ event }) => ({ n: event.reqs.length }) }] },
        TIMER_FIRED: { target: 'committing', actions: [{ type: 'enqueueTimerFire', params: ({ event }) => ({ timer: event.timer }) }, { type: 'countWrites', params: { n: 1 } }] },
        STOP: 'stopped',
      },
    },
    committing: {
      entry: assign({ queued: 0 }),
      invoke: {
        src: 'commitBatch',
        input: { drain: false },
        onDone: {
          target: 'idle',
          actions: assign({ staged: ({ event }) => event.output.staged, commits: ({ context }) => context.commits + 1 }),
        },
        onError: 'failed',
      },
      on: {
        WRITE: { actions: [{ type: 'enqueueWrites', params: ({ event }) => ({ reqs: event.reqs }) }, { type: 'countWrites', params: ({ event }) => ({ n: event.reqs.length }) }] },
        TIMER_FIRED: { actions: [{ type: 'enqueueTimerFire', params: ({ event }) => ({ timer: event.timer }) }, { type: 'countWrites', params: { n: 1 } }] },
        // Finish the commit in hand, then stop: acknowledged work is never cut short.
        STOP: { target: 'draining' },
      },
    },
    draining: {
      // drain: the shell commits until nothing is queued or staged.
      invoke: { src: 'commitBatch', input: { drain: true }, onDone: 'stopped', onError: 'failed' },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
})
