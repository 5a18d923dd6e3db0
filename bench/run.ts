/**
 * `npm run bench` / `npm run bench:quick`: simulated agents against a real
 * repository, with the raw baselines measured in the same invocation.
 *
 * Usage: see bench/harness/params.ts (USAGE) or `npm run bench -- --help`.
 *
 * Writes to `--out` (default bench-out): `bench.json` (schema
 * `cairn-bench-harness/1`, bench/SCHEMA.md), `bench.md`, and SVG charts;
 * prints the markdown to stdout, progress to stderr. Exit codes: 0 done,
 * 1 a run failed, 2 bad command line or a mode that cannot run here,
 * 3 something stayed alive after the report.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadDaemonTarget } from './harness/daemon-target.ts'
import { runHarness } from './harness/harness.ts'
import { renderHarnessMarkdown } from './harness/markdown.ts'
import { parseHarnessArgs, USAGE, UsageError } from './harness/params.ts'
import { progress } from './harness/progress.ts'

/** How long (ms) the process may stay alive after the report before it is called hung. */
const EXIT_GRACE_MS = 5000

async function main(): Promise<void> {
  let parsed
  try {
    parsed = parseHarnessArgs(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const p = parsed.params
  const daemon = p.mode === 'embedded' ? { open: null, problem: null } : await loadDaemonTarget()
  if (daemon.open === null && !p.modeDefaulted && p.mode !== 'embedded') {
    process.stderr.write(`bench: --mode ${p.mode} cannot run: ${daemon.problem}\n`)
    process.exitCode = 2
    return
  }
  const t0 = Date.now()
  const { report, charts, failedRuns } = await runHarness(p, { progress: progress(), openDaemon: daemon.open, daemonProblem: daemon.problem })
  await mkdir(p.outDir, { recursive: true })
  const markdown = renderHarnessMarkdown(report)
  await writeFile(join(p.outDir, 'bench.json'), JSON.stringify(report, null, 2) + '\n')
  await writeFile(join(p.outDir, 'bench.md'), markdown)
  for (const c of charts) await writeFile(join(p.outDir, c.file), c.svg)
  process.stdout.write(markdown)
  process.stderr.write(`bench: wrote bench.json, bench.md and ${charts.length} charts to ${p.outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
  if (failedRuns > 0) {
    process.stderr.write(`bench: ${failedRuns} run(s) failed; see "Not run" in bench.md\n`)
    process.exitCode = 1
  }

  // Diagnostic only: unref'd, so it fires only if something still holds the loop.
  setTimeout(() => {
    console.error(`bench: still running ${EXIT_GRACE_MS} ms after the report; a runtime, worker, socket or child was left open`)
    process.exit(3)
  }, EXIT_GRACE_MS).unref()
}

main().catch((err: unknown) => {
  console.error('bench failed:', err)
  process.exitCode = 1
})
