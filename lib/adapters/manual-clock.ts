/**
 * A clock that moves only when told to, shared with worker threads through a
 * SharedArrayBuffer so every actor of a runtime sees the same time.
 *
 * Timers registered in this thread fire synchronously inside `advance()`, in
 * deadline order. Worker threads hold a {@link ManualClockView}; the runtime
 * tells them to run their due timers after each advance.
 *
 * @example
 *   const clock = new ManualClock(1_700_000_000_000)
 *   const rt = await createRuntime({ clock })
 *   await clock.advance(30_000) // leases expire, no sleeping
 */
import type { Clock, ClockDescriptor } from '../kernel/ports/clock.ts'

interface Pending { deadline: number; seq: number; fn: () => void }

/** Deadline-ordered timers driven by an external "time moved" signal. */
export class TimerList {
  #timers: Pending[] = []
  #seq = 0

  add(deadline: number, fn: () => void): () => void {
    const p: Pending = { deadline, seq: this.#seq++, fn }
    this.#timers.push(p)
    return () => {
      const i = this.#timers.indexOf(p)
      if (i >= 0) this.#timers.splice(i, 1)
    }
  }

  /**
   * Runs every timer due at `now`, earliest first; timers added meanwhile are
   * considered too. A throwing timer does not stop the others: the first error
   * is rethrown after all due timers ran.
   */
  runDue(now: number): number {
    let ran = 0
    let firstError: unknown = null
    for (;;) {
      let best = -1
      for (let i = 0; i < this.#timers.length; i++) {
        const t = this.#timers[i]!
        if (t.deadline <= now && (best < 0 || t.deadline < this.#timers[best]!.deadline
          || (t.deadline === this.#timers[best]!.deadline && t.seq < this.#timers[best]!.seq))) best = i
      }
      if (best < 0) {
        if (firstError !== null) throw firstError
        return ran
      }
      const [t] = this.#timers.splice(best, 1)
      ran++
      try {
        t!.fn()
      } catch (err) {
        firstError ??= err
      }
    }
  }

  get size(): number {
    return this.#timers.length
  }
}

/** Read side of a manual clock, rebuilt in a worker thread from its descriptor. */
export class ManualClockView implements Clock {
  protected readonly cell: Float64Array
  protected readonly timers = new TimerList()

  constructor(shared: SharedArrayBuffer) {
    this.cell = new Float64Array(shared)
  }

  now(): number {
    return this.cell[0]!
  }

  at(deadline: number, fn: () => void): () => void {
    if (deadline <= this.now()) {
      // Never fire synchronously inside the caller: same contract as the system clock.
      let cancelled = false
      queueMicrotask(() => { if (!cancelled) fn() })
      return () => { cancelled = true }
    }
    return this.timers.add(deadline, fn)
  }

  /** Timers armed on this thread and not yet fired or cancelled (tests check nothing is left behind). */
  pending(): number {
    return this.timers.size
  }

  /** Fires this thread's due timers; called when the owner says time moved. */
  tick(): number {
    return this.timers.runDue(this.now())
  }
}

export class ManualClock extends ManualClockView {
  #listeners = new Set<() => Promise<void> | void>()

  constructor(startMs = 0) {
    super(new SharedArrayBuffer(8))
    this.cell[0] = startMs
  }

  /**
   * Moves time forward and fires due timers here and, through the listeners the
   * runtime registers, in every worker thread. Resolves when all have run.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError('advance(ms) needs ms >= 0')
    this.cell[0] = this.cell[0]! + ms
    let error: unknown = null
    try {
      this.tick()
    } catch (err) {
      error = err
    }
    // Threads must hear about the new time even if a local timer threw.
    await Promise.all([...this.#listeners].map((l) => l()))
    if (error !== null) throw error
  }

  /** Sets absolute time (never backwards). */
  async set(ms: number): Promise<void> {
    await this.advance(Math.max(0, ms - this.now()))
  }

  /** @internal the runtime subscribes its threads here. */
  onAdvance(listener: () => Promise<void> | void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  describe(): ClockDescriptor {
    return { kind: 'manual', cell: this.cell.buffer as SharedArrayBuffer }
  }
}
