/**
 * The raw baselines of `npm run bench`, measured in the same invocation as
 * the Cairn runs they are compared with: MessagePort echo and Unix-socket
 * echo (the two transports, embedded and daemon), LMDB durable and batched
 * puts (the storage engine), and nodegit commits (a git-backed tracker
 * writing one commit per operation).
 *
 * The baselines keep their own modules and units (bench/baselines/); here
 * their results are brought to the harness's units, latencies in ms and
 * rates in ops/s, so every Cairn figure has a ratio against them
 * (computeRatios needs equal units). The note says what one op is.
 */
import { runLmdbPut, LMDB_BASELINES } from '../baselines/lmdb-put.ts'
import { runMessagePortEcho, PORT_BASELINES } from '../baselines/message-port-echo.ts'
import { GIT_BASELINES, runNodegitCommit } from '../baselines/nodegit-commit.ts'
import { runUnixSocketEcho, SOCKET_BASELINES } from '../baselines/unix-socket-echo.ts'
import type { BenchResult } from '../lib/report.ts'

export const HARNESS_BASELINES = {
  portRtt: PORT_BASELINES.roundTrip,
  portPipelined: PORT_BASELINES.pipelined,
  socketRtt: SOCKET_BASELINES.roundTrip,
  socketPipelined: SOCKET_BASELINES.pipelined,
  lmdbDurable: LMDB_BASELINES.durable,
  lmdbBatched: LMDB_BASELINES.batched,
  gitCommit: GIT_BASELINES.commit,
  gitLatency: GIT_BASELINES.latency,
} as const

export interface BaselineSizes {
  rttSamples: number
  rttWarmup: number
  window: number
  durationMs: number
  lmdbInFlight: number
  lmdbBatch: number
  gitWriters: number
  gitDurationMs: number
}

export function baselineSizes(quick: boolean): BaselineSizes {
  return {
    rttSamples: quick ? 2000 : 5000,
    rttWarmup: quick ? 200 : 1000,
    window: 256,
    durationMs: quick ? 300 : 1000,
    lmdbInFlight: 64,
    lmdbBatch: 1000,
    gitWriters: 4,
    gitDurationMs: quick ? 500 : 2000,
  }
}

/** What one op of a rate unit is, for the note once the unit reads `ops/s`. */
const OP_OF: Record<string, string> = { 'msgs/s': 'round trip', 'puts/s': 'durable put' }

/**
 * A result in harness units: µs become ms, any rate becomes ops/s.
 * @example toHarnessUnits({ name: 'x', group: 'g', unit: 'µs', value: 20, p50: 20, p99: 40 }) // unit 'ms', value 0.02
 */
export function toHarnessUnits(r: BenchResult): BenchResult {
  if (r.unit === 'µs') {
    const ms = (v: number | undefined): number | undefined => (v === undefined ? undefined : v / 1000)
    const out: BenchResult = { ...r, unit: 'ms', value: r.value / 1000 }
    if (r.p50 !== undefined) out.p50 = ms(r.p50)
    if (r.p99 !== undefined) out.p99 = ms(r.p99)
    return out
  }
  if (/\/s$/.test(r.unit) && r.unit !== 'ops/s') {
    return { ...r, unit: 'ops/s', note: `${r.note ?? ''}; 1 op = 1 ${OP_OF[r.unit] ?? r.unit.replace(/\/s$/, '')}`.replace(/^; /, '') }
  }
  return r
}

/** One named baseline phase, for progress reporting. */
export interface BaselinePhase {
  label: string
  run: () => Promise<BenchResult[]>
}

/** The baseline phases, in the order they run (all of them, whatever the mode: each is a reference figure of its own). */
export function baselinePhases(s: BaselineSizes): BaselinePhase[] {
  const echo = { rttSamples: s.rttSamples, rttWarmup: s.rttWarmup, window: s.window, durationMs: s.durationMs }
  return [
    { label: 'raw MessagePort echo', run: () => runMessagePortEcho(echo) },
    { label: 'raw Unix-socket echo', run: () => runUnixSocketEcho(echo) },
    { label: 'raw LMDB durable and batched puts', run: () => runLmdbPut({ inFlight: s.lmdbInFlight, batchSize: s.lmdbBatch, durationMs: s.durationMs }) },
    {
      label: 'raw nodegit commits',
      run: () => runNodegitCommit({ writers: s.gitWriters, durationMs: s.gitDurationMs, warmupMs: Math.min(200, s.gitDurationMs / 4), maxCommitsPerWriter: 1_000_000 }),
    },
  ]
}
