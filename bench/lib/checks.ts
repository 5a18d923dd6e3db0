/**
 * Correctness checks a bench script makes on what its run did (as opposed
 * to goals, bench/lib/goals.ts, which judge how fast it was): a figure from
 * a run that broke an invariant must not be read as a result.
 *
 * A `fatal` check guards a safety property (e.g. no issue won twice); the
 * script fails the process when one does not pass. A non-fatal check states
 * something the run was expected to achieve (e.g. every issue claimed) and
 * is only reported.
 */

/** One check and its verdict, as written into the JSON report. */
export interface Check {
  /** What must hold, as a sentence, e.g. `no issue won twice`. */
  name: string
  pass: boolean
  /** The figures behind the verdict, e.g. `2,000 wins, 2,000 distinct issues`. */
  detail: string
  fatal: boolean
}

/** Markdown lines: a heading and one bullet per check, e.g. `- PASS: no issue won twice (2,000 wins, 2,000 distinct)`. */
export function renderChecks(checks: readonly Check[]): string[] {
  if (checks.length === 0) return []
  const lines = ['### Checks', '']
  for (const c of checks) lines.push(`- ${c.pass ? 'PASS' : c.fatal ? 'FAIL' : 'NOT MET'}: ${c.name} (${c.detail})`)
  return lines
}

/** The checks that failed and guard a safety property. */
export function fatalFailures(checks: readonly Check[]): Check[] {
  return checks.filter((c) => c.fatal && !c.pass)
}
