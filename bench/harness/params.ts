/**
 * Command line of `npm run bench` (bench/run.ts). Every flag is checked up
 * front with a message naming it; bench/run.ts turns a {@link UsageError}
 * into exit code 2 and the usage text.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_OUT_DIR } from '../lib/params.ts'
import { parseMix, type Mix } from './mix.ts'

export const SCENARIOS = ['burst', 'sustained', 'ramp'] as const
export type Scenario = (typeof SCENARIOS)[number]
export const MODES = ['embedded', 'daemon', 'both'] as const
export type Mode = (typeof MODES)[number]

/** The scaling matrix of the issue: every threads × agents pair runs one burst. */
export const SCALING_THREADS: readonly number[] = [1, 2, 4]
export const SCALING_AGENTS: readonly number[] = [10, 50, 100]

export const USAGE = `usage: npm run bench -- [options]
  --scenario LIST  burst, sustained, ramp, scaling or all, comma-separated (default all)
  --agents N       simulated agents, each its own repo handle and actor (default 50; quick 10)
  --ops N          timed operations per run, shared by its agents (default 20000; quick 1000)
  --threads N      runtime worker threads (default 2)
  --mode M         embedded, daemon or both (default both when a daemon client exists, else embedded)
  --mix M          default, agents, or kind=weight,... (default default)
  --rate N         sustained scenario: ops/s offered (default half of the burst rate of this run, else 200)
  --seed N         PRNG seed of the agents' choices (default 1)
  --max-seconds N  time bound of every run (default 120; quick 15)
  --out DIR        where bench.json, bench.md and the SVG charts go (default ${DEFAULT_OUT_DIR})
  --quick          a smoke run for CI: small sizes, a reduced scaling matrix, under a minute
  --help           this text`

/** A bad command line: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export interface HarnessParams {
  quick: boolean
  scenarios: Scenario[]
  scaling: boolean
  /** Threads × agents pairs of the scaling run. */
  scalingThreads: number[]
  scalingAgents: number[]
  agents: number
  ops: number
  threads: number
  mode: Mode
  /** True when --mode was not given: a missing daemon client skips daemon runs instead of failing. */
  modeDefaulted: boolean
  mixName: string
  mix: Mix
  /** null: derived from the burst rate of this run. */
  rate: number | null
  seed: number
  maxSeconds: number
  outDir: string
}

export type ParseOutcome = { help: true } | { help: false; params: HarnessParams }

function int(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback
  if (!/^[0-9]+$/.test(raw.trim())) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got '${raw}'`)
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be from ${min} to ${max}, got ${raw}`)
  return n
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got '${raw}'`)
}

/**
 * Parses argv (without node and script).
 * @example parseHarnessArgs(['--scenario', 'burst', '--agents', '10']).params.agents // 10
 * @throws UsageError on unknown flags, positionals and out-of-range values.
 */
export function parseHarnessArgs(argv: readonly string[]): ParseOutcome {
  let values
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' }, agents: { type: 'string' }, ops: { type: 'string' }, threads: { type: 'string' },
        mode: { type: 'string' }, mix: { type: 'string' }, rate: { type: 'string' }, seed: { type: 'string' },
        'max-seconds': { type: 'string' }, out: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean' },
      },
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) return { help: true }
  const quick = values.quick === true

  const names = (values.scenario ?? 'all').split(',').map((s) => s.trim())
  const scenarios: Scenario[] = []
  let scaling = false
  for (const name of names) {
    if (name === 'all') {
      scenarios.push(...SCENARIOS)
      scaling = true
    } else if (name === 'scaling') scaling = true
    else scenarios.push(oneOf('scenario', name, [...SCENARIOS, 'scaling', 'all'] as const) as Scenario)
  }
  const uniqueScenarios = SCENARIOS.filter((s) => scenarios.includes(s))

  let mix: Mix
  try {
    mix = parseMix(values.mix ?? 'default')
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const outDir = values.out ?? DEFAULT_OUT_DIR
  if (outDir.trim() === '') throw new UsageError('--out needs a directory')
  const rate = values.rate === undefined ? null : int('rate', values.rate, 0, 1, 10_000_000)

  return {
    help: false,
    params: {
      quick,
      scenarios: uniqueScenarios,
      scaling,
      // Quick keeps the shape of the matrix (3 × 3 would not fit in a minute on 2 cores with a fresh runtime per cell).
      scalingThreads: quick ? [1, 2] : [...SCALING_THREADS],
      scalingAgents: quick ? [10, 50] : [...SCALING_AGENTS],
      agents: int('agents', values.agents, quick ? 10 : 50, 1, 10_000),
      ops: int('ops', values.ops, quick ? 1000 : 20_000, 1, 10_000_000),
      threads: int('threads', values.threads, 2, 1, 64),
      mode: values.mode === undefined ? 'both' : oneOf('mode', values.mode, MODES),
      modeDefaulted: values.mode === undefined,
      mixName: values.mix ?? 'default',
      mix,
      rate,
      seed: int('seed', values.seed, 1, 0, 2 ** 32 - 1),
      maxSeconds: int('max-seconds', values['max-seconds'], quick ? 15 : 120, 1, 86_400),
      outDir,
    },
  }
}
