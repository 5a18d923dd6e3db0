/**
 * The LockKeeper's remote lane, as a pure machine: requests for leases on a
 * git remote are queued by the shell (remote/lane.ts) and worked one at a
 * time, apart from the local group-commit loop, so a slow or unreachable
 * remote never delays a local grant or a local heartbeat. One at a time
 * keeps this repository's appends to a chain in order; the remote's
 * compare-and-swap orders them against other machines.
 */
import { fromPromise, setup } from 'xstate'
import type { Envelope } from '../../../protocol/envelope.ts'

export type RemoteLaneEvent = { type: 'REQUEST'; req: Envelope } | { type: 'STOP' }

export const remoteLaneMachine = setup({
  types: { events: {} as RemoteLaneEvent },
  actions: {
    enqueue: (_, _params: { req: Envelope }) => {},
  },
  actors: {
    /** Works the next queued request (drain: answer the rest STOPPED and wait for the one in flight). */
    work: fromPromise<{ more: boolean }, { drain: boolean }>(async () => { throw new Error('work not provided') }),
  },
}).createMachine({
  id: 'lock-keeper-remote',
  initial: 'idle',
  states: {
    idle: {
      on: {
        REQUEST: { target: 'working', actions: { type: 'enqueue', params: ({ event }) => ({ req: event.req }) } },
        STOP: 'draining',
      },
    },
    working: {
      invoke: {
        src: 'work',
        input: { drain: false },
        onDone: [
          { guard: ({ event }) => event.output.more, target: 'working', reenter: true },
          { target: 'idle' },
        ],
        onError: 'failed',
      },
      on: {
        REQUEST: { actions: { type: 'enqueue', params: ({ event }) => ({ req: event.req }) } },
        STOP: 'draining',
      },
    },
    draining: {
      invoke: { src: 'work', input: { drain: true }, onDone: 'stopped', onError: 'failed' },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
})
