/**
 * The lifecycle of a lease handle, as a pure machine: when it heartbeats,
 * what a failed renewal means, and how it ends. Stepped with `transition()`
 * in tests; handle.ts runs it with the runtime's clock and the LockKeeper.
 *
 *   holding ──BEAT / RENEW──▶ renewing ──done──▶ holding
 *      │                         │ LEASE_LOST / LEASE_NOT_HELD ─▶ lost
 *      │                         │ failed, manual ──────────────▶ holding (the caller sees the error)
 *      │                         │ transient, before expiry ────▶ holding (beats again)
 *      │                         └ anything else ───────────────▶ lost
 *      ├─RELEASE──▶ releasing ──done──▶ released
 *      │                └ failed ──▶ holding (LEASE_LOST: lost)
 *      ├─LAPSED (valid() found its TTL passed unanswered) ─▶ lapsed ──RELEASE──▶ returning ──▶ released
 *      ├─EXPIRED (remote: its own expiresAt passed unrenewed) ─▶ lost
 *      ├─STOPPED (the runtime stops) ───▶ lost
 *      ├─FORGET (released another way: a close that ended the claim) ─▶ released
 *      └─DISPOSE (let go without releasing: the lease lapses on its TTL) ─▶ disposed
 *
 * Entering `lost` or `lapsed` aborts the handle's signal: work fenced by the
 * lease must stop. A lapsed handle (its holder's own monotonic deadline
 * passed, so someone may soon take over) may still hold the lease on the
 * keeper's side: its release gives it back early, fenced by the token. Timers are actions: `armBeat` about every ttl/3 while
 * auto-renewing, disarmed on leaving `holding`; `armExpiry` for remote
 * leases, which keeps watching while a renewal is in flight (one that hangs
 * past the expiry must not keep the handle alive) and is replaced when the
 * next one is armed; `disarm` drops both when the handle ends.
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate'
import type { CairnError } from '../../../protocol/errors.ts'
import type { LeaseInfo, RemoteLeaseInfo } from '../../../protocol/messages.ts'

export type HeldLease = LeaseInfo | RemoteLeaseInfo

/** Codes a background renewal retries while the lease lasts (remote: the network too). */
export const TRANSIENT = ['UNAVAILABLE', 'TIMEOUT', 'MAILBOX_FULL'] as const
export const TRANSIENT_REMOTE = [...TRANSIENT, 'UNREACHABLE', 'BUSY'] as const
/** Codes that say the lease is gone or was never the caller's: the handle ends. */
const ENDED = new Set(['LEASE_LOST', 'LEASE_NOT_HELD'])

export interface HandleInput { lease: HeldLease; ttlMs: number; autoRenew: boolean; remote: boolean }

export interface HandleContext extends HandleInput {
  /** The renewal in flight: its ttl, and whether a caller waits for it. */
  renewal: { ttlMs: number; manual: boolean }
  /** Why the handle ended, or why the last manual renewal or release failed. */
  error: CairnError | null
}

/** What the shell's renew and release actors reject with: the error and when it happened. */
export interface Failure { error: CairnError; at: number }

export type HandleEvent =
  | { type: 'BEAT' }
  | { type: 'RENEW'; ttlMs?: number }
  | { type: 'RELEASE' }
  | { type: 'EXPIRED'; error: CairnError }
  | { type: 'LAPSED'; error: CairnError }
  | { type: 'STOPPED'; error: CairnError }
  | { type: 'FORGET' }
  | { type: 'DISPOSE' }

const failureOf = (e: unknown): Failure => e as Failure

export const leaseHandleMachine = setup({
  types: {
    input: {} as HandleInput,
    context: {} as HandleContext,
    events: {} as HandleEvent,
  },
  actions: {
    armBeat: (_, _params: { expiresAt: number; ttlMs: number }) => {},
    armExpiry: (_, _params: { expiresAt: number }) => {},
    disarmBeat: () => {},
    disarm: () => {},
    abort: (_, _params: { error: CairnError | null }) => {},
  },
  actors: {
    renewLease: fromPromise<HeldLease, { ttlMs: number }>(async () => { throw new Error('renewLease not provided') }),
    releaseLease: fromPromise<void, void>(async () => { throw new Error('releaseLease not provided') }),
  },
  guards: {
    ended: ({ event }) => ENDED.has(failureOf((event as { error: unknown }).error).error.code),
    manual: ({ context }) => context.renewal.manual,
    retryable: ({ context, event }) => {
      const f = failureOf((event as { error: unknown }).error)
      const codes: readonly string[] = context.remote ? TRANSIENT_REMOTE : TRANSIENT
      return codes.includes(f.error.code) && f.at < context.lease.expiresAt
    },
  },
}).createMachine({
  id: 'lease-handle',
  context: ({ input }) => ({ ...input, renewal: { ttlMs: input.ttlMs, manual: false }, error: null }),
  initial: 'holding',
  states: {
    holding: {
      entry: enqueueActions(({ context, enqueue }) => {
        if (context.autoRenew) enqueue({ type: 'armBeat', params: { expiresAt: context.lease.expiresAt, ttlMs: context.ttlMs } })
        // Past its own expiry unrenewed, a remote lease may be taken by a machine whose clock runs ahead.
        if (context.remote) enqueue({ type: 'armExpiry', params: { expiresAt: context.lease.expiresAt } })
      }),
      exit: 'disarmBeat',
      on: {
        BEAT: { target: 'renewing', actions: assign({ renewal: ({ context }) => ({ ttlMs: context.ttlMs, manual: false }) }) },
        RENEW: { target: 'renewing', actions: assign({ renewal: ({ context, event }) => ({ ttlMs: event.ttlMs ?? context.ttlMs, manual: true }), error: null }) },
        RELEASE: { target: 'releasing', actions: assign({ error: null }) },
        LAPSED: { target: 'lapsed', actions: assign({ error: ({ event }) => event.error }) },
      },
    },
    renewing: {
      invoke: {
        src: 'renewLease',
        input: ({ context }) => ({ ttlMs: context.renewal.ttlMs }),
        onDone: { target: 'holding', actions: assign({ lease: ({ event }) => event.output, error: null }) },
        onError: [
          { guard: 'ended', target: 'lost', actions: assign({ error: ({ event }) => failureOf(event.error).error }) },
          { guard: 'manual', target: 'holding', actions: assign({ error: ({ event }) => failureOf(event.error).error }) },
          { guard: 'retryable', target: 'holding' },
          { target: 'lost', actions: assign({ error: ({ event }) => failureOf(event.error).error }) },
        ],
      },
      on: {
        RELEASE: { target: 'releasing', actions: assign({ error: null }) },
        LAPSED: { target: 'lapsed', actions: assign({ error: ({ event }) => event.error }) },
      },
    },
    releasing: {
      invoke: {
        src: 'releaseLease',
        onDone: 'released',
        onError: [
          { guard: 'ended', target: 'lost', actions: assign({ error: ({ event }) => failureOf(event.error).error }) },
          { target: 'holding', actions: assign({ error: ({ event }) => failureOf(event.error).error }) },
        ],
      },
    },
    lapsed: {
      entry: ['disarm', { type: 'abort', params: ({ context }) => ({ error: context.error }) }],
      on: { RELEASE: 'returning' },
    },
    /** Giving a lapsed lease back: done, or already someone else's, it is over; a failed call leaves it lapsed. */
    returning: {
      invoke: {
        src: 'releaseLease',
        onDone: 'released',
        onError: [
          { guard: 'ended', target: 'lost' },
          { target: 'lapsed', actions: assign({ error: ({ event }) => failureOf(event.error).error }) },
        ],
      },
    },
    lost: {
      type: 'final',
      entry: ['disarm', { type: 'abort', params: ({ context }) => ({ error: context.error }) }],
    },
    released: { type: 'final', entry: 'disarm' },
    disposed: { type: 'final', entry: 'disarm' },
  },
  on: {
    EXPIRED: { target: '.lost', actions: assign({ error: ({ event }) => event.error }) },
    STOPPED: { target: '.lost', actions: assign({ error: ({ event }) => event.error }) },
    FORGET: '.released',
    DISPOSE: '.disposed',
  },
})
