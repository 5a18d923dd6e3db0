/**
 * `npm run bench:scale`: how Cairn's costs grow with the board, 1k / 10k /
 * 100k issues (10 events each: 10k / 100k / 1M events), each figure next to
 * a raw baseline from the same run, and a scaling table that shows whether
 * any cost grows faster than the work.
 *
 * Usage: tsx bench/scale.ts [--out DIR] [--quick]   (--quick: 1k and 10k only)
 *
 * Per size, on a fresh repository filled by bench/scale/generate.ts:
 * - generate   events/s through the RepoWorker's write path in this thread
 * - size       data.mdb on disk, and bytes per event
 * - open       createRuntime + rt.repo + the first list page, 2 threads
 *              (raw: lmdb open + one read in this thread); first after the
 *              generator (the whole store file is checked), then again after
 *              the runtime's clean stop (sealed: store/seal.ts; to the first
 *              page, the stop not counted). These run from the sources; the
 *              open users wait for is measured too: fresh `node` processes
 *              running the compiled package (scale/compiled-open.ts), with
 *              their idle RSS
 * - claims     after the reopen: the first issues.claimNext() (it builds
 *              the writer's ready set over the board), then the next ones
 * - list page  issues.list({ state: 'open', limit: 50 }), first page and a
 *              page from the middle (`after`); raw: one getRange of 50 heads
 * - ready page issues.ready({ limit: 50 })
 * - topo       issues.topo(): every open issue (its answer grows with the board)
 * - writes     durable comments on distinct issues in turn, 50 writers: the
 *              first second after the open apart, then 2 s (raw:
 *              bench/issues/writers.ts's LMDB event put after its own warm-up,
 *              once per run). The first second pays for LMDB's free list: the
 *              generator's large blocks and its outbox clear free many pages,
 *              and the first commits after reuse them (a compacted copy of the
 *              same store wrote 2.3× faster in that second)
 *
 * Writes `<out>/scale.json` and `<out>/scale.md`; prints the markdown.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { open } from 'lmdb'
import { createRuntime, type Repo } from '../lib/index.ts'
import { buildReport, formatNumber, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { benchDirs } from './lib/dirs.ts'
import { parseBenchArgs } from './lib/params.ts'
import { LatencyRecorder, ratePerSecond, summarize } from './lib/stats.ts'
import { issuesParams } from './issues/params.ts'
import { runRawEventPuts, WRITER_RESULTS } from './issues/writers.ts'
import { generateBoard } from './scale/generate.ts'
import { compiledOpen, type CompiledOpen } from './scale/compiled-open.ts'
import { isSealed } from '../lib/kernel/store/seal.ts'

const SCHEMA = 'cairn-bench-scale/1'
const PAGE = 50
const CALLS = 30
const WRITERS = 50
const WRITE_MS = 2000
const FIRST_WRITE_MS = 1000
const COMPILED_RUNS = 3

interface Row {
  issues: number; events: number; bytes: number; generateRate: number; openMs: number; reopenMs: number; rawOpenMs: number
  page: number; deepPage: number; rawPage: number; ready: number; topoMs: number; topoCount: number; writeRate: number; writeP99: number; firstWriteRate: number
  claimFirstMs: number; claimNext: number; compiled: CompiledOpen
}

async function timed(calls: number, once: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 3; i++) await once()
  const rec = new LatencyRecorder(calls)
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now()
    await once()
    rec.record(performance.now() - t0)
  }
  const s = summarize(rec.samples())
  return { p50: s.p50, p99: s.p99 }
}

function rawPage(storeDir: string): { p50: number; openMs: number } {
  const t0 = performance.now()
  const env = open({ path: storeDir, maxDbs: 32, compression: false, cache: false, overlappingSync: false })
  const issues = env.openDB({ name: 'issues', useRecords: false } as never)
  let n = 0
  for (const _ of issues.getRange({ limit: 1 })) n++
  const openMs = performance.now() - t0
  const samples: number[] = []
  for (let i = 0; i < CALLS + 3; i++) {
    const s0 = performance.now()
    const out: unknown[] = []
    for (const { value } of issues.getRange({ limit: PAGE })) out.push(value)
    if (i >= 3) samples.push(performance.now() - s0)
    n += out.length
  }
  void env.close()
  return { p50: summarize(samples).p50, openMs }
}

/** Comments from every writer for `ms`, each on the next issue of a stride through the board (7919 is prime: every issue in turn). */
async function writeRate(repo: Repo[], ids: string[], next: { k: number }, ms: number): Promise<{ rate: number; p99: number }> {
  const rec = new LatencyRecorder(65_536)
  let events = 0
  const start = performance.now()
  const deadline = start + ms
  await Promise.all(repo.map(async (r) => {
    for (let c = 0; c < 1_000_000 && performance.now() < deadline; c++) {
      const t0 = performance.now()
      await r.issues.comment(ids[(next.k++ * 7919) % ids.length] as string, 'a durable comment on a big board')
      rec.record(performance.now() - t0)
      events++
    }
  }))
  return { rate: ratePerSecond(events, performance.now() - start), p99: summarize(rec.samples()).p99 }
}

async function measureSize(n: number, dirs: ReturnType<typeof benchDirs>, log: (m: string) => void): Promise<Row> {
  const path = dirs.repo(`scale-${n}`)
  const rt0 = await createRuntime({ home: dirs.home(`gen-${n}`), threads: 2 })
  const actor = (await rt0.repo(path, { agent: 'generator' })).actor
  await rt0.stop()
  const gen = await generateBoard(path, actor, { issues: n, eventsPerIssue: 10, commentChars: 120 })
  log(`${n} issues: generated ${gen.events} events in ${(gen.ms / 1000).toFixed(1)} s`)
  const storeDir = join(path, '.git', 'cairn')
  const bytes = statSync(join(storeDir, 'data.mdb')).size
  const raw = rawPage(storeDir)
  const t0 = performance.now()
  // The watchdog judges threads from the main thread, and topo over a big board (answered
  // on the main thread) stalls it past the default 5 s under load: the watchdog then takes
  // its own stall for a silent worker and terminates it (seen at 100k issues). A generous
  // timeout keeps that false kill out of the measurement.
  const rt = await createRuntime({ home: dirs.home(`serve-${n}`), threads: 2, watchdog: { timeoutMs: 120_000 } })
  let row: Omit<Row, 'reopenMs' | 'claimFirstMs' | 'claimNext' | 'compiled'>
  try {
    const repo = await rt.repo(path, { agent: 'reader' })
    const first = await repo.issues.list({ state: 'open', limit: PAGE })
    const openMs = performance.now() - t0
    const middle = (await repo.issues.list({ state: 'open', limit: 1, after: gen.ids[Math.floor(n / 2)] }))[0]?.id
    const page = await timed(CALLS, () => repo.issues.list({ state: 'open', limit: PAGE }))
    const deepPage = await timed(CALLS, () => repo.issues.list({ state: 'open', limit: PAGE, ...(middle ? { after: middle } : {}) }))
    const ready = await timed(CALLS, () => repo.issues.ready({ limit: PAGE }))
    let topoCount = 0
    const topo = await timed(3, async () => { topoCount = (await repo.issues.topo()).order.length })
    log(`${n} issues: open ${openMs.toFixed(0)} ms, page ${page.p50.toFixed(2)} ms (first page ${first.length}), ready ${ready.p50.toFixed(2)} ms, topo ${topo.p50.toFixed(0)} ms`)
    const writers = await Promise.all(Array.from({ length: WRITERS }, (_, i) => rt.repo(path, { agent: `w${i}` })))
    const next = { k: 0 }
    const firstSecond = await writeRate(writers, gen.ids, next, FIRST_WRITE_MS)
    const w = await writeRate(writers, gen.ids, next, WRITE_MS)
    log(`${n} issues: writes ${firstSecond.rate.toFixed(0)}/s in the first second, then ${w.rate.toFixed(0)}/s`)
    row = { issues: n, events: gen.events, bytes, generateRate: ratePerSecond(gen.events, gen.ms), openMs, rawOpenMs: raw.openMs,
      page: page.p50, deepPage: deepPage.p50, rawPage: raw.p50, ready: ready.p50, topoMs: topo.p50, topoCount, writeRate: w.rate, writeP99: w.p99, firstWriteRate: firstSecond.rate }
  } finally {
    await rt.stop()
  }
  // A restart, as a daemon's: the same home, the store as the clean stop left it.
  const sealed = isSealed(storeDir)
  const t1 = performance.now()
  const again = await createRuntime({ home: dirs.home(`serve-${n}`), threads: 2, watchdog: { timeoutMs: 120_000 } })
  let reopenMs: number
  let claimFirstMs: number
  let claimNext: { p50: number }
  try {
    const repo = await again.repo(path, { agent: 'claimer' })
    await repo.issues.list({ state: 'open', limit: PAGE })
    reopenMs = performance.now() - t1
    // The first claim of a session builds the writer's ready set over the whole board; later ones pick from it.
    const claim = () => repo.issues.claimNext({ ttlMs: 600_000, autoRenew: false })
    const c0 = performance.now()
    await claim()
    claimFirstMs = performance.now() - c0
    claimNext = await timed(CALLS, claim)
  } finally {
    await again.stop()
  }
  log(`${n} issues: reopen after a clean stop ${reopenMs.toFixed(0)} ms (sealed: ${sealed}), first claimNext ${claimFirstMs.toFixed(1)} ms, then ${claimNext.p50.toFixed(2)} ms`)
  const compiled = compiledOpen(path, dirs.home(`compiled-${n}`), COMPILED_RUNS)
  log(`${n} issues: compiled open ${compiled.openMs.toFixed(0)} ms (import ${compiled.importMs.toFixed(0)}), ${compiled.fromStartMs.toFixed(0)} ms from the process's start, idle RSS ${compiled.idleRssMiB} MiB`)
  return { ...row, reopenMs, claimFirstMs, claimNext: claimNext.p50, compiled }
}

const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n))

function resultsOf(r: Row, rawWrite: string): BenchResult[] {
  const s = k(r.issues)
  return [
    { name: `cairn.scale.generate.${s}`, group: 'scale', unit: 'events/s', value: r.generateRate, baseline: rawWrite, note: `${r.events} events through the RepoWorker's write path in the bench thread` },
    { name: `cairn.scale.store-size.${s}`, group: 'scale', unit: 'MiB', value: r.bytes / 2 ** 20, note: `${(r.bytes / r.events).toFixed(0)} bytes per event` },
    { name: `raw.scale.open.${s}`, group: 'scale', unit: 'ms', value: r.rawOpenMs, note: 'lmdb open + one read, this thread' },
    { name: `cairn.scale.open.${s}`, group: 'scale', unit: 'ms', value: r.openMs, baseline: `raw.scale.open.${s}`, note: 'createRuntime + rt.repo + first list page, 2 threads; the store file checked whole' },
    { name: `cairn.scale.reopen.${s}`, group: 'scale', unit: 'ms', value: r.reopenMs, baseline: `raw.scale.open.${s}`, note: 'the same after a clean stop (sealed store)' },
    { name: `cairn.scale.open-compiled.${s}`, group: 'scale', unit: 'ms', value: r.compiled.openMs, baseline: `raw.scale.open.${s}`, note: `import 'cairn' + createRuntime + rt.repo() in a fresh node process running the compiled package, sealed store, median of ${COMPILED_RUNS}; ${r.compiled.fromStartMs.toFixed(0)} ms from the process's start` },
    { name: `cairn.scale.idle-rss.${s}`, group: 'scale', unit: 'MiB', value: r.compiled.idleRssMiB, note: 'that process 2 s after the open, default threads' },
    { name: `raw.scale.page.${s}`, group: 'scale', unit: 'ms', value: r.rawPage, p50: r.rawPage, note: `one getRange of ${PAGE} heads, decoded` },
    { name: `cairn.scale.list-page.${s}`, group: 'scale', unit: 'ms', value: r.page, p50: r.page, baseline: `raw.scale.page.${s}`, note: `issues.list({ state: 'open', limit: ${PAGE} }) p50 of ${CALLS}` },
    { name: `cairn.scale.list-deep-page.${s}`, group: 'scale', unit: 'ms', value: r.deepPage, p50: r.deepPage, baseline: `raw.scale.page.${s}`, note: 'the same from the middle of the board (after)' },
    { name: `cairn.scale.ready-page.${s}`, group: 'scale', unit: 'ms', value: r.ready, p50: r.ready, baseline: `raw.scale.page.${s}`, note: `issues.ready({ limit: ${PAGE} })` },
    { name: `cairn.scale.topo.${s}`, group: 'scale', unit: 'ms', value: r.topoMs, note: `issues.topo(): ${r.topoCount} open issues in order, ${(r.topoMs * 1000 / Math.max(1, r.topoCount)).toFixed(1)} µs each` },
    { name: `cairn.scale.claim-first.${s}`, group: 'scale', unit: 'ms', value: r.claimFirstMs, note: 'the first issues.claimNext() after a restart: it builds the ready set over the board' },
    { name: `cairn.scale.claim-next.${s}`, group: 'scale', unit: 'ms', value: r.claimNext, p50: r.claimNext, note: `the claims after it, p50 of ${CALLS}` },
    { name: `cairn.scale.write-first.${s}`, group: 'scale', unit: 'events/s', value: r.firstWriteRate, baseline: rawWrite, note: `durable comments, ${WRITERS} writers, the first ${FIRST_WRITE_MS} ms after the open` },
    { name: `cairn.scale.write.${s}`, group: 'scale', unit: 'events/s', value: r.writeRate, baseline: rawWrite, note: `durable comments, ${WRITERS} writers, ${WRITE_MS} ms after that; p99 ${r.writeP99.toFixed(1)} ms` },
  ]
}

/** The scaling table: each cost per size, and how much it grew against how much the board grew. */
function scalingTable(rows: Row[]): string[] {
  const out = ['', '### Scaling', '', '| issues | events | store MiB | B/event | generate ev/s | open ms (reopen) | compiled open ms (RSS MiB) | list page ms | deep page ms | ready page ms | topo ms (µs/issue) | first claim ms (then) | write ev/s first second | write ev/s (p99 ms) |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  for (const r of rows) {
    out.push(`| ${formatNumber(r.issues)} | ${formatNumber(r.events)} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${(r.bytes / r.events).toFixed(0)} | ${formatNumber(r.generateRate)} | ${r.openMs.toFixed(0)} (${r.reopenMs.toFixed(0)}) | ${r.compiled.openMs.toFixed(0)} (${r.compiled.idleRssMiB}) | ` +
      `${r.page.toFixed(2)} | ${r.deepPage.toFixed(2)} | ${r.ready.toFixed(2)} | ${r.topoMs.toFixed(0)} (${(r.topoMs * 1000 / Math.max(1, r.topoCount)).toFixed(1)}) | ${r.claimFirstMs.toFixed(0)} (${r.claimNext.toFixed(2)}) | ${formatNumber(r.firstWriteRate)} | ${formatNumber(r.writeRate)} (${r.writeP99.toFixed(0)}) |`)
  }
  out.push('', 'Growth from one size to the next (board ×10; a page\'s work is constant, topo\'s and the store\'s grow with the board):', '')
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1] as Row
    const b = rows[i] as Row
    const g = (x: number, y: number) => `${(y / x).toFixed(2)}×`
    out.push(`- ${k(a.issues)} → ${k(b.issues)}: list page ${g(a.page, b.page)}, deep page ${g(a.deepPage, b.deepPage)}, ready page ${g(a.ready, b.ready)}, ` +
      `topo per issue ${g(a.topoMs / a.topoCount, b.topoMs / b.topoCount)}, open ${g(a.openMs, b.openMs)}, reopen ${g(a.reopenMs, b.reopenMs)}, compiled open ${g(a.compiled.openMs, b.compiled.openMs)}, first claim ${g(a.claimFirstMs, b.claimFirstMs)}, bytes per event ${g(a.bytes / a.events, b.bytes / b.events)}, write rate ${g(a.writeRate, b.writeRate)} (first second ${g(a.firstWriteRate, b.firstWriteRate)})`)
  }
  return out
}

async function main(): Promise<void> {
  const { outDir, quick } = parseBenchArgs(process.argv.slice(2))
  const sizes = quick ? [1000, 10_000] : [1000, 10_000, 100_000]
  const log = (m: string) => process.stderr.write(`bench:scale: ${m}\n`)
  const startedAt = new Date().toISOString()
  const dirs = benchDirs('cairn-bench-scale-')
  const rows: Row[] = []
  const results: BenchResult[] = []
  try {
    const raw = await runRawEventPuts(issuesParams(true))
    results.push(...raw)
    for (const n of sizes) {
      const row = await measureSize(n, dirs, log)
      rows.push(row)
      results.push(...resultsOf(row, WRITER_RESULTS.rawRate))
    }
  } finally {
    dirs.cleanup()
  }
  const report = buildReport({ machine: machineInfo(), startedAt, params: { quick, sizes: sizes.join('/'), page: PAGE, calls: CALLS, writers: WRITERS, writeMs: WRITE_MS, firstWriteMs: FIRST_WRITE_MS }, results, schema: SCHEMA })
  const { jsonPath, markdown } = await writeReport(outDir, report, { name: 'scale', title: 'Cairn scaling benchmark', footer: scalingTable(rows) })
  process.stdout.write(markdown)
  log(`wrote ${jsonPath}`)
  setTimeout(() => { log('still running 5 s after the report'); process.exit(3) }, 5000).unref()
}

main().catch((err: unknown) => {
  console.error('bench:scale failed:', err)
  process.exitCode = 1
})
