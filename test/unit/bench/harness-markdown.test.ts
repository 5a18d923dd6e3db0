import t from 'tap'
import { chartsOf, slug } from '../../../bench/harness/charts.ts'
import { renderHarnessMarkdown, renderRunSummary, times } from '../../../bench/harness/markdown.ts'
import { HARNESS_SCHEMA, SCHEMA_VERSION, type HarnessReport, type RunReport, type ScalingReport } from '../../../bench/harness/schema.ts'

const lat = { count: 10, min: 1, mean: 2, p50: 2, p95: 3, p99: 4, max: 5 }

function run(id: string, over: Partial<RunReport> = {}): RunReport {
  return {
    id, mode: 'embedded', scenario: 'burst', mix: { create: 1, comment: 1 }, dropped: [], agents: 5, agentsStarted: 5, threads: 2, seed: 1,
    opsPlanned: 20, opsDone: 20, ok: 18, failed: 2, offeredRate: null, wallMs: 100, seedMs: 5, warmupOps: 4, warmupMs: 3, stoppedByTime: false,
    throughput: 200, latencyMs: lat, cpu: { userMs: 50, systemMs: 10, perOpUs: 3000, cores: 0.6 }, rss: { startMiB: 100, peakMiB: 120, endMiB: 110 },
    server: null,
    ops: {
      create: { ok: 10, failed: 0, errors: {}, errorSamples: {}, throughput: 100, latencyMs: lat, cdf: [[0, 1], [50, 2], [100, 5]], hdr: '' },
      comment: { ok: 8, failed: 2, errors: { NOT_FOUND: 2 }, errorSamples: { NOT_FOUND: 'gone' }, throughput: 100, latencyMs: lat, cdf: [[0, 1], [100, 5]], hdr: '' },
    },
    timeline: { bucketMs: 100, t: [0], rate: { create: [100], comment: [100] }, total: [200], rssMiB: [120] },
    ratios: { lmdbDurable: 0.02, lmdbBatched: 0.0004, gitCommit: 4, transportRtt: 0.01 },
    ...over,
  }
}

const scaling: ScalingReport = {
  scenario: 'burst', mode: 'embedded', threads: [1, 2], agents: [10, 50], opsPerCell: 20,
  cells: [
    { threads: 1, agents: 10, runId: 'scaling/t1-a10', throughput: 1000, p50: 2, p99: 9, cpuPerOpUs: 500, peakRssMiB: 200, failed: 0 },
    { threads: 2, agents: 10, runId: 'scaling/t2-a10', throughput: 1500, p50: 2, p99: 8, cpuPerOpUs: 500, peakRssMiB: 200, failed: 1 },
  ],
}

function report(): HarnessReport {
  return {
    schema: HARNESS_SCHEMA, schemaVersion: SCHEMA_VERSION, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', wallMs: 60_000,
    machine: { cpus: 2, model: 'Test CPU', totalMemGiB: 8, node: 'v20', platform: 'linux', arch: 'x64', loadAvg: [1, 2, 3], freeMemGiB: 4 },
    versions: { node: '20', lmdb: '3' }, params: { agents: 5, mix: { create: 1 } },
    baselines: [{ name: 'raw.lmdb.durable-put', group: 'storage', unit: 'ops/s', value: 10_000 }],
    runs: [run('embedded/burst'), run('daemon/sustained', { mode: 'daemon', scenario: 'sustained', offeredRate: 100, stoppedByTime: true, server: { cpuMs: 40, rssMiB: 90, perOpUs: 2000, cores: 0.4 }, dropped: [{ op: 'sync', reason: 'repo.sync() is not in this build' }] }),
      run('scaling/t1-a10'), run('scaling/t2-a10')],
    scaling, results: [], ratios: [], skipped: [{ what: 'daemon mode', reason: 'no client' }],
    files: { markdown: 'bench.md', charts: ['a.svg'] },
  }
}

t.test('the markdown has every section, one row per run and per operation', async (t) => {
  const md = renderHarnessMarkdown(report())
  for (const heading of ['# Cairn benchmark', '## Raw baselines (this run)', '## Runs', '### embedded/burst', '### daemon/sustained',
    '## Scaling (burst, embedded, 20 ops per cell): ops/s (p99 ms)', '## Not run', '## Operations dropped from the mix', '## Charts']) {
    t.ok(md.includes(`\n${heading}\n`) || md.startsWith(`${heading}\n`), heading)
  }
  t.notMatch(md, /### scaling\//, 'scaling cells are in the matrix, not one table each')
  t.match(md, /\| comment \| 8 \| 2 \(NOT_FOUND 2\) \|/)
  t.match(md, /offered 100 ops\/s; STOPPED BY THE TIME BOUND/)
  t.match(md, /CPU and RSS include the daemon's/)
  t.match(md, /\| 10 \| 1,000 \(9\) \| 1,500 \(8\) 1 failed \|/)
  t.match(md, /\| 50 \| – \| – \|/, 'a missing cell is a dash')
  t.match(md, /- sync: repo\.sync\(\) is not in this build/)
  t.match(md, /- daemon mode: no client/)
  t.match(md, /Machine: 2 × Test CPU, 8 GiB \(4 GiB free\), load 1 \/ 2 \/ 3/)
})

t.test('summary rows: ratios readable at any size, daemon CPU included', async (t) => {
  t.equal(times(null), 'n/a')
  t.equal(times(4), '4.00×')
  t.equal(times(0.0004), '0.0004×')
  t.equal(times(0.0123), '0.012×')
  const [header, rule, ...rows] = renderRunSummary(report().runs)
  const columns = header!.split(' | ').length
  t.equal(rule!.split('|').length - 2, columns)
  for (const r of rows) t.equal(r.split(' | ').length, columns)
  t.match(rows[1]!, /\| 1\.00 \| 5,000 \| 210 \|/, 'cores, µs/op and RSS add the daemon\'s')
})

t.test('charts: a CDF and a throughput chart per scenario run, two for scaling', async (t) => {
  const r = report()
  const charts = chartsOf(r.runs, r.scaling, new Set(['scaling/t1-a10', 'scaling/t2-a10']))
  t.same(charts.map((c) => c.file), [
    'cdf-embedded-burst.svg', 'throughput-embedded-burst.svg', 'cdf-daemon-sustained.svg', 'throughput-daemon-sustained.svg',
    'scaling-throughput.svg', 'scaling-p99.svg',
  ])
  for (const c of charts) t.match(c.svg, /^<svg [^>]*>[\s\S]*<\/svg>\n$/)
  t.match(charts[0]!.svg, /data-name="comment \(n=10\)"/)
  t.equal((charts[4]!.svg.match(/<polyline/g) ?? []).length, 2, 'one line per thread count')
  t.equal(slug('scaling/t1-a10'), 'scaling-t1-a10')
})
