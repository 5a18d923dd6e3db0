/**
 * Command line of every bench script, and run parameters of `npm run bench:core`.
 *
 * Usage: tsx bench/core.ts [--out DIR] [--quick]
 *   --out DIR   where core.json and core.md go (default `bench-out`)
 *   --quick     shorter measuring windows, same sample counts and windows
 */
import { parseArgs } from 'node:util'

/** Knobs shared by the baselines and by runCairnCore; recorded in core.json. */
export type CoreParams = {
  quick: boolean
  /** Length of every time-boxed phase (throughput, durable writes), in ms. */
  durationMs: number
  /** Timed one-at-a-time round trips. */
  rttSamples: number
  /** Untimed round trips before the timed ones. */
  rttWarmup: number
  /** Messages in flight in the pipelined phases. */
  window: number
  /** Concurrent acknowledged writes in the durable-write phases. */
  writesInFlight: number
  /** Puts per batch in the batched-put baseline. */
  batchSize: number
}

/** Parsed command line. */
export interface CoreArgs {
  outDir: string
  params: CoreParams
}

/** Default output directory (git-ignored). */
export const DEFAULT_OUT_DIR = 'bench-out'

/** Parameters of a full or a quick run. */
export function coreParams(quick: boolean): CoreParams {
  return {
    quick,
    durationMs: quick ? 250 : 1000,
    rttSamples: 5000,
    rttWarmup: quick ? 500 : 2000,
    window: 256,
    writesInFlight: 64,
    batchSize: 1000,
  }
}

/** The options every bench script takes: where the report goes, and whether to run small. */
export interface BenchArgs {
  outDir: string
  quick: boolean
}

/**
 * Parses `[--out DIR] [--quick]` (argv without node and script); throws
 * TypeError on unknown or malformed options.
 * @example parseBenchArgs(['--quick']) // { outDir: 'bench-out', quick: true }
 */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string' }, quick: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  })
  const outDir = values.out ?? DEFAULT_OUT_DIR
  if (outDir.trim() === '') throw new TypeError('--out needs a directory')
  return { outDir, quick: values.quick === true }
}

/** Parses argv (without node and script); throws TypeError on unknown or malformed options. */
export function parseCoreArgs(argv: readonly string[]): CoreArgs {
  const { outDir, quick } = parseBenchArgs(argv)
  return { outDir, params: coreParams(quick) }
}
