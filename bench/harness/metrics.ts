/**
 * What a run records per operation kind while it runs: a latency histogram,
 * successes, failures by error code, and completions over time; plus the
 * process's RSS over time. Recording allocates nothing per operation beyond
 * the first failure of a code.
 *
 * Completions are counted in fixed base slots of {@link SLOT_MS}; the report
 * merges slots into at most {@link MAX_BUCKETS} buckets, so short and long
 * runs get readable throughput charts from the same data.
 */
import type { Histogram } from 'hdr-histogram-js'
import { latencyHistogram, recordMs } from '../lib/hdr.ts'
import type { OpKind } from './mix.ts'

export const SLOT_MS = 100
export const MAX_BUCKETS = 60

/** The stable code of a failure: a CairnError's `code`, a Node error's `code`, else `UNKNOWN`. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'UNKNOWN'
}

export class OpStats {
  readonly hist: Histogram = latencyHistogram()
  ok = 0
  failed = 0
  readonly errors = new Map<string, number>()
  /** Completions (ok or not) per slot since the run's start. */
  readonly slots: number[] = []
  /** First message per error code, to show what failed. */
  readonly samples = new Map<string, string>()
}

export class RunMetrics {
  readonly ops = new Map<OpKind, OpStats>()
  /** Highest RSS seen per slot, MiB. */
  readonly rssSlots: number[] = []
  readonly t0: number

  constructor(t0: number) {
    this.t0 = t0
  }

  #stats(kind: OpKind): OpStats {
    let s = this.ops.get(kind)
    if (!s) this.ops.set(kind, (s = new OpStats()))
    return s
  }

  #slot(at: number): number {
    return Math.max(0, Math.floor((at - this.t0) / SLOT_MS))
  }

  /** A call of `kind` that started (or was due) at `start` and finished at `end` (performance.now() ms). */
  record(kind: OpKind, start: number, end: number, err?: unknown): void {
    const s = this.#stats(kind)
    recordMs(s.hist, Math.max(0, end - start))
    const slot = this.#slot(end)
    while (s.slots.length <= slot) s.slots.push(0)
    s.slots[slot] = (s.slots[slot] as number) + 1
    if (err === undefined) {
      s.ok++
      return
    }
    s.failed++
    const code = errorCode(err)
    s.errors.set(code, (s.errors.get(code) ?? 0) + 1)
    if (!s.samples.has(code)) s.samples.set(code, String((err as Error)?.message ?? err).slice(0, 200))
  }

  sampleRss(at: number, rssBytes: number): void {
    const slot = this.#slot(at)
    while (this.rssSlots.length <= slot) this.rssSlots.push(0)
    this.rssSlots[slot] = Math.max(this.rssSlots[slot] as number, rssBytes / 2 ** 20)
  }

  get completed(): number {
    let n = 0
    for (const s of this.ops.values()) n += s.ok + s.failed
    return n
  }
}

/**
 * Merges base slots `factor` at a time with `combine` (sum for counts, max
 * for RSS); a trailing partial group is kept.
 * @example rebin([1, 2, 3, 4, 5], 2, (a, b) => a + b) // [3, 7, 5]
 */
export function rebin(slots: readonly number[], factor: number, combine: (a: number, b: number) => number): number[] {
  if (!Number.isSafeInteger(factor) || factor < 1) throw new RangeError(`factor must be a positive integer, got ${factor}`)
  const out: number[] = []
  for (let i = 0; i < slots.length; i += factor) {
    let acc = slots[i] as number
    for (let j = i + 1; j < Math.min(i + factor, slots.length); j++) acc = combine(acc, slots[j] as number)
    out.push(acc)
  }
  return out
}

/** Slots per bucket so that `slotCount` slots make at most {@link MAX_BUCKETS} buckets. */
export function bucketFactor(slotCount: number): number {
  return Math.max(1, Math.ceil(slotCount / MAX_BUCKETS))
}
