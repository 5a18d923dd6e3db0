/**
 * Run parameters of `npm run bench:locks`, recorded in locks.json.
 *
 * Usage: tsx bench/locks.ts [--out DIR] [--quick]
 *   --out DIR   where locks.json and locks.md go (default `bench-out`)
 *   --quick     short pair windows, boards of 300 and 1,000 issues to claim
 *
 * The claim phase's time bound stays below the claim TTL on purpose: every
 * lease won in the run is then still live when the run ends, so an issue
 * won twice is a broken claim, never a lease that lapsed and was taken
 * over as designed.
 */
import { parseBenchArgs } from '../lib/params.ts'

export type LocksParams = {
  quick: boolean
  /** Worker threads of every runtime in the run. */
  threads: number
  /** Clients of the concurrent pair phase (the other pair phase has 1), raw writers likewise. */
  pairClients: number
  /** Measured window of each pair phase, and the untimed run before it (both sides). */
  pairDurationMs: number
  pairWarmupMs: number
  /** Count bound per client and phase, besides the time bound. */
  maxPairsPerClient: number
  /** ttlMs of every pair's lease (autoRenew off). */
  pairTtlMs: number
  /** Board sizes (see claimBoards): each is seeded with issues.create on a repository of its own, then claimed dry. */
  claimBoardSmall: number
  claimBoardLarge: number
  /** Concurrent seeding handles (distinct agents). */
  seedWriters: number
  /** Time bound of the seeding. */
  seedTimeoutMs: number
  /** Contending claimNext clients (distinct agents). */
  claimClients: number
  /** ttlMs of every claim (autoRenew off). */
  claimTtlMs: number
  /** Time bound of the claim phase; below claimTtlMs (see above). */
  claimBudgetMs: number
  /** Remote acquire+release pairs measured per transport (and raw pushes), after `remoteWarmup` untimed ones. */
  remotePairs: number
  remoteWarmup: number
  /** Time bound of each transport's remote pairs. */
  remoteBudgetMs: number
}

/** Parsed command line. */
export interface LocksArgs {
  outDir: string
  params: LocksParams
}

/** Parameters of a full or a quick run. */
export function locksParams(quick: boolean): LocksParams {
  const claimTtlMs = 60_000
  return {
    quick,
    threads: 2,
    pairClients: 20,
    pairDurationMs: quick ? 1500 : 5000,
    pairWarmupMs: quick ? 300 : 1000,
    maxPairsPerClient: 1_000_000,
    pairTtlMs: 30_000,
    claimBoardSmall: quick ? 300 : 1000,
    claimBoardLarge: quick ? 1000 : 10_000,
    seedWriters: 20,
    seedTimeoutMs: quick ? 30_000 : 60_000,
    claimClients: 50,
    claimTtlMs,
    claimBudgetMs: claimBudget(claimTtlMs),
    remotePairs: quick ? 40 : 200,
    remoteWarmup: 5,
    remoteBudgetMs: quick ? 20_000 : 60_000,
  }
}

/** The board sizes of the claim scenario, smaller first. */
export function claimBoards(p: LocksParams): number[] {
  return [p.claimBoardSmall, p.claimBoardLarge]
}

/**
 * The claim phase's time bound for a claim TTL: 10 s short of it, so the
 * last client's last call (bounded by the runtime's request timeout only
 * in theory, in practice well under a second) ends before the first lease
 * granted could lapse.
 * @example claimBudget(60_000) // 50_000
 */
export function claimBudget(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 10_000) throw new RangeError(`claim ttlMs must be an integer above 10,000, got ${ttlMs}`)
  return ttlMs - 10_000
}

/** Parses argv (without node and script); throws TypeError on unknown or malformed options. */
export function parseLocksArgs(argv: readonly string[]): LocksArgs {
  const { outDir, quick } = parseBenchArgs(argv)
  return { outDir, params: locksParams(quick) }
}
