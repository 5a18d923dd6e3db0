/**
 * LockKeeper lifecycle and its group-commit loop, as a pure machine.
 *
 * Lease operations only enqueue (the shell holds them); a commit applies
 * everything queued to the lease table in arrival order, persists the
 * changes in one transaction and replies once that is durable. Reads
 * (list, status) are answered from the in-memory table at once. Grants and
 * their tokens are therefore on disk before any holder learns of them. A
 * commit that throws (the disk, or injected) leaves the machine `failed`:
 * the host reports the actor failed and the Supervisor restarts it.
 */
import { fromPromise, setup } from 'xstate'
import type { Envelope } from '../../protocol/envelope.ts'

/** Bump when states or context change shape: older snapshots are then discarded. */
export const LOCK_KEEPER_SNAPSHOT_VERSION = 2

export type LockKeeperEvent =
  | { type: 'WRITE'; req: Envelope }
  | { type: 'READ'; req: Envelope }
  /** A lease lapsed past its grace or a waiter's deadline came: re-examine waiters. */
  | { type: 'WAKE' }
  | { type: 'STOP' }

export const lockKeeperMachine = setup({
  types: {
    events: {} as LockKeeperEvent,
  },
  actions: {
    enqueue: (_, _params: { req: Envelope }) => {},
    enqueueWake: () => {},
    answerRead: (_, _params: { req: Envelope }) => {},
  },
  actors: {
    commitBatch: fromPromise<{ more: boolean }, { drain: boolean }>(async () => { throw new Error('commitBatch not provided') }),
  },
}).createMachine({
  id: 'lock-keeper',
  initial: 'idle',
  on: {
    READ: { actions: { type: 'answerRead', params: ({ event }) => ({ req: event.req }) } },
  },
  states: {
    idle: {
      on: {
        WRITE: { target: 'committing', actions: { type: 'enqueue', params: ({ event }) => ({ req: event.req }) } },
        WAKE: { target: 'committing', actions: 'enqueueWake' },
        STOP: 'stopped',
      },
    },
    committing: {
      invoke: {
        src: 'commitBatch',
        input: { drain: false },
        onDone: [
          { guard: ({ event }) => event.output.more, target: 'committing', reenter: true },
          { target: 'idle' },
        ],
        onError: 'failed',
      },
      on: {
        WRITE: { actions: { type: 'enqueue', params: ({ event }) => ({ req: event.req }) } },
        WAKE: { actions: 'enqueueWake' },
        STOP: 'draining',
      },
    },
    draining: {
      invoke: { src: 'commitBatch', input: { drain: true }, onDone: 'stopped', onError: 'failed' },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
})
