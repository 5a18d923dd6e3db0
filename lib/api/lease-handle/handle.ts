/**
 * A lease handle: the machine of machine.ts run on the runtime's clock,
 * renewing and releasing through the LockKeeper (or its remote lane) with
 * the lease's id, the proof that this handle is the holder.
 */
import { createActor, fromPromise, type Actor, type SnapshotFrom } from 'xstate'
import { CairnError } from '../../../protocol/errors.ts'
import { MESSAGE_TYPES as M } from '../../../protocol/messages.ts'
import type { Clock } from '../../kernel/ports/clock.ts'
import { leaseHandleMachine, type Failure, type HandleEvent, type HeldLease } from './machine.ts'

export type LeaseScope = 'local' | 'remote'

export interface LeaseHandle {
  readonly resource: string
  /** Fencing token: strictly increasing per resource, never reused (remote: the lease chain's epoch). */
  readonly token: number
  /**
   * The lease id: the proof of holding (32 hex). Renewing or releasing the
   * lease from elsewhere (another process, the CLI) needs it with the token;
   * anyone else gets LEASE_NOT_HELD. Keep it as you would a password.
   */
  readonly leaseId: string | undefined
  readonly expiresAt: number
  readonly scope: LeaseScope
  /** With scope `remote`: the remote's URL. */
  readonly remote?: string
  /** Aborts (with the reason) when the lease is lost. */
  readonly signal: AbortSignal
  /**
   * True while the lease is certainly still held, decided synchronously by
   * this process's monotonic clock: false from the moment the lease could
   * lapse (its TTL since the last grant or renewal was requested) without a
   * renewal answered, even when no timer has run yet (a process stopped
   * with SIGSTOP or a blocked event loop). Anyone else can take the lease
   * over only later (at expiry plus grace). Call it before every step of
   * work done under the lease; once false it stays false and `signal` aborts.
   * @example while (lease.valid()) await step()
   */
  valid(): boolean
  /** Throws the loss (`LEASE_LOST`, or `STOPPED`) unless {@link valid}. @example lease.assertValid(); await writeStep() */
  assertValid(): void
  renew(ttlMs?: number): Promise<void>
  release(): Promise<void>
  /**
   * Forgets the lease without releasing it: the heartbeat stops, the handle
   * lets go of the runtime, and the lease lapses on its TTL. For holders that
   * keep leases by id (the daemon for CLI callers) and drop old handles.
   */
  dispose(): void
}

/** A handle the issue board can end: a close that carried it released its lease. */
export interface EndableHandle extends LeaseHandle {
  /** @internal The lease was released another way; the handle ends without a call. */
  forget(): void
}

export type LockCall = <T>(type: string, body: Record<string, unknown>, opts?: { timeoutMs?: number; signal?: AbortSignal }) => Promise<T>

export interface HandleDeps {
  call: LockCall
  clock: Clock
  /** The holder's monotonic clock (never jumps, runs while the process is stopped). */
  mono: () => number
  /** Registers a hook the runtime calls when it stops; returns the unregister. */
  onStop: (fn: () => void) => () => void
  /** The holder, named in remote renewals and releases. */
  holder: { actor: string; session: string }
  /** Told when the handle loses its lease (cairn:lease:lost). */
  lost?: (lease: HeldLease, reason: CairnError) => void
}

type Snap = SnapshotFrom<typeof leaseHandleMachine>

/** One handle's effects: the machine's actions and actors, bound to its lease, clock and caller. */
interface HandleEffects {
  armBeat(p: { expiresAt: number; ttlMs: number }): void
  armExpiry(p: { expiresAt: number }): void
  disarmBeat(): void
  disarm(): void
  abort(p: { error: CairnError | null }): void
  renewLease(input: { ttlMs: number }): Promise<HeldLease>
  releaseLease(): Promise<void>
}

/**
 * Each handle's effects, by its actor system (one per root actor, shared
 * with the renewal and release actors it invokes). The machine is bound to
 * them once, here: `provide()` per handle would build a new machine for
 * every lease (about a millisecond of CPU each, most of a claim's cost).
 */
const EFFECTS = new WeakMap<object, HandleEffects>()
const effectsOf = (system: object): HandleEffects => {
  const fx = EFFECTS.get(system)
  if (fx === undefined) throw new CairnError('INTERNAL', 'a lease handle ran without its effects')
  return fx
}
const boundMachine = leaseHandleMachine.provide({
  actions: {
    armBeat: ({ system }, p: { expiresAt: number; ttlMs: number }) => effectsOf(system).armBeat(p),
    armExpiry: ({ system }, p: { expiresAt: number }) => effectsOf(system).armExpiry(p),
    disarmBeat: ({ system }) => effectsOf(system).disarmBeat(),
    disarm: ({ system }) => effectsOf(system).disarm(),
    abort: ({ system }, p: { error: CairnError | null }) => effectsOf(system).abort(p),
  },
  actors: {
    renewLease: fromPromise<HeldLease, { ttlMs: number }>(({ input, system }) => effectsOf(system).renewLease(input)),
    releaseLease: fromPromise<void, void>(({ system }) => effectsOf(system).releaseLease()),
  },
})

/** The clock's monotonic reading when it has one (the system clock), else its `now()` (a manual clock never jumps). */
export const monotonicOf = (clock: Clock): (() => number) =>
  typeof clock.monotonic === 'function' ? () => (clock.monotonic as () => number).call(clock) : () => clock.now()

/**
 * Runs a handle for a granted lease. `sent`: the monotonic time the request
 * that granted it was sent (the grant happened after), or null when only
 * its expiry bounds it (a grant that waited).
 * @example const h = leaseHandle(deps, lease, 30_000, true, sentAt); while (h.valid()) await step(); await h.release()
 */
export function leaseHandle(deps: HandleDeps, granted: HeldLease, ttlMs: number, autoRenew: boolean, sent: number | null = null): EndableHandle {
  const { call, clock, mono } = deps
  /**
   * The monotonic instant before which `info` certainly still holds: its
   * expiry converted from the runtime clock, and never later than `ttl`
   * after the request was sent.
   */
  const validUntilOf = (info: HeldLease, sentAt: number | null, ttl: number): number => {
    const byExpiry = mono() + (info.expiresAt - clock.now())
    return sentAt === null ? byExpiry : Math.min(sentAt + ttl, byExpiry)
  }
  let validUntil = validUntilOf(granted, sent, ttlMs)
  const remote = 'scope' in granted && granted.scope === 'remote' ? granted.remote : null
  const lost = new AbortController()
  const fence = (lease: HeldLease): Record<string, unknown> => ({
    resource: lease.resource, token: lease.token, ...(lease.id !== undefined ? { leaseId: lease.id } : {}),
    ...(remote === null ? {} : { remote, actor: deps.holder.actor, session: deps.holder.session }),
  })
  let cancelBeat: (() => void) | null = null
  let cancelExpiry: (() => void) | null = null
  const failure = (err: unknown): Failure => ({ error: CairnError.from(err), at: clock.now() })
  /** Why the handle ended: the loss its signal carries, or a plain "ended" after release or dispose. */
  const endedError = (): CairnError => lost.signal.reason instanceof CairnError ? lost.signal.reason
    : new CairnError('LEASE_LOST', `lease on ${granted.resource} has ended`, { resource: granted.resource, token: granted.token })
  /** Synchronous, on the monotonic clock: see LeaseHandle.valid. */
  const valid = (): boolean => {
    const s = actor.getSnapshot()
    if (s.status === 'done' || s.value === 'lapsed' || s.value === 'returning') return false
    if (mono() < validUntil) return true
    send({ type: 'LAPSED', error: new CairnError('LEASE_LOST', `lease on ${granted.resource} may have lapsed: no renewal was answered within its TTL`,
      { resource: granted.resource, token: granted.token }) })
    return false
  }
  /** The lease as last granted or renewed. */
  let latest: HeldLease = granted
  const send = (event: HandleEvent): void => { actor.send(event) }

  const actor: Actor<typeof leaseHandleMachine> = createActor(boundMachine, { input: { lease: granted, ttlMs, autoRenew, remote: remote !== null } })
  EFFECTS.set(actor.system, {
    armBeat: ({ expiresAt, ttlMs: ttl }) => {
      const at = Math.min(expiresAt, clock.now() + Math.max(1, Math.floor(ttl / 3)))
      cancelBeat = clock.at(at, () => send({ type: 'BEAT' }))
    },
    armExpiry: ({ expiresAt }) => {
      cancelExpiry?.()
      cancelExpiry = clock.at(expiresAt, () => send({ type: 'EXPIRED', error: new CairnError('LEASE_LOST',
        `remote lease on ${granted.resource} reached its expiry without a renewal`, { resource: granted.resource, token: granted.token }) }))
    },
    disarmBeat: () => {
      cancelBeat?.()
      cancelBeat = null
    },
    disarm: () => {
      cancelBeat?.()
      cancelExpiry?.()
      cancelBeat = cancelExpiry = null
    },
    abort: ({ error }) => {
      const reason = error ?? new CairnError('LEASE_LOST', `lease on ${granted.resource} lost`, { resource: granted.resource })
      if (!lost.signal.aborted) deps.lost?.(latest, reason)
      lost.abort(reason)
    },
    renewLease: async (input) => {
      const current = latest
      if (!valid()) throw failure(endedError())
      const sentAt = mono()
      let renewed: HeldLease
      try {
        renewed = await call<HeldLease>(remote === null ? M.lockRenew : M.lockRemoteRenew, { ...fence(current), ttlMs: input.ttlMs })
      } catch (err) {
        throw failure(err)
      }
      // Answered after the old deadline passed: the holder may already have stopped on it, so it stays ended.
      if (!valid()) throw failure(endedError())
      validUntil = validUntilOf(renewed, sentAt, input.ttlMs)
      return { ...renewed, id: renewed.id ?? current.id }
    },
    releaseLease: async () => {
      try {
        await call(remote === null ? M.lockRelease : M.lockRemoteRelease, fence(latest))
      } catch (err) {
        throw failure(err)
      }
    },
  })

  // The runtime stopping ends the heartbeat: the lease then lapses on its own TTL.
  const unregister = deps.onStop(() => actor.send({ type: 'STOPPED',
    error: new CairnError('STOPPED', 'the runtime stopped; the lease is no longer renewed', { resource: granted.resource }) }))
  actor.subscribe({ next: (s: Snap) => {
    latest = s.context.lease
    if (s.status === 'done') unregister()
  } })
  actor.start()

  /** Resolves with the first snapshot (from now on, the current one included) that `done` accepts. */
  const until = (done: (s: Snap) => boolean): Promise<Snap> => new Promise((resolve) => {
    const now = actor.getSnapshot()
    if (done(now)) return resolve(now)
    const sub = actor.subscribe((s: Snap) => {
      if (!done(s)) return
      sub.unsubscribe()
      resolve(s)
    })
  })
  const ended = endedError

  return {
    resource: granted.resource,
    token: granted.token,
    leaseId: granted.id,
    get expiresAt() { return latest.expiresAt },
    scope: remote === null ? 'local' : 'remote',
    ...(remote === null ? {} : { remote }),
    signal: lost.signal,
    valid,
    assertValid: () => {
      if (!valid()) throw ended()
    },
    renew: async (ttl) => {
      if (!valid()) throw ended()
      // One renewal at a time: a heartbeat in flight finishes first.
      const ready = await until((s) => s.status === 'done' || s.value === 'holding' || s.value === 'lapsed')
      if (ready.status === 'done' || ready.value === 'lapsed') throw ready.context.error ?? ended()
      actor.send({ type: 'RENEW', ...(ttl === undefined ? {} : { ttlMs: ttl }) })
      const after = await until((s) => s.value !== 'renewing')
      if (after.status === 'done' || after.context.error) throw after.context.error ?? ended()
    },
    release: async () => {
      const now = actor.getSnapshot()
      if (now.status === 'done') return
      if (now.value === 'lapsed') {
        // Possibly still ours on the keeper's side: give it back early, fenced by the token.
        actor.send({ type: 'RELEASE' })
        const after = await until((s) => s.value !== 'returning')
        if (after.value === 'lapsed') throw after.context.error ?? ended()
        return
      }
      if (now.value === 'releasing' || now.value === 'returning') await until((s) => s.value !== 'releasing' && s.value !== 'returning')
      else actor.send({ type: 'RELEASE' })
      const after = await until((s) => s.value !== 'releasing')
      if (after.value !== 'released' && after.value !== 'disposed') throw after.context.error ?? ended()
    },
    dispose: () => { actor.send({ type: 'DISPOSE' }) },
    forget: () => { actor.send({ type: 'FORGET' }) },
  }
}
