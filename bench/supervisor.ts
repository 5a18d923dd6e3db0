/**
 * `tsx bench/supervisor.ts [--out DIR] [--quick] [--repos N]`: what the
 * scriptable Supervisor costs and saves, each figure beside a baseline from
 * the same run.
 *
 * 1. memory   a fresh daemon (2 threads, nothing opened) and a daemon with
 *             `--idle-close` that opens N small repositories (one write
 *             each), then lets them idle out: its RSS after opening and after
 *             they closed, beside the fresh daemon's at the same moment
 * 2. reopen   a closed repository's first request (it opens again), beside a
 *             request to an open one; `runtime.close` of an open one
 * 3. move     20 writers on one issue over their own sockets; the longest gap
 *             between acknowledgements while the repository is moved between
 *             threads, beside the longest gap of an equal window without a
 *             move; then every acknowledged comment is checked present once
 *
 * Daemons are launched as `cairn` launches them (lib/daemon/spawn.ts, with its
 * environment). Writes `<out>/supervisor.json` (schema
 * `cairn-bench-supervisor/1`: the document of bench/lib/report.ts) and
 * `<out>/supervisor.md`; prints the markdown. Everything lives under one temp
 * dir, removed at the end.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { benchDirs } from './lib/dirs.ts'
import { connect, type DaemonClient } from '../lib/daemon/client.ts'
import { connectOrSpawn } from '../lib/daemon/spawn.ts'
import type { ActorInfo, HandOff } from '../lib/index.ts'

const SCHEMA = 'cairn-bench-supervisor/1'
const MiB = 2 ** 20
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const log = (m: string) => process.stderr.write(`bench:supervisor: ${m}\n`)

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 / MiB : NaN
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!
}

const round1 = (n: number) => Math.round(n * 10) / 10

/** Polls `check` every 250 ms, at most `ms`; false when it never held. */
async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await sleep(250)
  }
  return false
}

async function daemon(home: string, flags: string[]): Promise<{ client: DaemonClient; pid: number }> {
  const { client } = await connectOrSpawn(home, { flags: ['--idle-timeout', '0', '--threads', '2', ...flags], timeoutMs: 60_000 })
  const status = await client.request<{ pid: number }>('daemon.status', {})
  return { client, pid: status.pid }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    out: { type: 'string', default: 'bench-out' }, quick: { type: 'boolean', default: false }, repos: { type: 'string' },
  } })
  const quick = values.quick === true
  const params = { repos: Number(values.repos ?? (quick ? 50 : 200)), idleCloseSec: 3, samples: quick ? 10 : 20, writers: 20, moves: quick ? 3 : 6, windowMs: quick ? 1500 : 3000, quick }
  if (!Number.isSafeInteger(params.repos) || params.repos < 1 || params.repos > 2000) throw new Error('--repos must be an integer from 1 to 2000')
  const startedAt = new Date().toISOString()
  const results: BenchResult[] = []
  const dirs = benchDirs('cairn-bench-supervisor-')
  const clients: DaemonClient[] = []
  const homes: string[] = []
  try {
    log(`creating ${params.repos} repositories`)
    const repos = Array.from({ length: params.repos }, (_, i) => dirs.repo(`r${i}`))

    log('a fresh daemon, and one with --idle-close 3')
    homes.push(dirs.home('fresh'), dirs.home('main'))
    const fresh = await daemon(homes[0]!, [])
    const main = await daemon(homes[1]!, ['--idle-close', String(params.idleCloseSec)])
    clients.push(fresh.client, main.client)
    await sleep(1000)
    const atStart = { fresh: rssMiB(fresh.pid), main: rssMiB(main.pid) }

    log(`opening ${params.repos} repositories (one issue each, 8 at a time)`)
    const t0 = performance.now()
    const issues: string[] = []
    for (let i = 0; i < repos.length; i += 8) {
      const batch = await Promise.all(repos.slice(i, i + 8).map((repo) => main.client.request<{ id: string }>('issues.create', { repo, args: { title: 'x' } })))
      issues.push(...batch.map((b) => b.id))
    }
    const openMs = performance.now() - t0
    const opened = { fresh: rssMiB(fresh.pid), main: rssMiB(main.pid) }
    log(`opened in ${Math.round(openMs)} ms; RSS ${round1(opened.main)} MiB (fresh daemon ${round1(opened.fresh)})`)

    const closedAll = await until(async () => (await main.client.request<ActorInfo[]>('runtime.actors', {})).length === 0, 60_000)
    if (!closedAll) throw new Error('the repositories did not idle out within 60 s')
    // Threads with nothing left end after idleClose again (actors/supervisor/thread-slot.ts).
    await sleep((params.idleCloseSec + 2) * 1000)
    const idled = { fresh: rssMiB(fresh.pid), main: rssMiB(main.pid) }
    log(`idled out; RSS ${round1(idled.main)} MiB (fresh daemon ${round1(idled.fresh)})`)
    results.push(
      { name: 'daemon.rss.fresh', group: 'memory', unit: 'MiB', value: round1(idled.fresh), note: 'a daemon with 2 threads that opened nothing, measured beside the idled-out one' },
      { name: 'daemon.rss.opened', group: 'memory', unit: 'MiB', value: round1(opened.main), baseline: 'daemon.rss.fresh', note: `${params.repos} repositories open (fresh daemon then ${round1(opened.fresh)} MiB; this one at start ${round1(atStart.main)})` },
      { name: 'daemon.rss.idled-out', group: 'memory', unit: 'MiB', value: round1(idled.main), baseline: 'daemon.rss.fresh', note: `after all ${params.repos} closed (idle-close ${params.idleCloseSec} s) and their threads ended` },
      { name: 'daemon.open-rate', group: 'memory', unit: 'repos/s', value: round1(params.repos / (openMs / 1000)), note: 'first open and one durable write each, 8 at a time' },
    )

    log(`reopen and close, ${params.samples} samples each`)
    const reopen: number[] = []
    const warm: number[] = []
    const close: number[] = []
    const closeHeld: number[] = []
    for (let i = 0; i < params.samples; i++) {
      const repo = repos[i]!
      let t = performance.now()
      await main.client.request('issues.show', { repo, args: { id: issues[i] } })
      reopen.push(performance.now() - t)
      t = performance.now()
      await main.client.request('issues.show', { repo, args: { id: issues[i] } })
      warm.push(performance.now() - t)
      t = performance.now()
      const h = await main.client.request<HandOff>('runtime.close', { args: { path: repo } })
      close.push(performance.now() - t)
      closeHeld.push(h.ms)
    }
    results.push(
      { name: 'request.open-repo', group: 'reopen', unit: 'ms', value: round1(median(warm)), note: 'issues.show on an open repository (median)' },
      { name: 'request.reopen', group: 'reopen', unit: 'ms', value: round1(median(reopen)), p99: round1(Math.max(...reopen)), baseline: 'request.open-repo', note: 'issues.show on a closed repository: it opens again (median; p99 column: the slowest)' },
      { name: 'runtime.close', group: 'reopen', unit: 'ms', value: round1(median(close)), p99: round1(Math.max(...close)), note: `round trip of runtime.close (median); the hand-off held requests ${round1(median(closeHeld))} ms (median)` },
    )

    // On the daemon with the default idle policy (120 s): the other one's
    // threads end 3 s after their last repository closed, and a thread that
    // is not running has no id to move to.
    log(`move under ${params.writers} writers (on the daemon with the default idle policy)`)
    const repo = repos[params.repos - 1]!
    const issue = (await fresh.client.request<{ id: string }>('issues.create', { repo, args: { title: 'moved' } })).id
    await fresh.client.request('issues.create', { repo: repos[params.repos - 2]!, args: { title: 'the other thread' } })
    for (let i = 0; i < params.writers; i++) clients.push(await connect(homes[0]!))
    const writers = clients.slice(2)
    const acks: number[] = []
    const acked = new Set<string>()
    let failed = 0
    let stop = false
    const load = writers.map(async (c, w) => {
      for (let i = 0; !stop && i < 1_000_000; i++) {
        const body = `w${w}-${i}`
        // A retryable error is retried with the same opId: the daemon applies it once.
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            await c.request('issues.comment', { repo, args: { id: issue, body, opId: body } })
            acks.push(performance.now())
            acked.add(body)
            break
          } catch {
            failed++
            await sleep(20)
          }
        }
      }
    })
    await sleep(500)
    const gap = (from: number, to: number): number => {
      const inWindow = acks.filter((a) => a >= from && a <= to)
      let longest = 0
      for (let i = 1; i < inWindow.length; i++) longest = Math.max(longest, inWindow[i]! - inWindow[i - 1]!)
      return longest
    }
    const baseFrom = performance.now()
    await sleep(params.windowMs)
    const baseTo = performance.now()
    const baseAcks = acks.filter((a) => a >= baseFrom && a <= baseTo).length
    const moveHeld: number[] = []
    const moveFrom = performance.now()
    for (let m = 0; m < params.moves; m++) {
      const actors = await fresh.client.request<ActorInfo[]>('runtime.actors', {})
      const at = actors.find((a) => a.repo.startsWith(repo))?.thread
      const threads = (await fresh.client.request<{ threads: { threadId: number }[] }>('daemon.status', {})).threads.map((x) => x.threadId)
      const to = threads.find((x) => x !== at)
      if (to === undefined) throw new Error(`no other thread to move to (threads ${threads.join(', ')})`)
      const h = await fresh.client.request<HandOff>('runtime.move', { args: { path: repo, thread: to } })
      moveHeld.push(h.ms)
      await sleep(params.windowMs / params.moves)
    }
    const moveTo = performance.now()
    const moveAcks = acks.filter((a) => a >= moveFrom && a <= moveTo).length
    stop = true
    await Promise.all(load)
    const shown = await fresh.client.request<{ comments: { body: string }[] }>('issues.show', { repo, args: { id: issue } })
    const bodies = shown.comments.map((c) => c.body)
    const lost = [...acked].filter((b) => !bodies.includes(b)).length
    const duplicated = bodies.length - new Set(bodies).size
    log(`${acked.size} comments acknowledged, ${lost} lost, ${duplicated} duplicated, ${failed} retried`)
    results.push(
      { name: 'writes.longest-gap', group: 'move', unit: 'ms', value: round1(gap(baseFrom, baseTo)), note: `${params.writers} writers, ${params.windowMs} ms without a move: ${round1(baseAcks / (params.windowMs / 1000))} acks/s` },
      { name: 'move.longest-gap', group: 'move', unit: 'ms', value: round1(gap(moveFrom, moveTo)), baseline: 'writes.longest-gap', note: `${params.moves} moves in ${Math.round(moveTo - moveFrom)} ms: ${round1(moveAcks / ((moveTo - moveFrom) / 1000))} acks/s; hand-offs held requests ${moveHeld.join(', ')} ms` },
      { name: 'move.writes', group: 'move', unit: 'count', value: acked.size, note: `acknowledged; lost ${lost}, duplicated ${duplicated}, retried after an error ${failed}` },
    )
    if (lost > 0 || duplicated > 0) throw new Error(`move lost ${lost} and duplicated ${duplicated} acknowledged writes`)

    const report = buildReport({ machine: machineInfo(), startedAt, params, results, schema: SCHEMA })
    const { markdown } = await writeReport(values.out!, report, {
      name: 'supervisor', title: 'Cairn Supervisor benchmark: passivation, reopen, move',
      footer: [
        'A closed repository\'s first request opens it again; the slowest one also starts a thread (the idle policy ends a thread whose repositories all closed).',
        `RSS of the daemon that opened ${params.repos} repositories: ${round1(atStart.main)} MiB at start, ${round1(opened.main)} MiB open, ${round1(idled.main)} MiB idled out.`,
      ],
    })
    process.stdout.write(markdown)
  } finally {
    for (const c of clients) c.close()
    for (const home of homes) {
      const c = await connect(home).catch(() => null)
      await c?.request('daemon.stop', {}).catch(() => undefined)
      c?.close()
    }
    await sleep(500)
    dirs.cleanup()
  }
}

await main()
