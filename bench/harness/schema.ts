/**
 * The JSON document `npm run bench` writes to `<out>/bench.json`: schema
 * `cairn-bench-harness/1`, `schemaVersion: 1`. bench/SCHEMA.md describes
 * every field for readers who do not read TypeScript; this file is the
 * source of truth and the two change together.
 *
 * Compatibility rule (as for core.json, bench/lib/report.ts): within one
 * schemaVersion fields are only ever added; renaming, removing or changing
 * the meaning or unit of a field bumps it. Units are in the field names or
 * stated here: latencies in ms, rates in ops/s, memory in MiB, CPU in ms.
 */
import type { HdrSummary } from '../lib/hdr.ts'
import type { BenchResult, MachineInfo, RatioEntry } from '../lib/report.ts'
import type { Mix, OpKind } from './mix.ts'

export const HARNESS_SCHEMA = 'cairn-bench-harness/1'
export const SCHEMA_VERSION = 1

export interface HarnessReport {
  schema: typeof HARNESS_SCHEMA
  schemaVersion: typeof SCHEMA_VERSION
  /** ISO-8601 UTC. */
  startedAt: string
  finishedAt: string
  wallMs: number
  machine: MachineInfo & { loadAvg: number[]; freeMemGiB: number }
  /** Versions of what was measured: node, v8, cairn, lmdb, nodegit, libgit2, piscina, xstate, msgpackr, hdr-histogram-js, git. */
  versions: Record<string, string>
  /** The parsed command line (bench/harness/params.ts), the mix as weights. */
  params: Record<string, unknown>
  /** Raw figures measured in this invocation; latencies in ms, rates in ops/s. */
  baselines: BenchResult[]
  /** Every scenario run and every scaling cell, in the order they ran. */
  runs: RunReport[]
  scaling: ScalingReport | null
  /** Flat list (baselines, then per-run figures) in core.json's result form, for tools shared with it. */
  results: BenchResult[]
  /** One per result naming a baseline; > 1 means Cairn is better (bench/lib/report.ts). */
  ratios: RatioEntry[]
  /** What this invocation did not run, and why (e.g. daemon mode without a daemon client). */
  skipped: { what: string; reason: string }[]
  /** Files written next to bench.json, relative to `--out`. */
  files: { markdown: string; charts: string[] }
}

export interface RunReport {
  /** `<mode>/<scenario>` for scenario runs, `scaling/t<threads>-a<agents>` for scaling cells. */
  id: string
  mode: 'embedded' | 'daemon'
  scenario: 'burst' | 'sustained' | 'ramp'
  /** The weights actually drawn from (after dropping unsupported operations). */
  mix: Mix
  /** Operations of the requested mix this target could not run. */
  dropped: { op: OpKind; reason: string }[]
  agents: number
  agentsStarted: number
  threads: number
  seed: number
  opsPlanned: number
  /** Completed calls, ok or failed. */
  opsDone: number
  ok: number
  failed: number
  /** sustained: ops/s offered; null otherwise. */
  offeredRate: number | null
  /** First call to last completion. */
  wallMs: number
  /** Untimed: one issue per agent created before timing. */
  seedMs: number
  /** Untimed operations of the mix run after seeding, before timing, and how long they took. */
  warmupOps: number
  warmupMs: number
  /** The --max-seconds bound ended the run before its operation budget. */
  stoppedByTime: boolean
  /** Completed calls per second over wallMs (failures included; see `failed`). */
  throughput: number
  /** Every operation kind together. */
  latencyMs: HdrSummary | null
  /** Whole process (every thread); for the daemon mode, the client process. */
  cpu: { userMs: number; systemMs: number; perOpUs: number; cores: number }
  rss: { startMiB: number; peakMiB: number; endMiB: number }
  /** Daemon mode: the daemon process (CPU over the timed part, RSS at its end), when its pid is known; null otherwise. */
  server: { cpuMs: number; rssMiB: number; perOpUs: number; cores: number } | null
  ops: Partial<Record<OpKind, OpReport>>
  timeline: Timeline
  /** Oriented ratios (> 1: Cairn better), null when a baseline is missing. */
  ratios: {
    /** throughput ÷ raw.lmdb.durable-put */
    lmdbDurable: number | null
    /** throughput ÷ raw.lmdb.batched-put */
    lmdbBatched: number | null
    /** throughput ÷ raw.git.commit */
    gitCommit: number | null
    /** transport round trip p50 ÷ this run's p50 (MessagePort embedded, Unix socket daemon) */
    transportRtt: number | null
  }
}

export interface OpReport {
  ok: number
  failed: number
  /** Failures by stable error code (CairnError `code`, else a Node `code`, else UNKNOWN). */
  errors: Record<string, number>
  /** First message seen per code. */
  errorSamples: Record<string, string>
  /** Completions of this kind per second over the run's wallMs. */
  throughput: number
  /** Timed from the call (burst, ramp) or from its due time (sustained). */
  latencyMs: HdrSummary | null
  /** `[percentile, ms]`, percentiles of bench/lib/hdr.ts CDF_PERCENTILES. */
  cdf: [number, number][]
  /** The whole histogram in µs, HdrHistogram compressed base64 (decodeFromCompressedBase64). */
  hdr: string
}

export interface Timeline {
  bucketMs: number
  /** Start of each bucket, seconds since the first call. */
  t: number[]
  /** Completions per second in each bucket, per kind and in total. */
  rate: Partial<Record<OpKind, number[]>>
  total: number[]
  /** Highest RSS sampled in each bucket (0: no sample fell in it). */
  rssMiB: number[]
}

export interface ScalingReport {
  scenario: 'burst'
  mode: 'embedded'
  threads: number[]
  agents: number[]
  opsPerCell: number
  cells: { threads: number; agents: number; runId: string; throughput: number; p50: number | null; p99: number | null; cpuPerOpUs: number; peakRssMiB: number; failed: number }[]
}
