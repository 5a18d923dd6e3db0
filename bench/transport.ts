/**
 * `npm run bench:transport`: Cairn's network transport against plain git
 * over a network with latency: `git daemon` on 127.0.0.1 behind the delay
 * proxy (test/helpers/delay-proxy.ts; 20 ms per direction by default), all
 * measured in the same run.
 *
 * Usage: tsx bench/transport.ts [--out DIR] [--quick] [--delay-ms N] [--scenario LIST]
 *                                [--interval-ms N] [--seconds N]
 *
 *   --scenario LIST   comma-separated: lease, sync, claims, visibility (default all; the raw baseline always runs)
 *   --interval-ms N   the visibility scenario's sync interval per host (default 3000, quick 1000)
 *   --seconds N       how long its writers run (default 60, quick 8)
 *
 *   raw.git.push.one-ref        plain `git push` of one new commit (a fast-forward) of one ref
 *   raw.git.fetch.one-ref       plain `git fetch` of that ref
 *   cairn.remote-lease.acquire  repo.locks.acquire(r, { scope: 'remote' }): read the tip, push a commit on it
 *   cairn.remote-lease.release  the matching release (one push)
 *   cairn.sync.one-event        repo.sync() after one new event: fetch, ingest nothing, push one ref
 *   cairn.claim.*               claims through a coordination remote, 3 hosts × agents (bench/transport/claims.ts)
 *   cairn.visibility.*, cairn.sync.steady*, cairn.write.*
 *                               3 hosts writing 50 writes/s each (comments, an issue every tenth) while syncing every interval:
 *                               ack → readable on another host, and sync/flush duration (bench/transport/visibility.ts)
 *
 * Each against the plain push of one ref, the round trip everything else
 * is made of; p50 and p99 over the samples. This is also the frame for the
 * cross-host claim scenario (issue 19: "claim p50 ≤ one push round trip +
 * 50 ms, beside a plain git push of one ref in the same run"): a scenario
 * added to SCENARIOS below gets the same remote, proxy and baseline.
 * Writes `<out>/transport.json` (schema `cairn-bench-transport/1`) and `transport.md`.
 */
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRuntime, type Repo } from '../lib/index.ts'
import { startGitDaemon } from '../test/helpers/git-daemon.ts'
import { startDelayProxy } from '../test/helpers/delay-proxy.ts'
import { benchDirs, type BenchDirs } from './lib/dirs.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { LatencyRecorder, summarize } from './lib/stats.ts'
import { claimScenario } from './transport/claims.ts'
import { visibilityScenario } from './transport/visibility.ts'

const SCHEMA = 'cairn-bench-transport/1'
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
const EXIT_GRACE_MS = 5000
const git = (args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
/** Asynchronous: the delay proxy runs in this process, so a git that talks through it must not block the event loop. */
const gitAsync = promisify(execFile)

/** What every scenario gets: the remote through the proxy, a fresh clone and runtime, the sample count. */
export interface TransportFixture {
  dirs: BenchDirs
  /** `git://127.0.0.1:<proxy port>/remote.git`. */
  url: string
  delayMs: number
  samples: number
  quick: boolean
  /** --interval-ms and --seconds, when given. */
  intervalMs?: number
  seconds?: number
  /** A handle on clone `name` with its own runtime home (one per name; `agent` adds an agent on it). */
  repo(name: string, agent?: string): Promise<Repo>
}

export type Scenario = (f: TransportFixture) => Promise<BenchResult[]>

function latency(name: string, rec: LatencyRecorder, note: string, baseline?: string): BenchResult {
  const s = summarize(rec.samples())
  return { name, group: 'transport', unit: 'ms', value: s.p50, p50: s.p50, p99: s.p99, ...(baseline ? { baseline } : {}),
    note: `${note}; n=${s.count} p95=${s.p95.toFixed(1)} max=${s.max.toFixed(1)} ms` }
}

/** The baseline: plain git pushing (and fetching) one ref, one new commit each time; commits made beforehand, untimed. */
const rawGit: Scenario = async (f) => {
  const clone = f.dirs.repo('raw')
  const commits: string[] = []
  for (let i = 0, parent: string | null = null; i < f.samples; i++) {
    parent = git(['-C', clone, '-c', 'user.name=bench', '-c', 'user.email=bench@x', 'commit-tree', EMPTY_TREE, ...(parent ? ['-p', parent] : []), '-m', `raw ${i}`])
    commits.push(parent)
  }
  const push = new LatencyRecorder(f.samples)
  const fetch = new LatencyRecorder(f.samples)
  const reader = f.dirs.repo('raw-reader')
  for (const c of commits) {
    let t0 = performance.now()
    await gitAsync('git', ['-C', clone, 'push', '-q', f.url, `${c}:refs/bench/raw`])
    push.record(performance.now() - t0)
    t0 = performance.now()
    await gitAsync('git', ['-C', reader, 'fetch', '-q', f.url, '+refs/bench/raw:refs/bench/raw'])
    fetch.record(performance.now() - t0)
  }
  return [
    latency('raw.git.push.one-ref', push, `git push of one new commit (fast-forward) through the ${f.delayMs} ms/direction proxy`),
    latency('raw.git.fetch.one-ref', fetch, 'git fetch of that ref into another clone', 'raw.git.push.one-ref'),
  ]
}

const remoteLease: Scenario = async (f) => {
  const repo = await f.repo('lease')
  const acquire = new LatencyRecorder(f.samples)
  const release = new LatencyRecorder(f.samples)
  await (await repo.locks.acquire('path:bench/warm', { ttlMs: 60_000, autoRenew: false, scope: 'remote', remote: f.url })).release()
  for (let i = 0; i < f.samples; i++) {
    let t0 = performance.now()
    const lease = await repo.locks.acquire('path:bench/transport', { ttlMs: 60_000, autoRenew: false, scope: 'remote', remote: f.url })
    acquire.record(performance.now() - t0)
    t0 = performance.now()
    await lease.release()
    release.record(performance.now() - t0)
  }
  return [
    latency('cairn.remote-lease.acquire', acquire, 'acquire: one fetch of the lease ref, one push of a commit on its tip (compare-and-swap)', 'raw.git.push.one-ref'),
    latency('cairn.remote-lease.release', release, 'release: one push', 'raw.git.push.one-ref'),
  ]
}

const syncOneEvent: Scenario = async (f) => {
  const repo = await f.repo('sync')
  const sync = new LatencyRecorder(f.samples)
  await repo.sync({ remote: f.url })
  for (let i = 0; i < f.samples; i++) {
    await repo.issues.create({ title: `transport ${i}` })
    const t0 = performance.now()
    await repo.sync({ remote: f.url })
    sync.record(performance.now() - t0)
  }
  return [latency('cairn.sync.one-event', sync, 'repo.sync() after one new event: WAL flush, fetch (nothing new), push of one ref', 'raw.git.push.one-ref')]
}

const claims: Scenario = (f) => claimScenario({
  url: f.url, delayMs: f.delayMs, quick: f.quick, remoteDir: join(f.dirs.root, 'remote.git'),
  repo: (host, agent) => f.repo(host, agent),
})

const visibility: Scenario = (f) => visibilityScenario({
  url: f.url, quick: f.quick, intervalMs: f.intervalMs, seconds: f.seconds, repo: (host, agent) => f.repo(host, agent),
})

/** Scenarios in run order, by --scenario name; the raw baseline runs first, always. */
export const SCENARIOS: Record<string, Scenario> = { lease: remoteLease, sync: syncOneEvent, claims, visibility }

const positiveInt = (flag: string, v: string | undefined, max: number): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`--${flag} must be an integer in 1..${max}`)
  return n
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    out: { type: 'string', default: 'bench-out' }, quick: { type: 'boolean', default: false }, 'delay-ms': { type: 'string', default: '20' },
    scenario: { type: 'string', default: 'all' }, 'interval-ms': { type: 'string' }, seconds: { type: 'string' },
  } })
  const delayMs = Number(values['delay-ms'])
  if (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > 1000) throw new Error('--delay-ms must be an integer in 0..1000')
  const chosen = values.scenario === 'all' ? Object.keys(SCENARIOS) : values.scenario!.split(',')
  for (const name of chosen) if (!(name in SCENARIOS)) throw new Error(`--scenario: unknown ${name} (known: ${Object.keys(SCENARIOS).join(', ')})`)
  const intervalMs = positiveInt('interval-ms', values['interval-ms'], 600_000)
  const seconds = positiveInt('seconds', values.seconds, 3_600)
  const samples = values.quick ? 10 : 40
  const startedAt = new Date().toISOString()
  const log = (m: string): void => { process.stderr.write(`bench:transport: ${m}\n`) }
  const dirs = benchDirs('cairn-bench-transport-')
  git(['init', '-q', '--bare', join(dirs.root, 'remote.git')])
  const daemon = await startGitDaemon(dirs.root)
  const proxy = await startDelayProxy({ port: daemon.port, delayMs })
  const runtimes: { stop(): Promise<void> }[] = []
  const hosts = new Map<string, { rt: Awaited<ReturnType<typeof createRuntime>>; clone: string }>()
  const results: BenchResult[] = []
  try {
    const fixture: TransportFixture = {
      dirs, url: `git://127.0.0.1:${proxy.port}/remote.git`, delayMs, samples, quick: values.quick!, intervalMs, seconds,
      repo: async (name, agent) => {
        let host = hosts.get(name)
        if (!host) {
          host = { rt: await createRuntime({ threads: 1, home: dirs.home(name) }), clone: dirs.repo(`clone-${name}`) }
          runtimes.push(host.rt)
          hosts.set(name, host)
        }
        return host.rt.repo(host.clone, { agent: agent ?? name })
      },
    }
    for (const scenario of [rawGit, ...chosen.map((name) => SCENARIOS[name]!)]) {
      const r = await scenario(fixture)
      for (const x of r) log(`${x.name}: p50 ${x.p50?.toFixed(1)} ms, p99 ${x.p99?.toFixed(1)} ms`)
      results.push(...r)
    }
  } finally {
    await Promise.all(runtimes.map((rt) => rt.stop()))
    await proxy.stop()
    await daemon.stop()
    dirs.cleanup()
  }
  const report = buildReport({ machine: machineInfo(), startedAt, params: { delayMs, samples, scenarios: chosen.join(','), connections: proxy.connections(), ...(intervalMs ? { intervalMs } : {}), ...(seconds ? { seconds } : {}) }, results, schema: SCHEMA })
  const { jsonPath, mdPath, markdown } = await writeReport(values.out!, report, { name: 'transport', title: `Cairn transport benchmark (git daemon behind a ${delayMs} ms/direction proxy)` })
  process.stdout.write(markdown)
  log(`wrote ${jsonPath} and ${mdPath}`)
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, '/bench/'))) {
  main().then(
    () => { setTimeout(() => { console.error('bench:transport: handles still open after the report'); process.exit(1) }, EXIT_GRACE_MS).unref() },
    (err) => { console.error(err); process.exit(1) },
  )
}
