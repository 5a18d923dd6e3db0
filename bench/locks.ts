/**
 * `npm run bench:locks`: leases under load, next to a raw baseline measured
 * in the same run.
 *
 * Usage: tsx bench/locks.ts [--out DIR] [--quick]
 *
 * 1. pairs   local acquire+release pairs/s and per-pair latency, 1 client
 *            and 20 concurrent clients on resources of their own, against
 *            raw lmdb durable put+remove pairs (bench/locks/pairs.ts)
 * 2. claims  claimNext throughput and latency, 50 contending clients
 *            draining a seeded board of 1,000 and of 10,000 issues, with
 *            correctness checks on the wins (bench/locks/claims.ts,
 *            bench/locks/claim-check.ts), and how flat the rate stays from
 *            one board to the other (claims/s at 10k ÷ at 1k)
 * 3. remote  cross-machine lease acquire and acquire+release latency
 *            (p50/p99) against a bare repository on this machine, by path
 *            and through git daemon on 127.0.0.1, against raw `git push`
 *            of one commit to the same remote (bench/locks/remote.ts)
 *
 * Writes `<out>/locks.json` (schema `cairn-bench-locks/1`: the document of
 * bench/lib/report.ts plus `checks`, see bench/lib/checks.ts, and `goals`,
 * bench/lib/goals.ts) and
 * `<out>/locks.md`, and prints the markdown to stdout. Progress goes to
 * stderr. Every repository and runtime home lives under one temp dir,
 * removed at the end; the process exits by itself, with code 1 when a
 * fatal check failed (e.g. an issue won twice).
 */
import { fatalFailures, renderChecks, type Check } from './lib/checks.ts'
import { checkGoals, renderGoals, type Goal } from './lib/goals.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { CLAIM_BASELINE, claimResultNames, runClaimScenario } from './locks/claims.ts'
import { benchDirs } from './locks/fixture.ts'
import { pairClientCounts, runCairnPairs, runRawPairs } from './locks/pairs.ts'
import { claimBoards, parseLocksArgs } from './locks/params.ts'
import { runRemoteLeases } from './locks/remote.ts'

/** Schema of locks.json: core.json's document (bench/lib/report.ts) plus `checks`. */
const LOCKS_SCHEMA = 'cairn-bench-locks/1'

/** The ratio of claims/s on the larger board to the smaller one: 1 is a claim that costs the same however large the board. */
export const FLATNESS = 'cairn.issues.claim-next.flatness'

/** The targets of issue 18, on the larger board of the run (10,000 issues; 1,000 with --quick). */
function goalsFor(boards: number[]): Goal[] {
  const big = claimResultNames(Math.max(...boards))
  return [
    { result: big.rate, op: '>=', target: 2_000, context: 'claimNext, 50 clients, on this machine' },
    { result: big.p99, op: '<', target: 25, context: 'p99 of a winning claim' },
    { result: FLATNESS, op: '>=', target: 0.7, context: `claims/s at ${Math.max(...boards)} ÷ at ${Math.min(...boards)} issues: flat` },
  ]
}

/** How long (ms) the process may stay alive after the report before it is called hung. */
const EXIT_GRACE_MS = 5000

async function main(): Promise<void> {
  let args
  try {
    args = parseLocksArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`bench:locks: ${(err as Error).message}\nusage: tsx bench/locks.ts [--out DIR] [--quick]`)
    process.exitCode = 2
    return
  }
  const { outDir, params } = args
  const startedAt = new Date().toISOString()
  const results: BenchResult[] = []
  let checks: Check[] = []
  const log = (msg: string): void => { process.stderr.write(`bench:locks:   ${msg}\n`) }
  const phase = async <T>(label: string, run: () => Promise<T>, take: (got: T) => BenchResult[]): Promise<T> => {
    const t0 = Date.now()
    process.stderr.write(`bench:locks: ${label}...\n`)
    const got = await run()
    const rs = take(got)
    results.push(...rs)
    process.stderr.write(`bench:locks: ${label}: ${rs.length} result(s) in ${Date.now() - t0} ms\n`)
    return got
  }

  const clients = pairClientCounts(params).join(' and ')
  const dirs = benchDirs()
  try {
    await phase(`raw lmdb put+remove pairs, ${clients} writers`, () => runRawPairs(params), (r) => r)
    await phase(`cairn acquire+release pairs, ${clients} clients`, () => runCairnPairs(params, dirs), (r) => r)
    for (const n of claimBoards(params)) {
      const claimed = await phase(`seed ${n} issues, then claimNext with ${params.claimClients} clients`,
        () => runClaimScenario(params, dirs, log, n), (o) => o.results)
      checks = [...checks, ...claimed.checks]
    }
    // claims/s and pairs/s are different units, so the report cannot divide them itself: the ratio is a result of its own.
    const raw = results.find((r) => r.name === CLAIM_BASELINE)?.value ?? 0
    for (const n of claimBoards(params)) {
      const rate = results.find((r) => r.name === claimResultNames(n).rate)?.value ?? 0
      results.push({ name: claimResultNames(n).perRaw, group: 'claims', unit: 'ratio', value: raw > 0 ? rate / raw : 0, better: 'higher',
        note: `claims/s at ${n} issues (${rate.toFixed(0)}) ÷ ${CLAIM_BASELINE} pairs/s of this run (${raw.toFixed(0)}): ` +
          'a claim is one durable block (lease, event, claim record) plus two thread crossings; a raw pair is two durable lmdb writes' })
    }
    const rates = claimBoards(params).map((n) => results.find((r) => r.name === claimResultNames(n).rate)?.value ?? 0)
    const [small, big] = [rates[0] as number, rates.at(-1) as number]
    results.push({ name: FLATNESS, group: 'claims', unit: 'ratio', value: small > 0 ? big / small : 0, better: 'higher',
      note: `claims/s at ${params.claimBoardLarge} issues (${big.toFixed(0)}) ÷ at ${params.claimBoardSmall} (${small.toFixed(0)}); goal ≥ 0.7` })
    const remote = await phase(`remote leases: ${params.remotePairs} acquire+release pairs per transport, raw git push alongside`,
      () => runRemoteLeases(params, dirs, log), (o) => o.results)
    checks = [...checks, ...remote.checks]
  } finally {
    dirs.cleanup()
  }

  const goals = checkGoals(goalsFor(claimBoards(params)), results)
  const report = { ...buildReport({ machine: machineInfo(), startedAt, params, results, schema: LOCKS_SCHEMA }), checks, goals }
  const { jsonPath, mdPath, markdown } = await writeReport(outDir, report, {
    name: 'locks', title: 'Cairn locks benchmark', footer: [...renderGoals(goals), '', ...renderChecks(checks)],
  })
  process.stdout.write(markdown)
  process.stderr.write(`bench:locks: wrote ${jsonPath} and ${mdPath}\n`)
  const fatal = fatalFailures(checks)
  if (fatal.length > 0) {
    console.error(`bench:locks: ${fatal.length} fatal check(s) failed: ${fatal.map((c) => c.name).join('; ')}`)
    process.exitCode = 1
  }

  // Diagnostic only: unref'd, so it fires only if something still holds the loop.
  setTimeout(() => {
    console.error(`bench:locks: still running ${EXIT_GRACE_MS} ms after the report; a runtime, worker or env was left open`)
    process.exit(3)
  }, EXIT_GRACE_MS).unref()
}

main().catch((err: unknown) => {
  console.error('bench:locks failed:', err)
  process.exitCode = 1
})
