/**
 * Request/reply over one-way envelopes: correlation ids, a deadline on the
 * runtime clock, AbortSignal, and bulk rejection when a host goes down
 * (every request in flight to it fails promptly with UNAVAILABLE).
 */
import { CairnError } from '../../protocol/errors.ts'
import type { Envelope, ReplyBody } from '../../protocol/envelope.ts'
import type { Clock } from '../ports/clock.ts'

interface Pending {
  group: string
  resolve(value: unknown): void
  reject(err: CairnError): void
  cleanup(): void
}

export interface RequestOptions {
  timeoutMs?: number
  signal?: AbortSignal
}

export class Router {
  #nextId = 1
  #pending = new Map<number, Pending>()
  #clock: Clock
  #defaultTimeoutMs: number

  constructor(clock: Clock, defaultTimeoutMs: number) {
    this.#clock = clock
    this.#defaultTimeoutMs = defaultTimeoutMs
  }

  nextId(): number {
    return this.#nextId++
  }

  /** Requests in flight to `group` (a repository's host). */
  inFlight(group: string): number {
    let n = 0
    for (const p of this.#pending.values()) if (p.group === group) n++
    return n
  }

  /**
   * Registers a request before it is posted; `send` posts it. The promise
   * settles with the reply, TIMEOUT, ABORTED, or a bulk rejection.
   */
  request(group: string, id: number, send: () => void, opts: RequestOptions = {}): Promise<unknown> {
    const signal = opts.signal
    if (signal?.aborted) return Promise.reject(new CairnError('ABORTED', 'request aborted before it was sent'))
    const timeoutMs = opts.timeoutMs ?? this.#defaultTimeoutMs
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.#settle(id, new CairnError('ABORTED', 'request aborted by the caller'))
      const cancelTimer = this.#clock.at(this.#clock.now() + timeoutMs, () =>
        this.#settle(id, new CairnError('TIMEOUT', `no reply within ${timeoutMs} ms`, { timeoutMs })))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#pending.set(id, {
        group,
        resolve,
        reject,
        cleanup: () => { cancelTimer(); signal?.removeEventListener('abort', onAbort) },
      })
      try {
        send()
      } catch (err) {
        this.#settle(id, CairnError.from(err))
      }
    })
  }

  /** Settles the request a reply answers; returns false for unknown/late replies. */
  deliver(reply: Envelope): boolean {
    const p = reply.corr === undefined ? undefined : this.#pending.get(reply.corr)
    if (!p) return false
    const body = reply.body as ReplyBody
    this.#pending.delete(reply.corr!)
    p.cleanup()
    if (body.ok) p.resolve(body.value)
    else p.reject(CairnError.fromWire(body.error))
    return true
  }

  /** Rejects everything in flight to `group` (or everything) with `error`. */
  rejectGroup(group: string | null, error: () => CairnError): number {
    let n = 0
    for (const [id, p] of this.#pending) {
      if (group === null || p.group === group) {
        this.#settle(id, error())
        n++
      }
    }
    return n
  }

  #settle(id: number, err: CairnError): void {
    const p = this.#pending.get(id)
    if (!p) return
    this.#pending.delete(id)
    p.cleanup()
    p.reject(err)
  }
}
