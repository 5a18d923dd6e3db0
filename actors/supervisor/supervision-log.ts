/**
 * The supervision events of one runtime (protocol/supervision.ts), numbered
 * in order, fanned out to watchers.
 *
 * Each watcher has its own bounded queue: a slow one never makes the
 * Supervisor hold more than `buffer` events for it. When its queue is full,
 * newer events are dropped for that watcher only and counted in one `missed`
 * item in their place (`fromSeq`..`toSeq`), so it learns what it lost and
 * where; `runtime.actors()` gives it the state to resume from. The queue thus
 * never exceeds `buffer + 1` items.
 */
import type { MissedEvents, SupervisionEvent, WatchItem } from '../../protocol/supervision.ts'
import type { Clock } from '../../lib/kernel/ports/clock.ts'

export type SupervisionReport = Omit<SupervisionEvent, 'seq' | 'at'>

interface Watcher {
  readonly buffer: number
  readonly queue: WatchItem[]
  wake: (() => void) | null
}

export class SupervisionLog {
  #seq = 0
  #closed = false
  readonly #watchers = new Set<Watcher>()
  readonly #clock: Clock

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** The seq of the last event published (0 before the first). */
  get lastSeq(): number { return this.#seq }

  publish(report: SupervisionReport): SupervisionEvent {
    const event: SupervisionEvent = { seq: ++this.#seq, at: this.#clock.now(), ...report }
    for (const w of this.#watchers) {
      if (w.queue.length < w.buffer) w.queue.push(event)
      else {
        const tail = w.queue.at(-1)
        if (tail?.type === 'missed') {
          const m = tail as MissedEvents
          m.count++
          m.toSeq = event.seq
        } else {
          w.queue.push({ type: 'missed', count: 1, fromSeq: event.seq, toSeq: event.seq })
        }
      }
      w.wake?.()
    }
    return event
  }

  /**
   * The events published from now on, until `signal` aborts or the runtime
   * stops. @example for await (const e of log.watch({ signal })) console.log(e.seq, e.type)
   */
  watch(opts: { signal?: AbortSignal; buffer: number }): AsyncIterable<WatchItem> {
    const watcher: Watcher = { buffer: opts.buffer, queue: [], wake: null }
    if (!this.#closed && !opts.signal?.aborted) this.#watchers.add(watcher)
    return this.#iterate(watcher, opts.signal)
  }

  async *#iterate(w: Watcher, signal?: AbortSignal): AsyncGenerator<WatchItem, void, undefined> {
    const onAbort = (): void => w.wake?.()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      for (;;) {
        if (signal?.aborted) return
        const next = w.queue.shift()
        if (next !== undefined) {
          yield next
          continue
        }
        if (this.#closed || !this.#watchers.has(w)) return
        await new Promise<void>((resolve) => { w.wake = resolve })
        w.wake = null
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#watchers.delete(w)
    }
  }

  /** Ends every watch once it has taken what is queued for it (the runtime stops). */
  close(): void {
    this.#closed = true
    for (const w of this.#watchers) w.wake?.()
  }
}
