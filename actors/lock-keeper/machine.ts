/**
 * LockKeeper lifecycle. Leases (TTL, fencing tokens, grace takeover) arrive
 * with the lease issue; the runtime already places, persists and restarts it.
 */
import { assign, setup } from 'xstate'
import type { Envelope } from '../../protocol/envelope.ts'

export const LOCK_KEEPER_SNAPSHOT_VERSION = 1

export interface LockKeeperContext {
  /** Highest fencing token issued per resource; persisted so tokens never repeat. */
  tokens: Record<string, number>
  requests: number
}

export const lockKeeperMachine = setup({
  types: {
    context: {} as LockKeeperContext,
    events: {} as { type: 'REQUEST'; req: Envelope } | { type: 'FAIL' } | { type: 'STOP' },
  },
  actions: {
    answer: (_, _params: { req: Envelope }) => {},
  },
}).createMachine({
  id: 'lock-keeper',
  context: { tokens: {}, requests: 0 },
  initial: 'ready',
  states: {
    ready: {
      on: {
        REQUEST: { actions: [assign({ requests: ({ context }) => context.requests + 1 }), { type: 'answer', params: ({ event }) => ({ req: event.req }) }] },
        FAIL: 'failed',
        STOP: 'stopped',
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
})
