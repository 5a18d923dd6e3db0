/**
 * `repo.locks`: leases on `repo:<name>`, `path:<path>` and `issue:<id>`,
 * held by this handle's actor in this runtime's session.
 *
 * A granted lease comes back as a handle that heartbeats on the runtime
 * clock (about every ttl/3). If a renewal is refused (LEASE_LOST) or cannot
 * get through before the lease would lapse, the handle's `signal` aborts so
 * the agent's work stops: holding work past a lost lease is exactly the
 * failure fencing exists to prevent.
 *
 * `scope: 'remote'` leases the resource on a git remote instead (DESIGN §5,
 * actors/lock-keeper/remote/chain.ts), so runtimes on other machines
 * sharing that remote are excluded too. Such a handle also aborts at its own
 * `expiresAt` when no renewal got through by then, whatever is still in
 * flight: past it, a machine whose clock runs ahead may take over.
 */
import { randomUUID } from 'node:crypto'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M, type LeaseInfo, type LeaseView, type RemoteLeaseInfo, type RemoteLeaseView } from '../../protocol/messages.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import type { LeasePolicy } from '../../protocol/results.ts'
import type { CallOptions } from './call.ts'
import { checkPlainFields } from './plain-data.ts'

export type LeaseScope = 'local' | 'remote'

export interface AcquireOptions {
  ttlMs: number
  /** Wait up to `timeoutMs` for a conflicting lease to go (FIFO locally; remote: polls the remote); without it a conflict fails at once with LEASE_HELD. */
  wait?: { timeoutMs: number }
  /** Aborting cancels a waiting acquire (ABORTED). */
  signal?: AbortSignal
  /** Heartbeat automatically (default true). */
  autoRenew?: boolean
  /** Grace this lease is protected by after it lapses; default the repository's (`grace()`), 0..3,600,000 ms. */
  graceMs?: number
  /** `local` (default): this repository's LockKeeper. `remote`: a lease ref on the git remote `remote`. */
  scope?: LeaseScope
  /** With scope `remote`: a configured remote name (`origin`), a URL, or the path of a repository on this machine. */
  remote?: string
}

export interface LeaseHandle {
  readonly resource: string
  /** Fencing token: strictly increasing per resource, never reused (remote: the lease chain's epoch). */
  readonly token: number
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
   * keep leases by token (the daemon for CLI callers) and drop old handles.
   */
  dispose(): void
}

export type { LeasePolicy }

export interface StatusOptions extends CallOptions { scope?: LeaseScope; remote?: string }
export type LeaseStatusView = { resource: string; lease: LeaseView | RemoteLeaseView | null; waiters: number }

export interface LocksApi {
  acquire(resource: string, opts: AcquireOptions): Promise<LeaseHandle>
  /** The repository's lease policy, enforced on every write: off (default), warn, require. */
  policy(opts?: CallOptions): Promise<LeasePolicy>
  setPolicy(policy: LeasePolicy, opts?: CallOptions): Promise<void>
  /** The grace (ms) new leases of this repository get unless they name one: 5,000 until set. */
  grace(opts?: CallOptions): Promise<number>
  /** Persists the repository's grace for new leases; leases already granted keep theirs. */
  setGrace(graceMs: number, opts?: CallOptions): Promise<void>
  /** @internal A handle (heartbeat, release) for a lease granted through another request (claimNext). */
  adopt(lease: LeaseInfo, ttlMs: number, autoRenew: boolean): LeaseHandle
  list(opts?: CallOptions): Promise<LeaseView[]>
  /** The lease on exactly `resource`; with `{ scope: 'remote', remote }`, as the remote holds it now. */
  status(resource: string, opts?: StatusOptions): Promise<LeaseStatusView>
}

type LockCall = <T>(type: string, body: Record<string, unknown>, opts?: { timeoutMs?: number; signal?: AbortSignal }) => Promise<T>

const TRANSIENT = new Set(['UNAVAILABLE', 'TIMEOUT', 'MAILBOX_FULL'])
/** A remote renewal may also fail on the network for a while; it is retried while the lease lasts. */
const TRANSIENT_REMOTE = new Set([...TRANSIENT, 'UNREACHABLE', 'BUSY'])
/** How often a remote acquire with `wait` polls the remote, at most (sooner when the holder's lease lapses sooner). */
export const REMOTE_POLL_MS = 1_000
const MIN_REMOTE_POLL_MS = 50

function scopeOf(opts: { scope?: unknown; remote?: unknown }): { scope: LeaseScope; remote?: string } {
  const scope = opts.scope ?? 'local'
  if (scope !== 'local' && scope !== 'remote') throw invalidArgument('scope', "must be 'local' or 'remote'")
  if (scope === 'local') {
    if (opts.remote !== undefined) throw invalidArgument('remote', "is only meaningful with scope: 'remote'")
    return { scope }
  }
  if (typeof opts.remote !== 'string' || opts.remote.length === 0) throw invalidArgument('remote', "must name the git remote (name, URL or path) with scope: 'remote'")
  return { scope, remote: opts.remote }
}

/** The clock's monotonic reading when it has one (the system clock), else its `now()` (a manual clock never jumps). */
const monotonicOf = (clock: Clock): (() => number) =>
  typeof clock.monotonic === 'function' ? () => (clock.monotonic as () => number).call(clock) : () => clock.now()

/** Resolves at `at` on `clock`, or rejects ABORTED when `signal` aborts first. */
function sleepUntil(clock: Clock, at: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CairnError('ABORTED', 'acquire was aborted'))
    const onAbort = (): void => { cancel(); reject(new CairnError('ABORTED', 'acquire was aborted')) }
    const cancel = clock.at(at, () => { signal?.removeEventListener('abort', onAbort); resolve() })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function locksApi(call: LockCall, ids: { actor: string; session: string }, clock: Clock, requestTimeoutMs: number,
  onStop: (fn: () => void) => () => void): LocksApi {
  const mono = monotonicOf(clock)
  /**
   * The monotonic instant before which `info` certainly still holds: its
   * expiry converted from the runtime clock, and never later than `ttl`
   * after the request was sent (`sent`; the grant happened after that).
   */
  const validUntilOf = (info: LeaseInfo, sent: number | null, ttl: number): number => {
    const byExpiry = mono() + (info.expiresAt - clock.now())
    return sent === null ? byExpiry : Math.min(sent + ttl, byExpiry)
  }
  const handle = (lease: LeaseInfo | RemoteLeaseInfo, ttlMs: number, autoRenew: boolean, sent: number | null = null): LeaseHandle => {
    const remote = 'scope' in lease && lease.scope === 'remote' ? lease.remote : null
    const fence = remote === null
      ? { resource: lease.resource, token: lease.token }
      : { resource: lease.resource, token: lease.token, remote, actor: ids.actor, session: ids.session }
    const transient = remote === null ? TRANSIENT : TRANSIENT_REMOTE
    const lost = new AbortController()
    let current = lease
    let validUntil = validUntilOf(lease, sent, ttlMs)
    /** Ended by its own deadline: the lease may still be held, so release() still gives it back. */
    let lapsed = false
    let cancelBeat: (() => void) | null = null
    let cancelExpiry: (() => void) | null = null
    let ended = false
    const stopBeat = (): void => { cancelBeat?.(); cancelBeat = null; cancelExpiry?.(); cancelExpiry = null }
    let unregister: () => void = () => {}
    const lose = (err: unknown): void => {
      if (ended) return
      ended = true
      stopBeat()
      unregister()
      lost.abort(err instanceof CairnError ? err : new CairnError('LEASE_LOST', `lease on ${lease.resource} lost`, { resource: lease.resource }))
    }
    const lapse = (): CairnError => new CairnError('LEASE_LOST',
      `lease on ${lease.resource} may have lapsed: no renewal was answered within its TTL`, { resource: lease.resource, token: lease.token })
    /** Why the handle ended: the loss its signal carries, or a plain "ended" after release/dispose. */
    const ended_ = (): CairnError => lost.signal.reason instanceof CairnError ? lost.signal.reason
      : new CairnError('LEASE_LOST', `lease on ${lease.resource} has ended`, { resource: lease.resource, token: lease.token })
    const valid = (): boolean => {
      if (ended) return false
      if (mono() < validUntil) return true
      lapsed = true
      lose(lapse())
      return false
    }
    const renew = async (ttl = ttlMs): Promise<void> => {
      if (ended) throw ended_()
      if (!valid()) throw ended_()
      const sentAt = mono()
      let next: LeaseInfo
      try {
        next = await call<LeaseInfo>(remote === null ? M.lockRenew : M.lockRemoteRenew, { ...fence, ttlMs: ttl })
      } catch (err) {
        if (err instanceof CairnError && err.code === 'LEASE_LOST') lose(err)
        throw err
      }
      // Answered after the old deadline passed: the holder may already have stopped on it, so it stays ended.
      if (!valid()) throw ended_()
      current = next
      validUntil = validUntilOf(next, sentAt, ttl)
      if (autoRenew && !ended) schedule(current.expiresAt)
      else if (remote !== null && !ended) watchExpiry()
    }
    // Remote: past its own expiry without a renewal, a lease may be taken by a machine whose clock runs ahead.
    const watchExpiry = (): void => {
      cancelExpiry?.()
      cancelExpiry = clock.at(current.expiresAt, () => lose(new CairnError('LEASE_LOST',
        `remote lease on ${lease.resource} reached its expiry without a renewal`, { resource: lease.resource, token: lease.token })))
    }
    const schedule = (expiresAt: number): void => {
      stopBeat()
      if (remote !== null) watchExpiry()
      const beatAt = Math.min(expiresAt, clock.now() + Math.max(1, Math.floor(ttlMs / 3)))
      cancelBeat = clock.at(beatAt, () => {
        renew().catch((err: unknown) => {
          const code = err instanceof CairnError ? err.code : 'INTERNAL'
          // A transient failure is retried until the lease would lapse; then it counts as lost.
          if (transient.has(code) && clock.now() < current.expiresAt) schedule(current.expiresAt)
          else lose(err)
        })
      })
    }
    if (autoRenew) schedule(lease.expiresAt)
    else if (remote !== null) watchExpiry()
    // The runtime stopping ends the heartbeat: the lease then lapses on its own TTL.
    unregister = onStop(() => lose(new CairnError('STOPPED', 'the runtime stopped; the lease is no longer renewed', { resource: lease.resource })))
    return {
      resource: lease.resource,
      token: lease.token,
      get expiresAt() { return current.expiresAt },
      scope: remote === null ? 'local' : 'remote',
      ...(remote === null ? {} : { remote }),
      signal: lost.signal,
      valid,
      assertValid: () => {
        if (!valid()) throw ended_()
      },
      renew,
      release: async () => {
        if (lapsed) {
          // Possibly still ours on the keeper's side: give it back early, fenced by the token.
          lapsed = false
          await call(remote === null ? M.lockRelease : M.lockRemoteRelease, fence).catch((err: unknown) => {
            if (!(err instanceof CairnError && err.code === 'LEASE_LOST')) throw err
          })
          return
        }
        if (ended) return
        stopBeat()
        await call(remote === null ? M.lockRelease : M.lockRemoteRelease, fence)
        ended = true
        unregister()
      },
      dispose: () => {
        if (ended) return
        ended = true
        stopBeat()
        unregister()
      },
    }
  }

  const acquireRemote = async (resource: string, opts: AcquireOptions, remote: string, waitMs: number): Promise<LeaseHandle> => {
    const body = { resource, actor: ids.actor, session: ids.session, ttlMs: opts.ttlMs, graceMs: opts.graceMs, remote }
    checkPlainFields(body)
    const deadline = clock.now() + waitMs
    // Bounded by the deadline: each round waits at least MIN_REMOTE_POLL_MS of runtime time.
    for (let round = 0; ; round++) {
      opts.signal?.throwIfAborted()
      try {
        // Not aborted mid-call: the remote may grant anyway, so wait for the answer and give a grant back.
        const sent = mono()
        const lease = await call<RemoteLeaseInfo>(M.lockRemoteAcquire, body)
        if (opts.signal?.aborted) {
          await call(M.lockRemoteRelease, { resource: lease.resource, token: lease.token, remote, actor: ids.actor, session: ids.session }).catch(() => undefined)
          throw new CairnError('ABORTED', 'acquire was aborted')
        }
        return handle(lease, opts.ttlMs, opts.autoRenew ?? true, sent)
      } catch (err) {
        const now = clock.now()
        if (!(err instanceof CairnError) || err.code !== 'LEASE_HELD' || now >= deadline || round >= waitMs / MIN_REMOTE_POLL_MS) throw err
        const takeover = Number((err.details?.heldBy as { takeoverAt?: unknown } | undefined)?.takeoverAt)
        const next = Math.min(deadline, now + REMOTE_POLL_MS, Number.isFinite(takeover) ? Math.max(takeover, now + MIN_REMOTE_POLL_MS) : Infinity)
        await sleepUntil(clock, next, opts.signal)
      }
    }
  }

  return {
    acquire: async (resource, opts) => {
      if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with ttlMs')
      if (opts.wait !== undefined && (typeof opts.wait !== 'object' || opts.wait === null)) throw invalidArgument('wait', 'must be { timeoutMs }')
      if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArgument('signal', 'must be an AbortSignal')
      if (opts.autoRenew !== undefined && typeof opts.autoRenew !== 'boolean') throw invalidArgument('autoRenew', 'must be a boolean')
      const { scope, remote } = scopeOf(opts)
      const waitMs = opts.wait?.timeoutMs ?? 0
      if (scope === 'remote') {
        if (!Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > 600_000) throw invalidArgument('waitMs', 'must be an integer in 0..600000')
        return acquireRemote(resource, opts, remote as string, waitMs)
      }
      const waitId = randomUUID()
      const body = { resource, actor: ids.actor, session: ids.session, ttlMs: opts.ttlMs, waitMs, waitId, graceMs: opts.graceMs }
      checkPlainFields(body)
      opts.signal?.throwIfAborted()
      // The wait happens in the LockKeeper: cancel it there on abort, so no grant is left behind.
      const onAbort = (): void => { call(M.lockCancel, { waitId }).catch(() => undefined) }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      try {
        // A waiting acquire is granted later than it was sent: only the expiry bounds it then.
        const sent = waitMs > 0 ? null : mono()
        const lease = await call<LeaseInfo>(M.lockAcquire, body, { timeoutMs: (Number.isSafeInteger(waitMs) ? waitMs : 0) + requestTimeoutMs })
        if (opts.signal?.aborted) {
          await call(M.lockRelease, { resource: lease.resource, token: lease.token }).catch(() => undefined)
          throw new CairnError('ABORTED', 'acquire was aborted')
        }
        return handle(lease, opts.ttlMs, opts.autoRenew ?? true, sent)
      } finally {
        opts.signal?.removeEventListener('abort', onAbort)
      }
    },
    adopt: (lease, ttlMs, autoRenew) => handle(lease, ttlMs, autoRenew),
    list: (opts) => call(M.lockList, {}, opts),
    policy: async (opts) => (await call<{ policy: LeasePolicy }>(M.lockPolicyGet, {}, opts)).policy,
    setPolicy: async (policy, opts) => {
      checkPlainFields({ policy })
      await call(M.lockPolicySet, { policy }, opts)
    },
    grace: async (opts) => (await call<{ graceMs: number }>(M.lockGraceGet, {}, opts)).graceMs,
    setGrace: async (graceMs, opts) => {
      checkPlainFields({ graceMs })
      await call(M.lockGraceSet, { graceMs }, opts)
    },
    status: async (resource, opts) => {
      const { scope, remote } = scopeOf(opts ?? {})
      const callOpts = opts === undefined ? undefined : { timeoutMs: opts.timeoutMs, signal: opts.signal }
      checkPlainFields({ resource, remote })
      return scope === 'remote' ? call(M.lockRemoteStatus, { resource, remote }, callOpts) : call(M.lockStatus, { resource }, callOpts)
    },
  }
}
