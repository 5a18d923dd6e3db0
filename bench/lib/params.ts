/**
 * Command line and run parameters of `npm run bench:core`.
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

/** Parses argv (without node and script); throws TypeError on unknown or malformed options. */
export function parseCoreArgs(argv: readonly string[]): CoreArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string' }, quick: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  })
  const outDir = values.out ?? DEFAULT_OUT_DIR
  if (outDir.trim() === '') throw new TypeError('--out needs a directory')
  return { outDir, params: coreParams(values.quick === true) }
}
