/**
 * The one clock every deadline reads: lease expiry, heartbeats, backoff,
 * request timeouts and durable timers. Tests inject a manual clock and advance
 * it instead of sleeping.
 *
 * Deadline-based on purpose: durable timers are stored as absolute deadlines,
 * so `at(deadline, fn)` is the primitive and relative delays derive from it.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, on this clock. */
  now(): number
  /** Runs `fn` once when `now() >= deadline`; returns a cancel function. */
  at(deadline: number, fn: () => void): () => void
  /**
   * Milliseconds on a clock that never jumps (NTP steps, manual changes) and
   * keeps running while the process is stopped: what a lease holder measures
   * its own validity with. Optional: without it, `now()` is used (a manual
   * clock moves only when told, so it never jumps either).
   */
  monotonic?(): number
}

/**
 * How a worker thread rebuilds the runtime's clock: plain data that can be
 * posted to a thread (a manual clock shares its time through a SharedArrayBuffer).
 */
export type ClockDescriptor =
  | { kind: 'system'; offsetMs: number }
  | { kind: 'manual'; cell: SharedArrayBuffer }

/**
 * The clock as a worker thread sees it: a manual clock's view also runs its
 * due timers when the Supervisor says time moved (`tick`).
 */
export type ThreadClock = Clock & { tick?: () => number }
