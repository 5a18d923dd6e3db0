/**
 * `tsx bench/daemon.ts [--out DIR] [--quick]`: the daemon over its Unix
 * socket, next to a raw Node Unix-socket echo server measured in the same
 * run with the same framing, codec and client load.
 *
 * 1. raw echo        50 clients, closed loop, framed msgpack echo (no runtime)
 * 2. issue show      50 clients, closed loop, `issues.show` on the daemon;
 *                    1 and 2 alternate for `rounds` rounds, medians reported
 * 3. comment         50 clients, closed loop, durable `issues.comment` (acked),
 *                    next to raw LMDB group-committing the same records
 *                    (baselines/lmdb-grouped.ts); the two alternate for 3
 *                    rounds, medians reported
 * 4. CLI invocation  `cairn issue show` wall time with a running daemon,
 *                    embedded (--no-daemon), and cold (auto-starting one)
 *
 * Writes `<out>/daemon.json` (schema `cairn-bench-daemon/1`: the document of
 * bench/lib/report.ts plus `goals`) and `<out>/daemon.md`; prints the
 * markdown. Everything lives under one temp dir, removed at the end.
 */
import { execFileSync, fork } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { connect as netConnect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { checkGoals, renderGoals, type Goal } from './lib/goals.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { benchDirs } from './lib/dirs.ts'
import { closedLoop, type LoadResult } from './daemon/load.ts'
import { timeCli, timeNode } from './daemon/cli-timing.ts'
import { measureGroupedComments } from './baselines/lmdb-grouped.ts'
import { connect, type DaemonClient } from '../lib/daemon/client.ts'
import { cairnCommand, connectOrSpawn } from '../lib/daemon/spawn.ts'
import { decode, encodeFramed } from '../protocol/codec.ts'
import { FrameDecoder } from '../protocol/framing.ts'
import { stopChild } from './lib/child.ts'


const SCHEMA = 'cairn-bench-daemon/1'
const GOALS: Goal[] = [
  { result: 'cairn.daemon.issue-show', op: '>=', target: 20_000, context: '50 clients over the socket' },
  { result: 'cairn.daemon.issue-show.vs-echo', op: '>=', target: 50, context: 'read throughput as % of the raw echo' },
  { result: 'cairn.daemon.comment', op: '>=', target: 10_000, context: 'durable writes acknowledged, 50 clients' },
]

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'bench-out' }, quick: { type: 'boolean', default: false } } })
  const quick = values.quick === true
  const params = { clients: 50, warmupMs: quick ? 300 : 1000, durationMs: quick ? 1500 : 3000, rounds: quick ? 3 : 5, writeRounds: 3, cliRuns: quick ? 5 : 15, quick }
  const startedAt = new Date().toISOString()
  const results: BenchResult[] = []
  const log = (m: string) => process.stderr.write(`bench:daemon: ${m}\n`)
  const dirs = benchDirs('cairn-bench-daemon-')
  const home = join(dirs.root, 'home')
  const repo = join(dirs.root, 'repo')
  execFileSync('git', ['init', '-q', repo])
  const push = (name: string, r: LoadResult, unit: string, baseline?: string, latencyBaseline = baseline && `${baseline}.latency`, notePrefix = '') => {
    results.push({ name, group: 'socket', unit, value: r.rate, ...(baseline ? { baseline } : {}), note: `${notePrefix}${r.completed} requests, ${r.errors} errors` })
    results.push({ name: `${name}.latency`, group: 'latency', unit: 'ms', value: r.latencyMs.p50, p50: r.latencyMs.p50, p99: r.latencyMs.p99, ...(latencyBaseline ? { baseline: latencyBaseline } : {}) })
  }
  const clients: DaemonClient[] = []
  try {
    log('raw Unix-socket echo server and the daemon, 50 clients each')
    const echoPath = join(dirs.root, 'echo.sock')
    const echo = fork(fileURLToPath(new URL('./baselines/unix-socket-echo-server.ts', import.meta.url)), [echoPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    await once(echo, 'message')
    const raw = await Promise.all(Array.from({ length: params.clients }, () => rawClient(echoPath)))
    const { client: first } = await connectOrSpawn(home, { flags: ['--idle-timeout', '0'] })
    clients.push(first)
    const issue = await first.request<{ id: string }>('issues.create', { repo, args: { title: 'bench' } })
    for (let i = 1; i < params.clients; i++) clients.push(await connect(home))

    // Alternating rounds, median of each: on a shared machine one round of
    // either can land in a noisy second; the ratio is of medians.
    const echoRuns: LoadResult[] = []
    const showRuns: LoadResult[] = []
    for (let round = 0; round < params.rounds; round++) {
      log(`round ${round + 1}/${params.rounds}: echo, then issues.show`)
      echoRuns.push(await closedLoop(params.clients, params.warmupMs, params.durationMs, (c, i) => raw[c]!.request('echo', { repo, args: { id: String(i) } })))
      showRuns.push(await closedLoop(params.clients, params.warmupMs, params.durationMs, (c) => clients[c]!.request('issues.show', { repo, args: { id: issue.id } })))
    }
    for (const r of raw) r.close()
    await stopChild(echo, 2000)
    const echoResult = median(echoRuns)
    const show = median(showRuns)
    push('raw.socket.echo.50', echoResult, 'req/s')
    push('cairn.daemon.issue-show', show, 'req/s', 'raw.socket.echo.50')
    results.push({ name: 'cairn.daemon.issue-show.vs-echo', group: 'socket', unit: '%', value: (100 * show.rate) / echoResult.rate, better: 'higher',
      note: `medians of ${params.rounds} alternating rounds; per round ${echoRuns.map((e, k) => `${Math.round((100 * showRuns[k]!.rate) / e.rate)}%`).join(', ')}` })

    // Alternating rounds too: one 3-second phase of durable writes swings by
    // ±10% with the disk and the neighbours; medians, every round in the note.
    const targets = await Promise.all(Array.from({ length: params.clients }, (_, c) => first.request<{ id: string }>('issues.create', { repo, args: { title: `target ${c}` } })))
    const groupedRuns: Awaited<ReturnType<typeof measureGroupedComments>>[] = []
    const commentRuns: LoadResult[] = []
    for (let round = 0; round < params.writeRounds; round++) {
      log(`write round ${round + 1}/${params.writeRounds}: raw LMDB group commit of comment-shaped records, then issues.comment (durable), 50 each`)
      // Each phase starts with nothing of the other's left to write back: on
      // ext4 a sync waits for the journal, which waits for other files' data.
      execFileSync('sync')
      groupedRuns.push(await measureGroupedComments({ writers: params.clients, warmupMs: params.warmupMs, durationMs: params.durationMs, parentDir: dirs.root }))
      execFileSync('sync')
      commentRuns.push(await closedLoop(params.clients, params.warmupMs, params.durationMs, (c, i) => clients[c]!.request('issues.comment', { repo, args: { id: targets[c]!.id, body: `comment ${i}` } })))
    }
    const grouped = median(groupedRuns)
    results.push({ name: 'raw.lmdb.grouped-comment.50', group: 'socket', unit: 'acked/s', value: grouped.rate,
      note: `median of ${params.writeRounds} rounds (${groupedRuns.map((g) => Math.round(g.rate)).join(', ')}); ${grouped.completed} writes, ${grouped.recordsPerWrite} records each + 1 checkpoint per batch, ${(grouped.completed / Math.max(1, grouped.batches)).toFixed(1)} writes per batch (one per event-loop turn)` })
    push('cairn.daemon.comment', median(commentRuns), 'acked/s', 'raw.lmdb.grouped-comment.50', '',
      `median of ${params.writeRounds} rounds alternating with the raw baseline (${commentRuns.map((r) => Math.round(r.rate)).join(', ')}); `)

    log('CLI invocation times')
    const env = { ...process.env, CAIRN_HOME: home }
    const warm = timeCli(['issue', 'show', issue.id], params.cliRuns, env, repo)
    const floor = timeNode(['-e', '0'], params.cliRuns, env, repo)
    results.push({ name: 'node.start', group: 'cli', unit: 'ms', value: floor.p50, p50: floor.p50, p99: floor.p99, note: '`node -e 0`: the floor of any invocation' })
    results.push({ name: 'cli.issue-show.daemon', group: 'cli', unit: 'ms', value: warm.p50, p50: warm.p50, p99: warm.p99, baseline: 'node.start', note: 'the compiled bin (dist/)' })
    for (const c of clients) c.close()
    clients.length = 0
    stopDaemon(home)
    const embedded = timeCli(['issue', 'show', issue.id, '--no-daemon'], Math.ceil(params.cliRuns / 2), env, repo)
    results.push({ name: 'cli.issue-show.embedded', group: 'cli', unit: 'ms', value: embedded.p50, p50: embedded.p50, p99: embedded.p99, baseline: 'cli.issue-show.daemon' })
    const cold = timeCli(['issue', 'show', issue.id], 3, env, repo, () => stopDaemon(home))
    stopDaemon(home)
    results.push({ name: 'cli.issue-show.cold-start', group: 'cli', unit: 'ms', value: cold.p50, p50: cold.p50, p99: cold.p99, note: 'first call: auto-starts the daemon' })
  } finally {
    for (const c of clients) c.close()
    try { stopDaemon(home) } catch { /* not running */ }
    dirs.cleanup()
  }
  const goals = checkGoals(GOALS, results)
  const report = { ...buildReport({ machine: machineInfo(), startedAt, params, results, schema: SCHEMA }), goals }
  const { markdown, jsonPath } = await writeReport(values.out!, report, { name: 'daemon', title: 'Cairn daemon benchmark', footer: renderGoals(goals) })
  process.stdout.write(markdown)
  log(`wrote ${jsonPath}`)
}

/** `cairn daemon stop` for `home`, as a user would run it. */
function stopDaemon(home: string): void {
  execFileSync(process.execPath, [...cairnCommand(), 'daemon', 'stop'], { env: { ...process.env, CAIRN_HOME: home } })
}

/** The run with the median rate (an odd count gives a real run, with its own latencies). */
function median<T extends { rate: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.rate - b.rate)[runs.length >> 1]!
}

/** A client for the echo server: same framing, codec and pipelining as the daemon client, no hello. */
async function rawClient(path: string) {
  const sock = netConnect(path)
  await once(sock, 'connect')
  sock.setNoDelay(true)
  const dec = new FrameDecoder()
  const pending = new Map<number, (v: unknown) => void>()
  let id = 1
  sock.on('data', (chunk: Buffer) => { for (const f of dec.push(chunk)) { const e = decode(f); pending.get(e.corr!)?.(e.body); pending.delete(e.corr!) } })
  return {
    request: (type: string, body: unknown) => new Promise((resolve) => {
      const n = id++
      pending.set(n, resolve)
      sock.write(encodeFramed({ v: 1, id: n, type, from: 'bench', to: 'echo', body }))
    }),
    close: () => sock.destroy(),
  }
}

main().then(() => setTimeout(() => process.exit(0), 2000).unref(), (err: unknown) => {
  process.stderr.write(`bench:daemon: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
