/**
 * `npm run bench:core`: raw baselines, then Cairn's figures, in one process
 * and one report.
 *
 * Usage: tsx bench/core.ts [--out DIR] [--quick]
 *
 * Writes `<out>/core.json` (schema `cairn-bench-core/1`, see
 * bench/lib/report.ts) and `<out>/core.md`, and prints the markdown table to
 * stdout. Progress goes to stderr. The process exits by itself: every phase
 * shuts down what it starts.
 */
import { runMessagePortEcho } from './baselines/message-port-echo.ts'
import { runLmdbPut } from './baselines/lmdb-put.ts'
import { runCairnCore } from './cairn-core.ts'
import { parseCoreArgs } from './lib/params.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'

/** How long (ms) the process may stay alive after the report before it is called hung. */
const EXIT_GRACE_MS = 5000

async function main(): Promise<void> {
  let args
  try {
    args = parseCoreArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`bench:core: ${(err as Error).message}\nusage: tsx bench/core.ts [--out DIR] [--quick]`)
    process.exitCode = 2
    return
  }
  const { outDir, params } = args
  const startedAt = new Date().toISOString()
  const results: BenchResult[] = []
  const phase = async (label: string, run: () => Promise<BenchResult[]>): Promise<void> => {
    const t0 = Date.now()
    process.stderr.write(`bench:core: ${label}...`)
    const got = await run()
    results.push(...got)
    process.stderr.write(` ${got.length} result(s) in ${Date.now() - t0} ms\n`)
  }

  await phase('raw message-port echo', () => runMessagePortEcho({
    rttSamples: params.rttSamples, rttWarmup: params.rttWarmup, window: params.window, durationMs: params.durationMs,
  }))
  await phase('raw lmdb puts', () => runLmdbPut({
    inFlight: params.writesInFlight, batchSize: params.batchSize, durationMs: params.durationMs,
  }))
  await phase('cairn core', () => runCairnCore(params))

  const report = buildReport({ machine: machineInfo(), startedAt, params, results })
  const { jsonPath, mdPath, markdown } = await writeReport(outDir, report)
  process.stdout.write(markdown)
  process.stderr.write(`bench:core: wrote ${jsonPath} and ${mdPath}\n`)

  // Diagnostic only: unref'd, so it fires only if something still holds the loop.
  setTimeout(() => {
    console.error(`bench:core: still running ${EXIT_GRACE_MS} ms after the report; a worker, port or env was left open`)
    process.exit(3)
  }, EXIT_GRACE_MS).unref()
}

main().catch((err: unknown) => {
  process.stderr.write('\n')
  console.error('bench:core failed:', err)
  process.exitCode = 1
})
