/**
 * Request/reply over one-way envelopes: correlation ids, a deadline on the
 * runtime clock, AbortSignal, and bulk rejection when a host goes down
 * (every request in flight to it fails promptly with UNAVAILABLE).
 */
import { CairnError } from '../../protocol/errors.ts'
import type { Envelope, ReplyBody } from '../../protocol/envelope.ts'
import type { Clock } from '../../lib/kernel/ports/clock.ts'

interface Pending {
  group: string
  /** Counted in inFlight (a caller's request, not the Supervisor's own control traffic). */
  counted: boolean
  deadline: number
  timeoutMs: number
  resolve(value: unknown): void
  reject(err: CairnError): void
  cleanup(): void
  onProgress?: (body: unknown) => void
}

export interface RequestOptions {
  timeoutMs?: number
  signal?: AbortSignal
  /** Streamed partial results (sync progress) that arrive before the reply. */
  onProgress?: (body: unknown) => void
}

export class Router {
  #nextId = 1
  #pending = new Map<number, Pending>()
  /** Requests in flight per group, kept as they come and go (the idle policy asks often). */
  #perGroup = new Map<string, number>()
  #clock: Clock
  #defaultTimeoutMs: number
  // One timer for all deadlines, armed at the earliest one: arming and
  // clearing a timer per request cost more than the rest of a round trip.
  #armedAt: number | null = null
  #disarm: (() => void) | null = null

  constructor(clock: Clock, defaultTimeoutMs: number) {
    this.#clock = clock
    this.#defaultTimeoutMs = defaultTimeoutMs
  }

  nextId(): number {
    return this.#nextId++
  }

  /** Callers' requests in flight to `group` (a repository's host); the Supervisor's own (pings, ticks) do not count. */
  inFlight(group: string): number {
    return this.#perGroup.get(group) ?? 0
  }

  #left(group: string): void {
    const n = (this.#perGroup.get(group) ?? 1) - 1
    if (n <= 0) this.#perGroup.delete(group)
    else this.#perGroup.set(group, n)
  }

  /**
   * Registers a request before it is posted; `send` posts it. The promise
   * settles with the reply, TIMEOUT, ABORTED, or a bulk rejection.
   */
  request(group: string, id: number, send: () => void, opts: RequestOptions = {}, counted = true): Promise<unknown> {
    const signal = opts.signal
    if (signal?.aborted) return Promise.reject(new CairnError('ABORTED', 'request aborted before it was sent'))
    const timeoutMs = opts.timeoutMs ?? this.#defaultTimeoutMs
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.#settle(id, new CairnError('ABORTED', 'request aborted by the caller'))
      signal?.addEventListener('abort', onAbort, { once: true })
      const deadline = this.#clock.now() + timeoutMs
      if (counted) this.#perGroup.set(group, (this.#perGroup.get(group) ?? 0) + 1)
      this.#pending.set(id, {
        group,
        counted,
        deadline,
        timeoutMs,
        resolve,
        reject,
        onProgress: opts.onProgress,
        cleanup: signal ? () => signal.removeEventListener('abort', onAbort) : () => {},
      })
      if (this.#armedAt === null || deadline < this.#armedAt) this.#arm(deadline)
      try {
        send()
      } catch (err) {
        this.#settle(id, CairnError.from(err))
      }
    })
  }

  /** Hands a progress message to the request `corr` is for; a caller's throwing callback is its own problem. */
  progress(corr: number, body: unknown): void {
    const fn = this.#pending.get(corr)?.onProgress
    if (!fn) return
    try {
      fn(body)
    } catch {
      // A progress callback must not break the run or the router.
    }
  }

  /** Settles the request a reply answers; returns false for unknown/late replies. */
  deliver(reply: Envelope): boolean {
    const p = reply.corr === undefined ? undefined : this.#pending.get(reply.corr)
    if (!p) return false
    const body = reply.body as ReplyBody
    this.#pending.delete(reply.corr!)
    if (p.counted) this.#left(p.group)
    if (this.#pending.size === 0) this.close()
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

  #arm(deadline: number): void {
    this.#disarm?.()
    this.#armedAt = deadline
    this.#disarm = this.#clock.at(deadline, () => this.#sweep())
  }

  /** Times out every request past its deadline, then re-arms for the next one. */
  #sweep(): void {
    this.#armedAt = null
    this.#disarm = null
    const now = this.#clock.now()
    let next = Infinity
    for (const [id, p] of this.#pending) {
      if (p.deadline <= now) this.#settle(id, new CairnError('TIMEOUT', `no reply within ${p.timeoutMs} ms`, { timeoutMs: p.timeoutMs }))
      else if (p.deadline < next) next = p.deadline
    }
    if (next !== Infinity) this.#arm(next)
  }

  /** Stops the deadline timer (the runtime is stopping). */
  close(): void {
    this.#disarm?.()
    this.#disarm = null
    this.#armedAt = null
  }

  #settle(id: number, err: CairnError): void {
    const p = this.#pending.get(id)
    if (!p) return
    this.#pending.delete(id)
    if (p.counted) this.#left(p.group)
    if (this.#pending.size === 0) this.close()
    p.cleanup()
    p.reject(err)
  }
}
