/**
 * Latency recording and summary statistics for the benchmarks.
 *
 * Samples go into a growable Float64Array so recording inside a hot loop
 * allocates nothing per sample. The summary functions are pure: they never
 * mutate the samples they are given.
 *
 * Percentiles use the nearest-rank method: the p-th percentile of n sorted
 * samples is the sample at 1-based rank ceil(p/100 * n) (rank 1 for p = 0).
 * It always returns an observed sample, never an interpolation.
 */

/** Summary of a set of latency samples, all in the samples' own unit. */
export interface LatencySummary {
  count: number
  min: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

/**
 * Fixed-cost sample store. Capacity doubles when full.
 * @example const rec = new LatencyRecorder(5000); rec.record(12.5); summarize(rec.samples())
 */
export class LatencyRecorder {
  #buf: Float64Array
  #len = 0

  /** @param capacity initial number of samples held without growing (at least 1). */
  constructor(capacity = 1024) {
    this.#buf = new Float64Array(Math.max(1, Math.floor(capacity)))
  }

  /** Number of samples recorded so far. */
  get count(): number {
    return this.#len
  }

  /** Records one sample; throws RangeError for NaN, infinities and negatives. */
  record(value: number): void {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`latency sample must be a finite non-negative number, got ${value}`)
    if (this.#len === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2)
      next.set(this.#buf)
      this.#buf = next
    }
    this.#buf[this.#len++] = value
  }

  /** A view of the recorded samples (valid until the next record()). */
  samples(): Float64Array {
    return this.#buf.subarray(0, this.#len)
  }

  /** Forgets every sample, keeping the allocated capacity. */
  reset(): void {
    this.#len = 0
  }
}

/**
 * Nearest-rank percentile of samples that are already sorted ascending.
 * Throws RangeError for an empty input or p outside [0, 100].
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample set')
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1] as number
}

/** Nearest-rank percentile of unsorted samples (sorts a copy). */
export function percentile(samples: ArrayLike<number>, p: number): number {
  return percentileOfSorted(sortedCopy(samples), p)
}

/**
 * Summarizes samples (in any order; the input is left untouched).
 * Throws RangeError for an empty input.
 */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  if (samples.length === 0) throw new RangeError('cannot summarize an empty sample set')
  const sorted = sortedCopy(samples)
  let sum = 0
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number
  return {
    count: sorted.length,
    min: sorted[0] as number,
    mean: sum / sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1] as number,
  }
}

/** Events per second for `count` events over `elapsedMs` milliseconds. */
export function ratePerSecond(count: number, elapsedMs: number): number {
  if (!(elapsedMs > 0)) throw new RangeError(`elapsed time must be positive, got ${elapsedMs}`)
  return (count * 1000) / elapsedMs
}

/**
 * Events per second within each quarter of `total` events, from the times
 * (ms since the start, ascending) at which events 1..n happened, to show a
 * rate that changes as work piles up; quarters not reached are left out,
 * and a quarter done in no measurable time is Infinity.
 * @example quarterRates([10, 20, 30, 40], 4) // [100, 100, 100, 100]
 */
export function quarterRates(timesMs: readonly number[], total: number): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`total must be a non-negative integer, got ${total}`)
  const out: number[] = []
  let prevCount = 0
  let prevMs = 0
  for (let q = 1; q <= 4; q++) {
    const count = Math.ceil((total * q) / 4)
    if (count === 0 || count > timesMs.length || count === prevCount) continue
    const ms = timesMs[count - 1] as number
    out.push(ms > prevMs ? ((count - prevCount) * 1000) / (ms - prevMs) : Infinity)
    prevCount = count
    prevMs = ms
  }
  return out
}

function sortedCopy(samples: ArrayLike<number>): Float64Array {
  // Float64Array#sort is numeric (not lexicographic like Array#sort).
  return Float64Array.from(samples).sort()
}
