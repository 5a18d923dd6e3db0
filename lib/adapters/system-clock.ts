/**
 * The wall clock, optionally shifted by a fixed offset. The offset exists so a
 * fault test can restart a process "later" without sleeping through a TTL.
 */
import type { Clock, ClockDescriptor } from '../kernel/ports/clock.ts'

// setTimeout takes a signed 32-bit delay; longer waits are re-armed.
const MAX_DELAY = 2 ** 31 - 1

export class SystemClock implements Clock {
  readonly offsetMs: number

  constructor(offsetMs = 0) {
    this.offsetMs = offsetMs
  }

  now(): number {
    return Date.now() + this.offsetMs
  }

  /** CLOCK_MONOTONIC through `performance.now()`: it keeps counting while the process is stopped (SIGSTOP). */
  monotonic(): number {
    return performance.now()
  }

  at(deadline: number, fn: () => void): () => void {
    let handle: NodeJS.Timeout | undefined
    let cancelled = false
    const arm = (): void => {
      const delay = deadline - this.now()
      if (delay <= 0) {
        handle = setTimeout(() => { if (!cancelled) fn() }, 0)
        return
      }
      handle = setTimeout(arm, Math.min(delay, MAX_DELAY))
    }
    arm()
    return () => {
      cancelled = true
      if (handle) clearTimeout(handle)
    }
  }

  /** A timer that does not keep the process alive (for watchdogs and the like). */
  atUnref(deadline: number, fn: () => void): () => void {
    const handle = setTimeout(fn, Math.max(0, Math.min(deadline - this.now(), MAX_DELAY)))
    handle.unref()
    return () => clearTimeout(handle)
  }

  describe(): ClockDescriptor {
    return { kind: 'system', offsetMs: this.offsetMs }
  }
}
