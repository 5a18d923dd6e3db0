/**
 * `npm run bench:package`: Cairn as installed (the packed package, compiled,
 * plain node) against Cairn from the sources (through tsx), in one run, in
 * alternating rounds so both see the same machine:
 *
 * - start: import, createRuntime, and `runtime.repo()` first open of a
 *   repository holding `--issues` issues, each in a fresh process
 *   (bench/package/probe.mjs);
 * - idle RSS of that process with the default thread count: 2 s after open,
 *   and (compiled) 12 s after, once V8 gave back the young generation the
 *   start grew (its memory reducer waits ~8 s of quiet);
 * - `cairn issue show` through a daemon, as a shell pays it, beside a bare
 *   `node -e 0` start (the floor of any invocation);
 * - the tarball `npm pack` makes (packed and unpacked bytes, files).
 *
 *   npm run bench:package [-- --rounds 5 --issues 1000 --cli-runs 15 --out bench-out]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { checkGoals, renderGoals, type Goal } from './lib/goals.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { summarize } from './lib/stats.ts'
import { cairnCommand } from '../lib/daemon/spawn.ts'
import { packedConsumer, ROOT, writeText } from '../test/helpers/packed-package.ts'

const SCHEMA = 'cairn-bench-package/1'
const GOALS: Goal[] = [
  { result: 'package.tarball', op: '<', target: 400, context: 'packed size, kB' },
  { result: 'start.open.compiled', op: '<', target: 600, context: 'the issue measured ~600 ms from the sources' },
  { result: 'memory.idle-rss.compiled', op: '<', target: 80, context: 'default threads (2 on this machine), 2 s after open; the issue measured 184 MiB' },
  { result: 'memory.settled-rss.compiled', op: '<', target: 80, context: 'the same process 12 s after open' },
  { result: 'cli.issue-show.packed', op: '<', target: 60, context: 'through the daemon; `node -e 0` is the floor' },
]

interface Probe { importMs: number; createMs: number; openMs: number; servingMs: number; idleRssMiB: number; heapMiB: number; lastSeq: number; settledRssMiB: number | null }

/** How long after its open a compiled probe takes its settled RSS. */
const SETTLE_MS = 12_000

const log = (m: string): void => { process.stderr.write(`bench:package: ${m}\n`) }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    out: { type: 'string', default: 'bench-out' }, quick: { type: 'boolean', default: false },
    rounds: { type: 'string' }, issues: { type: 'string' }, 'cli-runs': { type: 'string' },
  } })
  const quick = values.quick === true
  const int = (v: string | undefined, d: number, name: string): number => {
    const n = v === undefined ? d : Number(v)
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`--${name} must be an integer from 1 to 100000`)
    return n
  }
  const params = {
    rounds: int(values.rounds, quick ? 2 : 5, 'rounds'),
    issues: int(values.issues, quick ? 100 : 1000, 'issues'),
    cliRuns: int(values['cli-runs'], quick ? 5 : 15, 'cli-runs'),
    quick,
  }
  const startedAt = new Date().toISOString()
  const results: BenchResult[] = []

  log('npm pack and a consumer project')
  const c = packedConsumer()
  try {
    const packed = spawnSync('tar', ['tzvf', c.tarball], { encoding: 'utf8' })
    const unpacked = packed.stdout.split('\n').reduce((sum, line) => sum + (Number(line.split(/\s+/)[2]) || 0), 0)
    results.push({ name: 'package.tarball', group: 'package', unit: 'kB', value: Math.round(c.tarballBytes / 100) / 10, note: `${c.entries.length} files, ${Math.round(unpacked / 1024)} kB unpacked` })

    const repo = join(c.dir, 'repo')
    const home = join(c.dir, 'probe-home')
    execFileSync('git', ['init', '-q', repo])
    log(`seeding ${params.issues} issues`)
    writeText(join(c.dir, 'seed.mjs'), `
import { createRuntime } from 'cairn'
const [path, home, n] = process.argv.slice(2)
const runtime = await createRuntime({ home })
const repo = await runtime.repo(path)
for (let i = 0; i < Number(n); i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, Number(n) - i) }, async (_, k) => {
    const issue = await repo.issues.create({ title: 'issue ' + (i + k), labels: [(i + k) % 3 ? 'a' : 'b'] })
    await repo.issues.comment(issue.id, 'first comment')
  }))
}
await runtime.stop()
`)
    const seeded = await c.node(['seed.mjs', repo, home, String(params.issues)], { timeoutMs: 600_000 })
    if (seeded.status !== 0) throw new Error(`seeding failed: ${seeded.stderr}`)

    copyFileSync(fileURLToPath(new URL('./package/probe.mjs', import.meta.url)), join(c.dir, 'probe.mjs'))
    const sources = new URL('../lib/index.ts', import.meta.url).href
    const probe = (mode: 'compiled' | 'source'): Probe => {
      const args = mode === 'compiled'
        ? ['probe.mjs', 'cairn', repo, home, String(threads), String(SETTLE_MS)]
        : ['--import=tsx', fileURLToPath(new URL('./package/probe.mjs', import.meta.url)), sources, repo, home]
      const r = spawnSync(process.execPath, args, {
        cwd: mode === 'compiled' ? c.dir : ROOT, env: mode === 'compiled' ? c.env() : { ...process.env, CAIRN_HOME: home }, encoding: 'utf8', timeout: 120_000,
      })
      if (r.status !== 0) throw new Error(`${mode} probe exited ${r.status}: ${r.stderr}`)
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Probe
    }
    // createRuntime's default: min(4, cores) threads, started at boot (the first loads its code at once).
    const threads = Math.min(4, availableParallelism())
    const runs: Record<'compiled' | 'source', Probe[]> = { compiled: [], source: [] }
    for (let round = 0; round < params.rounds; round++) {
      log(`start round ${round + 1}/${params.rounds}`)
      const order: ('compiled' | 'source')[] = round % 2 === 0 ? ['compiled', 'source'] : ['source', 'compiled']
      for (const mode of order) runs[mode].push(probe(mode))
    }
    const fig = (key: Exclude<keyof Probe, 'settledRssMiB'>, name: string, unit: string, group: string, note: string) => {
      for (const mode of ['source', 'compiled'] as const) {
        const xs = runs[mode].map((p) => p[key])
        results.push({ name: `${name}.${mode}`, group, unit, value: Math.round(median(xs) * 10) / 10,
          ...(mode === 'compiled' ? { baseline: `${name}.source` } : {}),
          note: `median of ${xs.length} fresh processes (${xs.map((x) => Math.round(x)).join(', ')}); ${note}` })
      }
    }
    fig('importMs', 'start.import', 'ms', 'start', "import of Cairn's entry")
    fig('createMs', 'start.create-runtime', 'ms', 'start', `createRuntime() with default threads (${threads} here)`)
    fig('openMs', 'start.open', 'ms', 'start', `runtime.repo() first open, ${params.issues} issues with a comment each`)
    fig('servingMs', 'start.serving', 'ms', 'start', 'from process start until the repository serves')
    fig('idleRssMiB', 'memory.idle-rss', 'MiB', 'memory', `whole process, ${threads} threads, 2 s idle after open`)
    fig('heapMiB', 'memory.heap', 'MiB', 'memory', 'main thread heap used at the same moment')
    const settled = runs.compiled.map((p) => p.settledRssMiB ?? NaN)
    results.push({ name: 'memory.settled-rss.compiled', group: 'memory', unit: 'MiB', value: Math.round(median(settled) * 10) / 10, baseline: 'memory.idle-rss.compiled',
      note: `median of ${settled.length} fresh processes (${settled.join(', ')}); the same processes ${SETTLE_MS / 1000} s after open` })

    log('CLI: a daemon started by the packed bin, then `cairn issue show` rounds')
    const cliHome = join(c.dir, 'cli-home')
    const env = c.env({ CAIRN_HOME: cliHome })
    const bin = join(c.pkg, 'dist', 'bundle', 'cairn.js')
    const started = spawnSync(process.execPath, [bin, 'daemon', 'start', '--idle-timeout', '0', '--json'], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 })
    if (started.status !== 0) throw new Error(`daemon start failed: ${started.stderr}`)
    try {
      const made = spawnSync(process.execPath, [bin, 'issue', 'create', 'shown', '--json'], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 })
      const id = (JSON.parse(made.stdout) as { data: { id: string } }).data.id
      const samples: Record<string, number[]> = { floor: [], packed: [], source: [] }
      const commands: Record<string, string[]> = {
        floor: ['-e', '0'],
        packed: [bin, 'issue', 'show', id],
        source: [...cairnCommand(), 'issue', 'show', id],
      }
      for (let i = 0; i < params.cliRuns + 1; i++) {
        for (const [key, args] of Object.entries(commands)) {
          const t0 = performance.now()
          const r = spawnSync(process.execPath, args, { cwd: repo, env: key === 'source' ? { ...process.env, CAIRN_HOME: cliHome } : env, encoding: 'utf8', timeout: 60_000 })
          const ms = performance.now() - t0
          if (r.status !== 0) throw new Error(`${key} exited ${r.status}: ${r.stderr}`)
          if (i > 0) samples[key]!.push(ms) // the first of each warms the page cache
        }
      }
      const cli = (key: string, name: string, note: string, baseline?: string) => {
        const s = summarize(samples[key]!)
        results.push({ name, group: 'cli', unit: 'ms', value: Math.round(s.p50 * 10) / 10, p50: s.p50, p99: s.p99, ...(baseline ? { baseline } : {}), note: `${samples[key]!.length} runs interleaved; ${note}` })
      }
      cli('floor', 'node.start', '`node -e 0`: the floor of any invocation')
      cli('source', 'cli.issue-show.source', 'lib/cli/bin.ts through tsx, same daemon')
      cli('packed', 'cli.issue-show.packed', "the packed package's bin (compiled), through the daemon", 'cli.issue-show.source')
      const status = spawnSync(process.execPath, [bin, 'daemon', 'status', '--json'], { env, encoding: 'utf8' })
      const { rssBytes } = (JSON.parse(status.stdout) as { data: { rssBytes: number } }).data
      results.push({ name: 'memory.daemon-rss.compiled', group: 'memory', unit: 'MiB', value: Math.round(rssBytes / 2 ** 20), note: 'the packed daemon after the CLI rounds, one repository open' })
    } finally {
      spawnSync(process.execPath, [bin, 'daemon', 'stop'], { env, encoding: 'utf8', timeout: 60_000 })
    }
  } finally {
    c.cleanup()
  }
  const goals = checkGoals(GOALS, results)
  const report = { ...buildReport({ machine: machineInfo(), startedAt, params, results, schema: SCHEMA }), goals }
  const { markdown, jsonPath } = await writeReport(values.out!, report, { name: 'package', title: 'Cairn package benchmark: compiled vs sources', footer: renderGoals(goals) })
  process.stdout.write(markdown)
  log(`wrote ${jsonPath}`)
}

await main()
