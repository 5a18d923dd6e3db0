/**
 * The Supervisor's lifecycle: booting → reconciling → serving → draining →
 * stopped. Pure: effects (opening the home store, reconciling repositories,
 * stopping hosts) are named actors the engine provides.
 */
import { assign, fromPromise, setup } from 'xstate'

export interface SupervisorContext {
  error: string | null
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
}).createMachine({
  id: 'supervisor',
  context: { error: null },
  initial: 'booting',
  states: {
    booting: {
      invoke: { src: 'boot', onDone: 'reconciling', onError: { target: 'draining', actions: assign({ error: ({ event }) => String((event.error as Error)?.message ?? event.error) }) } },
    },
    reconciling: {
      invoke: { src: 'reconcile', onDone: 'serving', onError: { target: 'draining', actions: assign({ error: ({ event }) => String((event.error as Error)?.message ?? event.error) }) } },
    },
    serving: { on: { STOP: 'draining' } },
    draining: {
      invoke: { src: 'drain', onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
  },
})
