/**
 * Turns what a run recorded (scenario.ts, metrics.ts) into its part of
 * bench.json (schema.ts), and a run into the flat result lines that carry
 * ratios against the baselines. Pure: the same outcome gives the same report.
 */
import { cdfOf, encodeHdr, latencyHistogram, summarizeHdr } from '../lib/hdr.ts'
import { orientedRatio, type BenchResult } from '../lib/report.ts'
import { ratePerSecond } from '../lib/stats.ts'
import { HARNESS_BASELINES } from './baselines.ts'
import { bucketFactor, rebin, SLOT_MS } from './metrics.ts'
import type { Mix, OpKind } from './mix.ts'
import type { RunOutcome } from './scenario.ts'
import type { OpReport, RunReport, Timeline } from './schema.ts'

export interface RunMeta {
  id: string
  mode: RunReport['mode']
  scenario: RunReport['scenario']
  mix: Mix
  dropped: RunReport['dropped']
  agents: number
  threads: number
  seed: number
  opsPlanned: number
  offeredRate: number | null
  warmupOps: number
  /** CPU ms and RSS of a server process over the timed part (daemon mode). */
  server: { cpuMs: number; rssMiB: number } | null
}

/** Builds the timeline: base slots merged into at most MAX_BUCKETS buckets, as rates. */
export function timelineOf(outcome: RunOutcome): Timeline {
  const m = outcome.metrics
  let slots = m.rssSlots.length
  for (const s of m.ops.values()) slots = Math.max(slots, s.slots.length)
  const factor = bucketFactor(slots)
  const bucketMs = factor * SLOT_MS
  const pad = (xs: readonly number[]): number[] => Array.from({ length: slots }, (_, i) => xs[i] ?? 0)
  const buckets = Math.ceil(slots / factor)
  // The last bucket ends with the run, usually part-way: its rate is over the time it covers.
  const lastMs = Math.min(bucketMs, Math.max(SLOT_MS, outcome.wallMs - (buckets - 1) * bucketMs))
  const perSecond = (counts: number[]): number[] => counts.map((c, i) => (c * 1000) / (i === buckets - 1 ? lastMs : bucketMs))
  const rate: Timeline['rate'] = {}
  let total: number[] = []
  for (const [kind, s] of m.ops) {
    const counts = rebin(pad(s.slots), factor, (a, b) => a + b)
    rate[kind] = perSecond(counts)
    total = counts.map((c, i) => c + (total[i] ?? 0))
  }
  return {
    bucketMs,
    t: Array.from({ length: buckets }, (_, i) => (i * bucketMs) / 1000),
    rate,
    total: perSecond(Array.from({ length: buckets }, (_, i) => total[i] ?? 0)),
    rssMiB: rebin(pad(m.rssSlots), factor, Math.max),
  }
}

/** The run's section of bench.json. `baselines` are this invocation's raw results. */
export function runReport(meta: RunMeta, outcome: RunOutcome, baselines: readonly BenchResult[]): RunReport {
  const m = outcome.metrics
  const all = latencyHistogram()
  const ops: Partial<Record<OpKind, OpReport>> = {}
  let ok = 0
  let failed = 0
  for (const [kind, s] of m.ops) {
    all.add(s.hist)
    ok += s.ok
    failed += s.failed
    ops[kind] = {
      ok: s.ok,
      failed: s.failed,
      errors: Object.fromEntries(s.errors),
      errorSamples: Object.fromEntries(s.samples),
      throughput: ratePerSecond(s.ok + s.failed, outcome.wallMs),
      latencyMs: summarizeHdr(s.hist),
      cdf: cdfOf(s.hist),
      hdr: encodeHdr(s.hist),
    }
  }
  const done = ok + failed
  const throughput = ratePerSecond(done, outcome.wallMs)
  const latencyMs = summarizeHdr(all)
  const base = new Map(baselines.map((b) => [b.name, b.value]))
  const ratio = (name: string, value: number | null | undefined, better: 'higher' | 'lower'): number | null => {
    const b = base.get(name)
    return b === undefined || value === null || value === undefined ? null : orientedRatio(value, b, better)
  }
  const cpuMs = (outcome.cpu.user + outcome.cpu.system) / 1000
  return {
    ...meta,
    agentsStarted: outcome.agentsStarted,
    opsDone: done,
    ok,
    failed,
    wallMs: outcome.wallMs,
    seedMs: outcome.seedMs,
    warmupMs: outcome.warmupMs,
    stoppedByTime: outcome.stoppedByTime,
    throughput,
    latencyMs,
    cpu: {
      userMs: outcome.cpu.user / 1000,
      systemMs: outcome.cpu.system / 1000,
      perOpUs: done > 0 ? (cpuMs * 1000) / done : 0,
      cores: cpuMs / outcome.wallMs,
    },
    rss: outcome.rss,
    server: meta.server === null ? null : {
      ...meta.server, perOpUs: done > 0 ? (meta.server.cpuMs * 1000) / done : 0, cores: meta.server.cpuMs / outcome.wallMs,
    },
    ops,
    timeline: timelineOf(outcome),
    ratios: {
      lmdbDurable: ratio(HARNESS_BASELINES.lmdbDurable, throughput, 'higher'),
      lmdbBatched: ratio(HARNESS_BASELINES.lmdbBatched, throughput, 'higher'),
      gitCommit: ratio(HARNESS_BASELINES.gitCommit, throughput, 'higher'),
      transportRtt: ratio(meta.mode === 'embedded' ? HARNESS_BASELINES.portRtt : HARNESS_BASELINES.socketRtt, latencyMs?.p50, 'lower'),
    },
  }
}

/**
 * The run as flat result lines: throughput against raw durable LMDB puts,
 * and each operation's latency against the transport's round trip.
 */
export function runResults(run: RunReport): BenchResult[] {
  const group = run.id
  const rtt = run.mode === 'embedded' ? HARNESS_BASELINES.portRtt : HARNESS_BASELINES.socketRtt
  const out: BenchResult[] = [{
    name: `${run.id}.throughput`, group, unit: 'ops/s', value: run.throughput, baseline: HARNESS_BASELINES.lmdbDurable,
    note: `${run.agents} agents, ${run.threads} threads, ${run.opsDone} ops (${run.failed} failed) in ${run.wallMs.toFixed(0)} ms`,
  }]
  for (const [kind, op] of Object.entries(run.ops) as [OpKind, OpReport][]) {
    if (!op.latencyMs) continue
    out.push({
      name: `${run.id}.${kind}.latency`, group, unit: 'ms', value: op.latencyMs.p50, p50: op.latencyMs.p50, p99: op.latencyMs.p99, baseline: rtt,
      note: `n=${op.latencyMs.count} p95=${op.latencyMs.p95.toFixed(2)} max=${op.latencyMs.max.toFixed(2)} ms; ${op.failed} failed`,
    })
  }
  return out
}
