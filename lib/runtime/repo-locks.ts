/**
 * `repo.locks`: leases on `repo:<name>`, `path:<path>` and `issue:<id>`,
 * held by this handle's actor in this runtime's session.
 *
 * A granted lease comes back as a handle that heartbeats on the runtime
 * clock (about every ttl/3). If a renewal is refused (LEASE_LOST) or cannot
 * get through before the lease would lapse, the handle's `signal` aborts so
 * the agent's work stops: holding work past a lost lease is exactly the
 * failure fencing exists to prevent.
 */
import { randomUUID } from 'node:crypto'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M, type LeaseInfo, type LeaseView } from '../../protocol/messages.ts'
import type { Clock } from '../ports/clock.ts'
import type { LeasePolicy } from '../../actors/lock-keeper/policy.ts'
import type { CallOptions } from './repo.ts'
import { checkPlainFields } from './plain-data.ts'

export interface AcquireOptions {
  ttlMs: number
  /** Wait (FIFO) up to `timeoutMs` for a conflicting lease to go; without it a conflict fails at once with LEASE_HELD. */
  wait?: { timeoutMs: number }
  /** Aborting cancels a waiting acquire (ABORTED). */
  signal?: AbortSignal
  /** Heartbeat automatically (default true). */
  autoRenew?: boolean
}

export interface LeaseHandle {
  readonly resource: string
  /** Fencing token: strictly increasing per resource, never reused. */
  readonly token: number
  readonly expiresAt: number
  /** Aborts (with the reason) when the lease is lost. */
  readonly signal: AbortSignal
  renew(ttlMs?: number): Promise<void>
  release(): Promise<void>
}

export type { LeasePolicy }

export interface LocksApi {
  acquire(resource: string, opts: AcquireOptions): Promise<LeaseHandle>
  /** The repository's lease policy, enforced on every write: off (default), warn, require. */
  policy(opts?: CallOptions): Promise<LeasePolicy>
  setPolicy(policy: LeasePolicy, opts?: CallOptions): Promise<void>
  /** @internal A handle (heartbeat, release) for a lease granted through another request (claimNext). */
  adopt(lease: LeaseInfo, ttlMs: number, autoRenew: boolean): LeaseHandle
  list(opts?: CallOptions): Promise<LeaseView[]>
  status(resource: string, opts?: CallOptions): Promise<{ resource: string; lease: LeaseView | null; waiters: number }>
}

type LockCall = <T>(type: string, body: Record<string, unknown>, opts?: { timeoutMs?: number; signal?: AbortSignal }) => Promise<T>

const TRANSIENT = new Set(['UNAVAILABLE', 'TIMEOUT', 'MAILBOX_FULL'])

export function locksApi(call: LockCall, ids: { actor: string; session: string }, clock: Clock, requestTimeoutMs: number,
  onStop: (fn: () => void) => () => void): LocksApi {
  const handle = (lease: LeaseInfo, ttlMs: number, autoRenew: boolean): LeaseHandle => {
    const lost = new AbortController()
    let current = lease
    let cancelBeat: (() => void) | null = null
    let ended = false
    const stopBeat = (): void => { cancelBeat?.(); cancelBeat = null }
    let unregister: () => void = () => {}
    const lose = (err: unknown): void => {
      if (ended) return
      ended = true
      stopBeat()
      unregister()
      lost.abort(err instanceof CairnError ? err : new CairnError('LEASE_LOST', `lease on ${lease.resource} lost`, { resource: lease.resource }))
    }
    const renew = async (ttl = ttlMs): Promise<void> => {
      if (ended) throw new CairnError('LEASE_LOST', `lease on ${lease.resource} has ended`, { resource: lease.resource, token: lease.token })
      try {
        current = await call<LeaseInfo>(M.lockRenew, { resource: lease.resource, token: lease.token, ttlMs: ttl })
      } catch (err) {
        if (err instanceof CairnError && err.code === 'LEASE_LOST') lose(err)
        throw err
      }
      if (autoRenew) schedule(current.expiresAt)
    }
    const schedule = (expiresAt: number): void => {
      stopBeat()
      const beatAt = Math.min(expiresAt, clock.now() + Math.max(1, Math.floor(ttlMs / 3)))
      cancelBeat = clock.at(beatAt, () => {
        renew().catch((err: unknown) => {
          const code = err instanceof CairnError ? err.code : 'INTERNAL'
          // A transient failure is retried until the lease would lapse; then it counts as lost.
          if (TRANSIENT.has(code) && clock.now() < current.expiresAt) schedule(current.expiresAt)
          else lose(err)
        })
      })
    }
    if (autoRenew) schedule(lease.expiresAt)
    // The runtime stopping ends the heartbeat: the lease then lapses on its own TTL.
    unregister = onStop(() => lose(new CairnError('STOPPED', 'the runtime stopped; the lease is no longer renewed', { resource: lease.resource })))
    return {
      resource: lease.resource,
      token: lease.token,
      get expiresAt() { return current.expiresAt },
      signal: lost.signal,
      renew,
      release: async () => {
        if (ended) return
        stopBeat()
        await call(M.lockRelease, { resource: lease.resource, token: lease.token })
        ended = true
        unregister()
      },
    }
  }

  return {
    acquire: async (resource, opts) => {
      if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with ttlMs')
      if (opts.wait !== undefined && (typeof opts.wait !== 'object' || opts.wait === null)) throw invalidArgument('wait', 'must be { timeoutMs }')
      if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArgument('signal', 'must be an AbortSignal')
      if (opts.autoRenew !== undefined && typeof opts.autoRenew !== 'boolean') throw invalidArgument('autoRenew', 'must be a boolean')
      const waitMs = opts.wait?.timeoutMs ?? 0
      const waitId = randomUUID()
      const body = { resource, actor: ids.actor, session: ids.session, ttlMs: opts.ttlMs, waitMs, waitId }
      checkPlainFields(body)
      opts.signal?.throwIfAborted()
      // The wait happens in the LockKeeper: cancel it there on abort, so no grant is left behind.
      const onAbort = (): void => { call(M.lockCancel, { waitId }).catch(() => undefined) }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      try {
        const lease = await call<LeaseInfo>(M.lockAcquire, body, { timeoutMs: (Number.isSafeInteger(waitMs) ? waitMs : 0) + requestTimeoutMs })
        if (opts.signal?.aborted) {
          await call(M.lockRelease, { resource: lease.resource, token: lease.token }).catch(() => undefined)
          throw new CairnError('ABORTED', 'acquire was aborted')
        }
        return handle(lease, opts.ttlMs, opts.autoRenew ?? true)
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
    status: async (resource, opts) => {
      checkPlainFields({ resource })
      return call(M.lockStatus, { resource }, opts)
    },
  }
}
