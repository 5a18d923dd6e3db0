/**
 * Sync lifecycle: `idle → fetching → ingesting → pushing → idle` arrives with
 * the sync issue; the runtime already places, persists and restarts it.
 */
import { assign, setup } from 'xstate'
import type { Envelope } from '../../protocol/envelope.ts'

export const SYNC_SNAPSHOT_VERSION = 1

export interface SyncContext {
  /** Last completed run's anchor per remote (banked progress lives in LMDB). */
  anchors: Record<string, string>
  requests: number
}

export const syncMachine = setup({
  types: {
    context: {} as SyncContext,
    events: {} as { type: 'REQUEST'; req: Envelope } | { type: 'FAIL' } | { type: 'STOP' },
  },
  actions: {
    answer: (_, _params: { req: Envelope }) => {},
  },
}).createMachine({
  id: 'sync',
  context: { anchors: {}, requests: 0 },
  initial: 'idle',
  states: {
    idle: {
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
