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
import { MESSAGE_TYPES as M, type LeaseBreak, type LeaseInfo, type LeaseView, type RemoteLeaseInfo, type RemoteLeaseView } from '../../protocol/messages.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import type { LeasePolicy } from '../../protocol/results.ts'
import type { CallOptions } from './call.ts'
import { checkPlainFields } from './plain-data.ts'
import { CHANNELS, publish } from '../kernel/diagnostics.ts'
import { leaseHandle, monotonicOf, type EndableHandle, type LeaseHandle, type LeaseScope, type LockCall } from './lease-handle/handle.ts'

export type { LeaseHandle, LeaseScope }

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
  /**
   * When the repository names a coordination remote (`cairn.remote`), a
   * local lease on `issue:<id>` is a claim on it too (claims/coordinated-locks.ts);
   * `local: true` leases on this clone only.
   */
  local?: boolean
}

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
  /**
   * Ends whoever's lease is on exactly `resource`, now, on purpose: the
   * break is recorded (who, when, `reason`) and burns a token, so the old
   * holder's renewals and fenced writes are refused (LEASE_LOST naming the
   * break). NOT_FOUND when nothing is leased there.
   */
  break(resource: string, opts: CallOptions & { reason: string; scope?: LeaseScope; remote?: string }): Promise<LeaseBreak>
  /**
   * A handle for a lease granted elsewhere (a claim, or another process that
   * passed on `{ resource, token, id }`): it renews and releases with the id.
   */
  adopt(lease: LeaseInfo | RemoteLeaseInfo, ttlMs: number, autoRenew: boolean, sent?: number | null): LeaseHandle
  /** @internal The holders' monotonic clock: what `sent` of {@link adopt} is read from. */
  monotonic(): number
  /** @internal As {@link adopt}, for a grant just made through another request (a claim): also told on cairn:lease:granted. */
  adoptGranted(lease: LeaseInfo, ttlMs: number, autoRenew: boolean, sent: number | null): LeaseHandle
  list(opts?: CallOptions): Promise<LeaseView[]>
  /** The lease on exactly `resource`; with `{ scope: 'remote', remote }`, as the remote holds it now. */
  status(resource: string, opts?: StatusOptions): Promise<LeaseStatusView>
}

export type { LeasePolicy }

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


/** Resolves at `at` on `clock`, or rejects ABORTED when `signal` aborts first. */
function sleepUntil(clock: Clock, at: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CairnError('ABORTED', 'acquire was aborted'))
    const onAbort = (): void => { cancel(); reject(new CairnError('ABORTED', 'acquire was aborted')) }
    const cancel = clock.at(at, () => { signal?.removeEventListener('abort', onAbort); resolve() })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function locksApi(call: LockCall, ids: { actor: string; session: string; agent?: string; repo: string }, clock: Clock, requestTimeoutMs: number,
  onStop: (fn: () => void) => () => void): LocksApi {
  const mono = monotonicOf(clock)
  const deps = {
    call, clock, mono, onStop, holder: { actor: ids.actor, session: ids.session },
    lost: (lease: LeaseInfo | RemoteLeaseInfo, reason: CairnError) =>
      publish(CHANNELS.leaseLost, { repo: ids.repo, resource: lease.resource, token: lease.token, reason: { code: reason.code, message: reason.message } }),
  }
  const handle = (lease: LeaseInfo | RemoteLeaseInfo, ttlMs: number, autoRenew: boolean, sent: number | null = null): EndableHandle =>
    leaseHandle(deps, lease, ttlMs, autoRenew, sent)
  /** A grant this handle's actor got: told on cairn:lease:granted, then handed over as a handle. */
  const granted = (lease: LeaseInfo | RemoteLeaseInfo, ttlMs: number, autoRenew: boolean, sent: number | null): EndableHandle => {
    publish(CHANNELS.leaseGranted, { repo: ids.repo, resource: lease.resource, holder: lease.holder, token: lease.token, expiresAt: lease.expiresAt,
      ...('scope' in lease ? { scope: 'remote', remote: lease.remote } : {}) })
    return handle(lease, ttlMs, autoRenew, sent)
  }
  const holder = { actor: ids.actor, session: ids.session, ...(ids.agent !== undefined ? { agent: ids.agent } : {}) }

  const acquireRemote = async (resource: string, opts: AcquireOptions, remote: string, waitMs: number): Promise<LeaseHandle> => {
    const body = { resource, ...holder, ttlMs: opts.ttlMs, graceMs: opts.graceMs, remote }
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
          await call(M.lockRemoteRelease, { resource: lease.resource, token: lease.token, leaseId: lease.id, remote, actor: ids.actor, session: ids.session }).catch(() => undefined)
          throw new CairnError('ABORTED', 'acquire was aborted')
        }
        return granted(lease, opts.ttlMs, opts.autoRenew ?? true, sent)
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
      const body = { resource, ...holder, ttlMs: opts.ttlMs, waitMs, waitId, graceMs: opts.graceMs }
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
          await call(M.lockRelease, { resource: lease.resource, token: lease.token, leaseId: lease.id }).catch(() => undefined)
          throw new CairnError('ABORTED', 'acquire was aborted')
        }
        return granted(lease, opts.ttlMs, opts.autoRenew ?? true, sent)
      } finally {
        opts.signal?.removeEventListener('abort', onAbort)
      }
    },
    adopt: (lease, ttlMs, autoRenew, sent) => handle(lease, ttlMs, autoRenew, sent ?? null),
    adoptGranted: (lease, ttlMs, autoRenew, sent) => granted(lease, ttlMs, autoRenew, sent),
    monotonic: mono,
    break: async (resource, opts) => {
      if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with reason')
      const { scope, remote } = scopeOf(opts)
      const body = { resource, actor: ids.actor, ...(ids.agent !== undefined ? { agent: ids.agent } : {}), reason: opts.reason, ...(remote !== undefined ? { remote } : {}) }
      checkPlainFields(body)
      const record = await call<LeaseBreak>(scope === 'remote' ? M.lockRemoteBreak : M.lockBreak, body, { timeoutMs: opts.timeoutMs, signal: opts.signal })
      publish(CHANNELS.leaseBroken, { repo: ids.repo, resource: record.resource, token: record.token, by: record.by, reason: record.reason, ...(remote !== undefined ? { remote } : {}) })
      return record
    },
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
