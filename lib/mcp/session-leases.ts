/**
 * The leases an MCP session holds (its claims and its `lock_acquire`s),
 * kept alive for as long as the session lives: an agent reached through MCP
 * never has to remember to heartbeat.
 *
 * Each lease is renewed through the daemon's `locks.renew` about every
 * ttl/3, so a renewal that fails for a moment (the daemon restarting) is
 * retried well before the lease could lapse. A renewal that is refused
 * (LEASE_LOST: taken after a lapse) or that cannot get through before the
 * lease expires drops the lease and leaves a note that the session hands to
 * the agent with its next tool result. When the session ends, every lease
 * still held is released; when its process is killed, nothing renews them
 * and they lapse after their TTL plus the repository's grace, when other
 * agents may take them.
 *
 * Time comes from one injected clock; a test steps it.
 */
import { CairnError } from '../../protocol/errors.ts'
import type { Clock } from '../kernel/ports/clock.ts'

export interface LeaseView { resource: string; token: number; expiresAt: number }

export type RenewCall = (method: 'locks.renew' | 'locks.release', args: Record<string, unknown>) => Promise<unknown>

interface Entry extends LeaseView { ttlMs: number; renewAt: number; renewing: boolean }

/** Codes after which retrying a renewal cannot help: the lease is gone. */
const GONE = new Set(['LEASE_LOST', 'NOT_FOUND', 'INVALID_ARGUMENT', 'LEASE_NOT_HELD'])
const RETRY_MS = 1000

export class SessionLeases {
  readonly #call: RenewCall
  readonly #clock: Clock
  readonly #leases = new Map<string, Entry>()
  readonly #notes: string[] = []
  #cancel: (() => void) | null = null
  #stopped = false

  constructor(call: RenewCall, clock: Clock) {
    this.#call = call
    this.#clock = clock
  }

  /** Starts keeping `lease`, granted for `ttlMs`, alive. */
  hold(lease: LeaseView, ttlMs: number): void {
    if (this.#stopped) return
    const now = this.#clock.now()
    this.#leases.set(key(lease.resource, lease.token), {
      resource: lease.resource, token: lease.token, expiresAt: lease.expiresAt, ttlMs, renewAt: now + renewEvery(ttlMs), renewing: false,
    })
    this.#schedule()
  }

  /** The agent renewed `lease` itself (with `ttlMs` from now on). */
  renewed(lease: LeaseView, ttlMs: number): void {
    const e = this.#leases.get(key(lease.resource, lease.token))
    if (e === undefined) return this.hold(lease, ttlMs)
    e.expiresAt = lease.expiresAt
    e.ttlMs = ttlMs
    e.renewAt = this.#clock.now() + renewEvery(ttlMs)
    this.#schedule()
  }

  /** Stops keeping the leases on `resource` (one token, or all), without releasing them. */
  forget(resource: string, token?: number): LeaseView[] {
    const out: LeaseView[] = []
    for (const [k, e] of this.#leases) {
      if (e.resource !== resource || (token !== undefined && e.token !== token)) continue
      this.#leases.delete(k)
      out.push({ resource: e.resource, token: e.token, expiresAt: e.expiresAt })
    }
    this.#schedule()
    return out
  }

  held(): LeaseView[] {
    return [...this.#leases.values()].map((e) => ({ resource: e.resource, token: e.token, expiresAt: e.expiresAt }))
  }

  /** What happened to leases since the last call (lost, lapsed), for the agent to read. */
  takeNotes(): string[] {
    return this.#notes.splice(0)
  }

  /**
   * Stops renewing and releases every lease still held, each at most
   * `timeoutMs`; what cannot be released lapses on its TTL.
   */
  async releaseAll(timeoutMs: number): Promise<void> {
    this.#stopped = true
    this.#cancel?.()
    this.#cancel = null
    const all = [...this.#leases.values()]
    this.#leases.clear()
    const deadline = this.#clock.now() + timeoutMs
    await Promise.all(all.map((e) => this.#within(this.#call('locks.release', { resource: e.resource, token: e.token }), deadline).catch(() => undefined)))
  }

  #within<T>(p: Promise<T>, deadline: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const cancel = this.#clock.at(deadline, () => reject(new CairnError('TIMEOUT', 'no answer before the deadline')))
      p.then((v) => { cancel(); resolve(v) }, (e: unknown) => { cancel(); reject(e) })
    })
  }

  #schedule(): void {
    this.#cancel?.()
    this.#cancel = null
    if (this.#stopped) return
    let next = Infinity
    for (const e of this.#leases.values()) if (!e.renewing && e.renewAt < next) next = e.renewAt
    if (next !== Infinity) this.#cancel = this.#clock.at(next, () => this.#tick())
  }

  #tick(): void {
    this.#cancel = null
    const now = this.#clock.now()
    for (const e of this.#leases.values()) if (!e.renewing && e.renewAt <= now) void this.#renew(e)
    this.#schedule()
  }

  async #renew(e: Entry): Promise<void> {
    e.renewing = true
    try {
      const r = await this.#call('locks.renew', { resource: e.resource, token: e.token, ttlMs: e.ttlMs }) as LeaseView
      e.expiresAt = r.expiresAt
      e.renewAt = this.#clock.now() + renewEvery(e.ttlMs)
    } catch (err) {
      const code = err instanceof CairnError ? err.code : 'INTERNAL'
      const now = this.#clock.now()
      if (GONE.has(code) || now >= e.expiresAt) {
        if (this.#leases.get(key(e.resource, e.token)) === e) {
          this.#leases.delete(key(e.resource, e.token))
          this.#notes.push(GONE.has(code)
            ? `your lease on ${e.resource} (token ${e.token}) was lost: ${code}; another agent may hold it now`
            : `your lease on ${e.resource} (token ${e.token}) lapsed: it could not be renewed (${code})`)
        }
      } else {
        e.renewAt = now + Math.min(RETRY_MS, Math.max(1, Math.floor(e.ttlMs / 10)))
      }
    } finally {
      e.renewing = false
      this.#schedule()
    }
  }
}

const key = (resource: string, token: number): string => `${token}\0${resource}`
const renewEvery = (ttlMs: number): number => Math.max(1, Math.floor(ttlMs / 3))

