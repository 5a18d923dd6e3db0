/**
 * `tsx bench/ui.ts [--out DIR] [--quick]`: what the live board costs. A real
 * daemon (its own process) serves a demo repository of 200 issues while the
 * board demo's agents (lib/cli/demo/board-agent.ts, 10 agents) work it through the
 * daemon's socket, as `cairn demo --board` does:
 *
 * 1. daemon CPU, page vs no page: rounds alternate the same agent load with
 *    and without a board page open in headless Chromium (live updates
 *    streaming); the daemon's CPU time (from /proc) over a fixed window,
 *    medians of the rounds; once at the demo's pace (a step a second per
 *    agent) and once with the agents back to back (pace 0, a busy board);
 * 2. page load: a cold page (new context, no cookie or cache) from the URL
 *    with the token until the 200-issue board is drawn, median of runs,
 *    next to the same page on an empty board in the same run;
 * 3. screenshots of every view while the agents work the fresh board
 *    (taken first, before the rounds use the backlog up).
 *
 * Writes `<out>/ui.json` (schema `cairn-bench-ui/1`, bench/lib/report.ts),
 * `<out>/ui.md` and `<out>/ui-*.png`; prints the markdown.
 */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connect, type DaemonClient } from '../lib/daemon/client.ts'
import type { BoardInfo } from '../lib/daemon/board-host.ts'
import { serverUsage } from './harness/proc-usage.ts'
import { benchDirs } from './lib/dirs.ts'
import { stopChild } from './lib/child.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { launch, openBoard, screenshots } from './ui/page.ts'
import { newStats, runAgent } from '../lib/cli/demo/board-agent.ts'
import { caller, prng, seedBacklog, type Call } from '../lib/cli/demo/board-seed.ts'

const SCHEMA = 'cairn-bench-ui/1'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'bench-out' }, quick: { type: 'boolean', default: false } } })
  const quick = values.quick === true
  const params = { agents: 10, issues: 200, rounds: quick ? 2 : 3, windowMs: quick ? 6000 : 15_000, warmupMs: 3000, demoPaceMs: 1000, demoWarmMs: 20_000, loadRuns: quick ? 3 : 7, threads: 2, quick }
  const log = (m: string) => process.stderr.write(`bench:ui: ${m}\n`)
  const startedAt = new Date().toISOString()
  const loadAtStart = Number(loadavg()[0]!.toFixed(1))
  const results: BenchResult[] = []
  const dirs = benchDirs('cairn-bench-ui-')
  const home = dirs.home('daemon')
  const daemon = fork(fileURLToPath(new URL('./harness/daemon-process.ts', import.meta.url)), [home, String(params.threads)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const [{ pid }] = (await once(daemon, 'message')) as [{ pid: number }]
  const browser = await launch()
  const clients: DaemonClient[] = []
  try {
    const client = await connect(home)
    clients.push(client)
    const empty = dirs.repo('empty-repo')
    const repo = dirs.repo('demo-repo')
    const call = caller(client, repo)
    const open = async (): Promise<number> => (await call<unknown[]>('issues.list', { state: 'open' }, 'planner')).length
    const rnd = prng(1)
    log(`seeding ${params.issues} issues`)
    await seedBacklog(call, params.issues, rnd, () => undefined)
    await client.request('ui.start', { repo: empty, args: { port: 0 } })
    const info = await client.request<BoardInfo>('ui.start', { repo, args: {} })
    const ids = Object.fromEntries(info.repos.map((r) => [r.path.endsWith('empty-repo/.git') ? 'empty' : 'demo', r.id]))
    const url = (id: string) => `${info.url}#/${id}/board`

    log('page load: a cold page until the board is drawn, empty board and 200 issues')
    const loads = { empty: [] as number[], demo: [] as number[], dcl: [] as number[] }
    for (let i = 0; i < params.loadRuns; i++) {
      // Alternating which goes first, so neither always pays for a cold browser.
      for (const which of i % 2 === 0 ? ['empty', 'demo'] as const : ['demo', 'empty'] as const) {
        const p = await openBoard(browser.browser, url(ids[which]!))
        loads[which].push(p.loadMs)
        if (which === 'demo') loads.dcl.push(p.domContentLoadedMs)
        await p.close()
      }
    }
    results.push({ name: 'ui.page-load.empty-board', group: 'page load', unit: 'ms', value: median(loads.empty), note: `median of ${params.loadRuns} cold loads (${loads.empty.map(Math.round).join(', ')})` })
    results.push({ name: 'ui.page-load.200-issues', group: 'page load', unit: 'ms', value: median(loads.demo), baseline: 'ui.page-load.empty-board',
      note: `URL with the token → board drawn; median of ${params.loadRuns} (${loads.demo.map(Math.round).join(', ')}); DOMContentLoaded at ${Math.round(median(loads.dcl))} ms` })

    log('screenshots of the fresh board, its 10 agents working')
    const stats = newStats()
    const stop = new AbortController()
    // As `cairn demo --board` runs them: the last agent stalls on its first claim, so a lapsing lease shows too.
    const agents = startAgents(await connect(home), repo, params.agents, params.demoPaceMs, stop.signal, stats, 99, clients, { n: 0 }, true)
    await sleep(params.demoWarmMs)
    const shotPage = await openBoard(browser.browser, url(ids.demo!))
    await sleep(2000)
    const claimed = await shotPage.page.$eval('[data-column="claimed"] .card', (el) => el.getAttribute('data-id')).catch(() => null)
    const files = await screenshots(shotPage.page, ids.demo!, values.out!, claimed)
    await shotPage.close()
    stop.abort()
    await agents
    log(`wrote ${files.length} screenshots`)

    for (const [label, paceMs] of [['demo', params.demoPaceMs], ['busy', 0]] as const) {
      const without: number[] = []
      const withPage: number[] = []
      const perKReq = { without: [] as number[], withPage: [] as number[] }
      const opsRate: number[] = []
      for (let round = 0; round < params.rounds; round++) {
        for (const page of [false, true]) {
          // Keep the backlog near its size: the agents close issues each round.
          const missing = params.issues - await open()
          if (missing > 0) await seedBacklog(call, missing, rnd, () => undefined)
          log(`${label} load (pace ${paceMs} ms), round ${round + 1}/${params.rounds}, ${page ? 'with' : 'without'} the page`)
          const r = await measureRound(home, repo, params, paceMs, page ? () => openBoard(browser.browser, url(ids.demo!)) : null, pid, round)
          ;(page ? withPage : without).push(r.cpuPerSec)
          ;(page ? perKReq.withPage : perKReq.without).push((1000 * r.cpuPerSec) / Math.max(1, r.opsPerSec))
          opsRate.push(r.opsPerSec)
        }
      }
      const base = `ui.daemon-cpu.${label}`
      results.push({ name: `${base}.no-page`, group: 'daemon CPU', unit: 'ms/s', value: median(without), better: 'lower',
        note: `daemon CPU ms per second under ${params.agents} demo agents (pace ${paceMs} ms, ~${Math.round(median(opsRate))} requests/s); rounds ${without.map((x) => x.toFixed(0)).join(', ')}` })
      results.push({ name: `${base}.page`, group: 'daemon CPU', unit: 'ms/s', value: median(withPage), better: 'lower', baseline: `${base}.no-page`,
        note: `same load with a live board page open; rounds ${withPage.map((x) => x.toFixed(0)).join(', ')}; the page's cost: ${(median(withPage) - median(without)).toFixed(1)} ms/s` })
      // Per request served: on a shared machine the agents' request rate moves with the neighbours, and the daemon's CPU with it.
      results.push({ name: `${base}.no-page.per-1k-requests`, group: 'daemon CPU', unit: 'ms', value: median(perKReq.without), better: 'lower',
        note: `daemon CPU ms per 1000 agent requests; rounds ${perKReq.without.map((x) => x.toFixed(0)).join(', ')}` })
      results.push({ name: `${base}.page.per-1k-requests`, group: 'daemon CPU', unit: 'ms', value: median(perKReq.withPage), better: 'lower', baseline: `${base}.no-page.per-1k-requests`,
        note: `with the page; rounds ${perKReq.withPage.map((x) => x.toFixed(0)).join(', ')}` })
    }

  } finally {
    for (const c of clients) c.close()
    await browser.close()
    await stopChild(daemon, 10_000)
    dirs.cleanup()
  }
  // The machine's load tells how much of the spread is the neighbours'.
  const report = buildReport({ machine: machineInfo(), startedAt, params: { ...params, loadAvgAtStart: loadAtStart, loadAvgAtEnd: Number(loadavg()[0]!.toFixed(1)) }, results, schema: SCHEMA })
  const { markdown, jsonPath } = await writeReport(values.out!, report, { name: 'ui', title: 'Cairn board (cairn ui) benchmark' })
  process.stdout.write(markdown)
  log(`wrote ${jsonPath}`)
}

/** The demo's agents on their own connection, counting requests. */
function startAgents(client: DaemonClient, repo: string, n: number, paceMs: number, signal: AbortSignal, stats: ReturnType<typeof newStats>, seed: number, keep: DaemonClient[], counter = { n: 0 }, stallLast = false): Promise<void> {
  keep.push(client)
  const inner = caller(client, repo)
  const call: Call = (method, args, agent) => { counter.n++; return inner(method, args, agent) }
  return Promise.all(Array.from({ length: n }, (_, i) => runAgent(call, `agent-${i + 1}`, {
    deadline: Date.now() + 3_600_000, paceMs, ttlMs: 20_000, rnd: prng(seed * 100 + i), signal, stats, stall: stallLast && i === n - 1,
  }))).then(() => undefined)
}

/** One round: the agents warm up, the page (if any) opens, then the daemon's CPU over the window. */
async function measureRound(home: string, repo: string, params: { agents: number; windowMs: number; warmupMs: number }, paceMs: number,
  page: (() => Promise<{ close(): Promise<void> }>) | null, pid: number, round: number): Promise<{ cpuPerSec: number; opsPerSec: number }> {
  const clients: DaemonClient[] = []
  const stop = new AbortController()
  const counter = { n: 0 }
  const agents = startAgents(await connect(home), repo, params.agents, paceMs, stop.signal, newStats(), round + 1, clients, counter)
  const opened = page ? await page() : null
  await sleep(params.warmupMs)
  const u0 = serverUsage(pid)
  const n0 = counter.n
  const t0 = performance.now()
  await sleep(params.windowMs)
  const u1 = serverUsage(pid)
  const seconds = (performance.now() - t0) / 1000
  const ops = counter.n - n0
  await opened?.close()
  stop.abort()
  await agents
  for (const c of clients) c.close()
  if (!u0 || !u1) throw new Error('cannot read the daemon\'s CPU time from /proc')
  return { cpuPerSec: (u1.cpuMs - u0.cpuMs) / seconds, opsPerSec: ops / seconds }
}

main().then(() => setTimeout(() => process.exit(0), 2000).unref(), (err: unknown) => {
  process.stderr.write(`bench:ui: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
