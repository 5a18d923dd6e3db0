/**
 * `npm run bench:issues`: the event log and issue board under load, each
 * scenario next to a raw baseline measured in the same run.
 *
 * Usage: tsx bench/issues.ts [--out DIR] [--quick]
 *
 * 1. writes  acknowledged events/s and per-call latency, 50 concurrent
 *            writers on one repository (bench/issues/writers.ts)
 * 2. list    issues.list latency at 1k and 10k issues (bench/issues/list.ts)
 * 3. open    open-to-serving with a 100k-event log, with the projection
 *            snapshot and rebuilding it (bench/issues/open.ts)
 *
 * Writes `<out>/issues.json` (schema `cairn-bench-issues/1`: the document of
 * bench/lib/report.ts plus `goals`, see bench/lib/goals.ts) and
 * `<out>/issues.md`, and prints the markdown to stdout. Progress goes to
 * stderr. Every repository and runtime home lives under one temp dir,
 * removed at the end; the process exits by itself.
 */
import { checkGoals, renderGoals, type Goal } from './lib/goals.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { benchDirs } from './issues/fixture.ts'
import { runListScenario } from './issues/list.ts'
import { OPEN_RESULTS, runOpenScenario } from './issues/open.ts'
import { openEvents, parseIssuesArgs } from './issues/params.ts'
import { runCairnWriters, runRawEventPuts, WRITER_RESULTS } from './issues/writers.ts'

/** Schema of issues.json: core.json's document (bench/lib/report.ts) plus `goals`. */
const ISSUES_SCHEMA = 'cairn-bench-issues/1'

/** How long (ms) the process may stay alive after the report before it is called hung. */
const EXIT_GRACE_MS = 5000

const GOALS: Goal[] = [
  { result: WRITER_RESULTS.rate, op: '>=', target: 10_000, context: 'on this machine; grite claims 1,000/s' },
  { result: OPEN_RESULTS.snapshot, op: '<', target: 300, context: 'open-to-serving with the projection snapshot' },
]

async function main(): Promise<void> {
  let args
  try {
    args = parseIssuesArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`bench:issues: ${(err as Error).message}\nusage: tsx bench/issues.ts [--out DIR] [--quick]`)
    process.exitCode = 2
    return
  }
  const { outDir, params } = args
  const startedAt = new Date().toISOString()
  const results: BenchResult[] = []
  const log = (msg: string): void => { process.stderr.write(`bench:issues:   ${msg}\n`) }
  const phase = async <T>(label: string, run: () => Promise<T>, take: (got: T) => BenchResult[]): Promise<T> => {
    const t0 = Date.now()
    process.stderr.write(`bench:issues: ${label}...\n`)
    const got = await run()
    const rs = take(got)
    results.push(...rs)
    process.stderr.write(`bench:issues: ${label}: ${rs.length} result(s) in ${Date.now() - t0} ms\n`)
    return got
  }

  const dirs = benchDirs()
  try {
    await phase(`raw lmdb event puts, ${params.writers} writers`, () => runRawEventPuts(params), (r) => r)
    await phase(`cairn writers, ${params.writers} on one repository`, () => runCairnWriters(params, dirs), (r) => r)
    const listed = await phase(`populate ${params.listSmall} + ${params.listLarge} issues, then issues.list`,
      () => runListScenario(params, dirs, log), (o) => o.results)
    await phase(`open-to-serving, ${openEvents(params)} events`,
      () => runOpenScenario(params, dirs, listed.largeRepo, listed.largePopulation), (r) => r)
  } finally {
    dirs.cleanup()
  }

  const goals = checkGoals(GOALS, results)
  const report = { ...buildReport({ machine: machineInfo(), startedAt, params, results, schema: ISSUES_SCHEMA }), goals }
  const { jsonPath, mdPath, markdown } = await writeReport(outDir, report, {
    name: 'issues', title: 'Cairn issues benchmark', footer: renderGoals(goals),
  })
  process.stdout.write(markdown)
  process.stderr.write(`bench:issues: wrote ${jsonPath} and ${mdPath}\n`)

  // Diagnostic only: unref'd, so it fires only if something still holds the loop.
  setTimeout(() => {
    console.error(`bench:issues: still running ${EXIT_GRACE_MS} ms after the report; a runtime, worker or env was left open`)
    process.exit(3)
  }, EXIT_GRACE_MS).unref()
}

main().catch((err: unknown) => {
  console.error('bench:issues failed:', err)
  process.exitCode = 1
})
