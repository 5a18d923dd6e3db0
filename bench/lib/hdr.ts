/**
 * Latency histograms for the harness, on hdr-histogram-js: fixed memory per
 * operation kind however long the run, 3 significant digits, and percentiles
 * read from the histogram rather than from a sorted copy of every sample
 * (bench/lib/stats.ts keeps the exact nearest-rank method for the short,
 * count-bounded phases of the other scripts).
 *
 * Values are recorded in whole microseconds: HDR histograms hold integers,
 * and 1 µs is well below the resolution anything here needs. Summaries are
 * reported in milliseconds.
 */
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js'
import type { LatencySummary } from './stats.ts'

/** Highest latency kept exactly (1 h in µs); longer ones are clamped to it, never dropped. */
export const MAX_TRACKABLE_US = 3_600_000_000

/** Summary of one histogram, in milliseconds. */
export type HdrSummary = LatencySummary

/** Percentiles at which a CDF is sampled: dense in the tail, where the interesting part is. */
export const CDF_PERCENTILES: readonly number[] = [
  0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 99.99, 100,
]

/**
 * A fresh latency histogram (µs, 3 significant digits, no resizing so memory
 * stays fixed).
 * @example const h = latencyHistogram(); recordMs(h, 1.25); summarizeHdr(h).p50 // 1.25
 */
export function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TRACKABLE_US, numberOfSignificantValueDigits: 3, autoResize: false })
}

/** Records a latency given in ms; throws RangeError for NaN, infinities and negatives. */
export function recordMs(h: Histogram, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a finite non-negative number of ms, got ${ms}`)
  h.recordValue(Math.min(MAX_TRACKABLE_US, Math.max(1, Math.round(ms * 1000))))
}

/** Summary in ms; null for an empty histogram (a kind that never ran has no latency). */
export function summarizeHdr(h: Histogram): HdrSummary | null {
  if (h.totalCount === 0) return null
  const ms = (us: number): number => us / 1000
  // A percentile is its bucket's upper bound and can exceed the observed max: clamp, so p99 <= max always reads true.
  const at = (p: number): number => ms(Math.min(h.maxValue, h.getValueAtPercentile(p)))
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: ms(h.maxValue),
  }
}

/**
 * The CDF as `[percentile, ms]` pairs at {@link CDF_PERCENTILES}; empty for
 * an empty histogram. Values never decrease along the list.
 */
export function cdfOf(h: Histogram): [number, number][] {
  if (h.totalCount === 0) return []
  // getValueAtPercentile reports a bucket's upper bound, which can exceed the
  // observed max (10.007 for a max of 10): clamp to [min, max] so the curve ends where the data does.
  return CDF_PERCENTILES.map((p) => {
    const us = p === 0 ? h.minNonZeroValue : Math.max(h.minNonZeroValue, Math.min(h.maxValue, h.getValueAtPercentile(p)))
    return [p, us / 1000]
  })
}

/** The whole histogram, compressed (HdrHistogram's standard V2 base64 form; any HDR library decodes it). */
export function encodeHdr(h: Histogram): string {
  return encodeIntoCompressedBase64(h)
}
