/**
 * The Supervisor's lifecycle: booting → reconciling → serving → draining →
 * stopped. Pure: effects (opening the home store, reconciling repositories,
 * stopping hosts) are named actors the engine provides.
 *
 * A STOP is honoured in every state. During boot or reconciliation it is
 * remembered and the runtime drains as soon as that step settles (cancelling
 * a step midway would leave its half-opened stores to a drain that runs
 * beside it); the engine's start() then rejects with STOPPED.
 */
import { assign, fromPromise, setup } from 'xstate'

export interface SupervisorContext {
  error: string | null
  /** A STOP arrived before serving: drain once the current step settles. */
  stopRequested: boolean
}

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as { type: 'STOP' },
  },
  actors: {
    boot: fromPromise<void>(async () => {}),
    reconcile: fromPromise<void>(async () => {}),
    drain: fromPromise<void>(async () => {}),
  },
  guards: {
    stopRequested: ({ context }) => context.stopRequested,
  },
  actions: {
    requestStop: assign({ stopRequested: true }),
    recordError: assign({ error: ({ event }) => {
      const error = (event as unknown as { error: unknown }).error
      return String((error as Error)?.message ?? error)
    } }),
  },
}).createMachine({
  id: 'supervisor',
  context: { error: null, stopRequested: false },
  initial: 'booting',
  states: {
    booting: {
      invoke: {
        src: 'boot',
        onDone: [{ guard: 'stopRequested', target: 'draining' }, { target: 'reconciling' }],
        onError: { target: 'draining', actions: 'recordError' },
      },
      on: { STOP: { actions: 'requestStop' } },
    },
    reconciling: {
      invoke: {
        src: 'reconcile',
        onDone: [{ guard: 'stopRequested', target: 'draining' }, { target: 'serving' }],
        onError: { target: 'draining', actions: 'recordError' },
      },
      on: { STOP: { actions: 'requestStop' } },
    },
    serving: { on: { STOP: 'draining' } },
    draining: {
      invoke: { src: 'drain', onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
  },
})
