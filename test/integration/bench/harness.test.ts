/**
 * `npm run bench` end to end on a tiny run: the real script in a child
 * process, real threads, LMDB, git and (when lib/daemon can serve) a real
 * daemon, into a temp --out; then the files and the fields users rely on.
 * Figures are not judged here: performance is a ratio in the report, never
 * a timed assertion in a test.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadDaemonTarget } from '../../../bench/harness/daemon-target.ts'
import { HARNESS_SCHEMA, type HarnessReport } from '../../../bench/harness/schema.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, timeout: 180_000, maxBuffer: 16 * 2 ** 20 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }))
  })
}

t.test('bad flags: a clear message, the usage and exit code 2, before any work', async (t) => {
  const r = await bench(['--agents', 'many'])
  t.equal(r.code, 2)
  t.match(r.stderr, /--agents must be a whole number from 1 to 10000, got 'many'/)
  t.match(r.stderr, /usage: npm run bench/)
  t.equal(r.stdout, '')
})

t.test('a tiny run writes bench.json, bench.md and the charts', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'cairn-bench-it-'))
  t.teardown(() => rm(out, { recursive: true, force: true }))
  // The daemon is part of Cairn: its target must load, and the run measures both modes.
  const daemon = await loadDaemonTarget()
  t.equal(daemon.problem, null, 'the daemon target loads')
  t.type(daemon.open, 'function')
  const r = await bench(['--quick', '--scenario', 'burst,scaling', '--mode', 'both', '--agents', '3', '--ops', '60', '--mix', 'agents', '--out', out])
  t.equal(r.code, 0, r.stderr)

  const files = await readdir(out)
  for (const f of ['bench.json', 'bench.md', 'cdf-embedded-burst.svg', 'throughput-embedded-burst.svg', 'scaling-throughput.svg', 'scaling-p99.svg']) {
    t.ok(files.includes(f), f)
  }
  const report = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')) as HarnessReport
  t.match(report, { schema: HARNESS_SCHEMA, schemaVersion: 1, params: { agents: 3, ops: 60, quick: true, mixName: 'agents' } })
  t.ok(Date.parse(report.startedAt) <= Date.parse(report.finishedAt))
  t.match(report.machine, { cpus: Number, node: String, loadAvg: Array })
  for (const v of ['node', 'lmdb', 'nodegit', 'piscina', 'git']) t.type(report.versions[v], 'string', `version of ${v}`)
  t.same(report.baselines.map((b) => b.name), [
    'raw.port.round-trip', 'raw.port.pipelined', 'raw.socket.round-trip', 'raw.socket.pipelined',
    'raw.lmdb.durable-put', 'raw.lmdb.batched-put', 'raw.git.commit', 'raw.git.commit.latency',
  ])
  for (const b of report.baselines) t.ok(b.value > 0 && ['ms', 'ops/s'].includes(b.unit), `${b.name} in harness units`)

  const burst = report.runs.find((x) => x.id === 'embedded/burst')!
  t.ok(burst, 'embedded/burst ran')
  t.match(burst, { agents: 3, opsPlanned: 60, opsDone: 60, stoppedByTime: false })
  t.ok(burst.throughput > 0 && burst.latencyMs !== null && burst.cpu.perOpUs > 0 && burst.rss.peakMiB > 0)
  t.ok(burst.ratios.lmdbDurable! > 0 && burst.ratios.gitCommit! > 0 && burst.ratios.transportRtt! > 0)
  t.ok(Object.keys(burst.ops).length >= 5, `operation kinds: ${Object.keys(burst.ops).join(', ')}`)
  t.equal(burst.failed, 0, JSON.stringify(Object.fromEntries(Object.entries(burst.ops).map(([k, o]) => [k, o.errorSamples]))))
  if (burst.dropped.length > 0) t.comment(`dropped from the mix: ${burst.dropped.map((d) => `${d.op} (${d.reason})`).join('; ')}`)
  const d = report.runs.find((x) => x.id === 'daemon/burst')
  t.match(d, { mode: 'daemon', agents: 3, opsDone: 60, failed: 0 }, 'daemon/burst ran')
  // The daemon served 60 operations in its own process: it spent CPU and holds memory, measured apart from the client's.
  t.ok(d?.server && d.server.cpuMs > 0 && d.server.rssMiB > 0 && d.server.perOpUs > 0, `the daemon process is measured too: ${JSON.stringify(d?.server)}`)
  t.ok(files.includes('cdf-daemon-burst.svg'), 'and charted')

  t.equal(report.scaling?.cells.length, 4, 'quick matrix: 2 thread counts × 2 agent counts')
  t.ok(report.ratios.length > 0 && report.ratios.every((x) => x.ratio === null || x.ratio > 0))
  t.same(report.files.charts.sort(), files.filter((f) => f.endsWith('.svg')).sort())

  const md = await readFile(join(out, 'bench.md'), 'utf8')
  t.equal(r.stdout, md, 'the markdown also goes to stdout')
  t.match(md, /## Runs/)
  t.match(md, /\| embedded\/burst \| 3 \| 2 \| 60 \(0\) \|/)
})
