/**
 * Run parameters of `npm run bench:issues`, recorded in issues.json.
 *
 * Usage: tsx bench/issues.ts [--out DIR] [--quick]
 *   --out DIR   where issues.json and issues.md go (default `bench-out`)
 *   --quick     small sizes: 2 s writers, 1k/2k issues, a 10k-event repository
 *
 * The large list repository is also the open-to-serving repository, so its
 * size is `listLarge × eventsPerIssue` events (100k in a full run): one
 * population serves two scenarios.
 */
import { parseBenchArgs } from '../lib/params.ts'

export type IssuesParams = {
  quick: boolean
  /** Worker threads of every runtime in the run. */
  threads: number
  /** Scenario 1: concurrent writers, one repo handle (agent) each, on one repository. */
  writers: number
  /** Scenario 1: measured window, and the untimed run before it (both sides). */
  writeDurationMs: number
  writeWarmupMs: number
  /** Scenario 1 and population: calls per issue (1 create, then comments, labels, assignees). */
  eventsPerIssue: number
  /** Count bound per writer, besides the time bound. */
  maxCallsPerWriter: number
  /** Characters in every comment body (and in the raw baseline's event-shaped value). */
  commentChars: number
  /** Scenario 2: issue counts of the two listed repositories. */
  listSmall: number
  listLarge: number
  /** Scenario 2: timed and untimed calls per size (both sides). */
  listCalls: number
  listWarmup: number
  /** Population: concurrent writers and a time bound for each repository. */
  populateWriters: number
  populateTimeoutMs: number
  /** Scenario 3: timed opens per variant (median reported). */
  openRepeats: number
  /** Time bound of every count-bounded repetition (list calls, opens), per size and side. */
  repeatBudgetMs: number
}

/** Parsed command line. */
export interface IssuesArgs {
  outDir: string
  params: IssuesParams
}

/** Parameters of a full or a quick run. */
export function issuesParams(quick: boolean): IssuesParams {
  return {
    quick,
    threads: 2,
    writers: 50,
    writeDurationMs: quick ? 2000 : 10_000,
    writeWarmupMs: quick ? 300 : 1000,
    eventsPerIssue: quick ? 5 : 10,
    maxCallsPerWriter: 1_000_000,
    commentChars: 120,
    listSmall: 1000,
    listLarge: quick ? 2000 : 10_000,
    listCalls: 50,
    listWarmup: 5,
    populateWriters: 100,
    populateTimeoutMs: quick ? 60_000 : 150_000,
    openRepeats: quick ? 3 : 5,
    repeatBudgetMs: quick ? 30_000 : 60_000,
  }
}

/** Events in the open-to-serving repository. */
export function openEvents(p: IssuesParams): number {
  return p.listLarge * p.eventsPerIssue
}

/** Parses argv (without node and script); throws TypeError on unknown or malformed options. */
export function parseIssuesArgs(argv: readonly string[]): IssuesArgs {
  const { outDir, quick } = parseBenchArgs(argv)
  return { outDir, params: issuesParams(quick) }
}
