import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  REPORT_SCHEMA, RATIO_HEADER, betterOf, buildReport, computeRatios, formatNumber, machineInfo, orderForTable,
  orientedRatio, ratioCell, renderMarkdown, writeReport, type BenchResult,
} from '../../../bench/lib/report.ts'

const machine = { cpus: 4, model: 'Test CPU', totalMemGiB: 8, node: 'v20.0.0', platform: 'linux', arch: 'x64' }
const params = { quick: true, durationMs: 250 }

const results: BenchResult[] = [
  { name: 'raw.rtt', group: 'messaging', unit: 'µs', value: 20, p50: 20, p99: 40 },
  { name: 'raw.pipe', group: 'messaging', unit: 'msgs/s', value: 100_000 },
  { name: 'raw.put', group: 'storage', unit: 'puts/s', value: 50_000 },
  { name: 'cairn.pipe', group: 'messaging', unit: 'msgs/s', value: 50_000, baseline: 'raw.pipe' },
  { name: 'cairn.rtt', group: 'messaging', unit: 'µs', value: 40, p50: 40, p99: 160, baseline: 'raw.rtt' },
  { name: 'cairn.put', group: 'storage', unit: 'puts/s', value: 60_000, baseline: 'raw.put' },
  { name: 'cairn.boot', group: 'startup', unit: 'ms', value: 120 },
]

t.test('direction: rates are higher-is-better, everything else lower', async (t) => {
  t.equal(betterOf({ unit: 'msgs/s' }), 'higher')
  t.equal(betterOf({ unit: 'puts / s' }), 'higher')
  t.equal(betterOf({ unit: 'ops/sec' }), 'higher')
  t.equal(betterOf({ unit: 'µs' }), 'lower')
  t.equal(betterOf({ unit: 'ms' }), 'lower')
  t.equal(betterOf({ unit: 'MiB' }), 'lower')
  t.equal(betterOf({ unit: 'MiB', better: 'higher' }), 'higher', 'explicit direction wins')
})

t.test('oriented ratio: > 1 always favours the compared value', async (t) => {
  t.equal(orientedRatio(50, 100, 'higher'), 0.5, 'half the throughput')
  t.equal(orientedRatio(200, 100, 'higher'), 2)
  t.equal(orientedRatio(40, 20, 'lower'), 0.5, 'twice the latency')
  t.equal(orientedRatio(10, 20, 'lower'), 2)
  t.equal(orientedRatio(0, 20, 'lower'), null)
  t.equal(orientedRatio(10, 0, 'higher'), null)
  t.equal(orientedRatio(Number.NaN, 1, 'higher'), null)
})

t.test('computeRatios: one entry per result with a baseline', async (t) => {
  const ratios = computeRatios(results)
  t.same(ratios.map((r) => r.name), ['cairn.pipe', 'cairn.rtt', 'cairn.put'])
  const [pipe, rtt, put] = ratios
  t.match(pipe, { baseline: 'raw.pipe', better: 'higher', formula: 'cairn/baseline', value: 50_000, baselineValue: 100_000, ratio: 0.5 })
  t.notOk(pipe && 'p99Ratio' in pipe, 'no p99 on either side')
  t.match(rtt, { better: 'lower', formula: 'baseline/cairn', ratio: 0.5, p99Ratio: 0.25 })
  t.equal(put?.ratio, 1.2)
  t.notOk(put?.problem)
})

t.test('computeRatios explains ratios it cannot compute', async (t) => {
  const [missing, mismatch, zero] = computeRatios([
    { name: 'raw.a', group: 'g', unit: 'ms', value: 1 },
    { name: 'raw.z', group: 'g', unit: 'ms', value: 0 },
    { name: 'c.missing', group: 'g', unit: 'ms', value: 1, baseline: 'raw.nope' },
    { name: 'c.mismatch', group: 'g', unit: 'µs', value: 1, baseline: 'raw.a' },
    { name: 'c.zero', group: 'g', unit: 'ms', value: 1, baseline: 'raw.z' },
  ])
  t.match(missing, { ratio: null, baselineValue: null, problem: /not in this run/ })
  t.match(mismatch, { ratio: null, baselineValue: 1, problem: /unit mismatch: µs vs ms/ })
  t.match(zero, { ratio: null, problem: /non-positive/ })
})

t.test('buildReport has the documented shape and rejects broken runs', async (t) => {
  const report = buildReport({ machine, startedAt: '2025-01-01T00:00:00.000Z', params, results })
  t.same(Object.keys(report), ['schema', 'machine', 'startedAt', 'params', 'results', 'ratios'])
  t.equal(report.schema, REPORT_SCHEMA)
  t.equal(report.schema, 'cairn-bench-core/1')
  t.equal(report.results.length, results.length)
  t.equal(report.ratios.length, 3)
  t.not(report.results[0], results[0], 'results are copied')
  const base = { machine, startedAt: 'x', params }
  t.throws(() => buildReport({ ...base, results: [results[0]!, results[0]!] }), /duplicate/)
  t.throws(() => buildReport({ ...base, results: [{ name: 'a', group: 'g', unit: 'ms', value: 1, baseline: 'a' }] }), /itself/)
  t.throws(() => buildReport({ ...base, results: [{ name: 'a', group: 'g', unit: 'ms', value: Number.NaN }] }), /non-finite value/)
  t.throws(() => buildReport({ ...base, results: [{ name: 'a', group: 'g', unit: 'ms', value: 1, p99: Infinity }] }), /non-finite p99/)
})

t.test('table order: groups as first seen, each baseline followed by its comparisons', async (t) => {
  t.same(orderForTable(results).map((r) => r.name),
    ['raw.rtt', 'cairn.rtt', 'raw.pipe', 'cairn.pipe', 'raw.put', 'cairn.put', 'cairn.boot'])
  const orphan = orderForTable([
    { name: 'c', group: 'g', unit: 'ms', value: 1, baseline: 'gone' },
    { name: 'x', group: 'h', unit: 'ms', value: 1, baseline: 'y' },
    { name: 'y', group: 'g', unit: 'ms', value: 1 },
  ])
  t.same(orphan.map((r) => r.name), ['c', 'y', 'x'], 'missing or cross-group baselines keep their own place')
  t.equal(orderForTable([]).length, 0)
})

t.test('markdown: ratio column states its rule; one row per result', async (t) => {
  const md = renderMarkdown(buildReport({ machine, startedAt: '2025-01-01T00:00:00.000Z', params, results }))
  const lines = md.trimEnd().split('\n')
  const header = lines.find((l) => l.startsWith('| group'))
  t.ok(header?.includes(RATIO_HEADER))
  t.match(RATIO_HEADER, /Cairn÷baseline/)
  t.match(RATIO_HEADER, /baseline÷Cairn/)
  t.match(md, /4 × Test CPU, 8 GiB, Node v20\.0\.0, linux-x64/)
  t.match(md, /Params: quick=true, durationMs=250\./)
  const rows = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| group'))
  t.equal(rows.length, results.length)
  t.equal(rows[0], '| messaging | raw.rtt | 20 | µs | 20 | 40 |  |  |')
  t.equal(rows[1], '| messaging | cairn.rtt | 40 | µs | 40 | 160 | raw.rtt | 0.50× (p99 0.25×) |')
  t.equal(rows[3], '| messaging | cairn.pipe | 50,000 | msgs/s |  |  | raw.pipe | 0.50× |')
  t.equal(rows[5], '| storage | cairn.put | 60,000 | puts/s |  |  | raw.put | 1.20× |')
  t.equal(rows[6], '| startup | cairn.boot | 120 | ms |  |  |  |  |')
})

t.test('markdown escapes pipes and shows why a ratio is missing', async (t) => {
  const md = renderMarkdown(buildReport({ machine, startedAt: 's', params: {}, results: [
    { name: 'a|b', group: 'g', unit: 'ms', value: 1, baseline: 'nope' },
  ] }))
  t.match(md, /\| a\\\|b \|/)
  t.match(md, /n\/a \(baseline 'nope' not in this run\)/)
  t.match(md, /Params: \(none\)\./)
})

t.test('number and ratio cell formatting', async (t) => {
  t.equal(formatNumber(1234567.8), '1,234,568')
  t.equal(formatNumber(100), '100')
  t.equal(formatNumber(99.94), '99.9')
  t.equal(formatNumber(12.345), '12.3')
  t.equal(formatNumber(0.012345), '0.0123')
  t.equal(formatNumber(0), '0')
  t.equal(formatNumber(-1500), '-1,500')
  t.equal(ratioCell(undefined), '')
  t.equal(ratioCell({ name: 'a', baseline: 'b', unit: 'ms', better: 'lower', formula: 'baseline/cairn', value: 1, baselineValue: 2, ratio: 2 }), '2.00×')
  t.equal(ratioCell({ name: 'a', baseline: 'b', unit: 'ms', better: 'lower', formula: 'baseline/cairn', value: 1, baselineValue: 2, ratio: 2, p99Ratio: null }), '2.00×')
})

t.test('writeReport writes core.json and core.md', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-report-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const out = join(dir, 'nested', 'out')
  const report = buildReport({ machine: machineInfo(), startedAt: new Date().toISOString(), params, results })
  const written = await writeReport(out, report)
  t.equal(written.jsonPath, join(out, 'core.json'))
  t.same(JSON.parse(await readFile(written.jsonPath, 'utf8')), report)
  t.equal(await readFile(written.mdPath, 'utf8'), written.markdown)
  t.ok(report.machine.cpus > 0)
  t.equal(report.machine.node, process.version)
})

t.test('other scripts: own schema, title, footer and file name', async (t) => {
  const report = buildReport({ machine, startedAt: 's', params, results, schema: 'cairn-bench-x/1' })
  t.equal(report.schema, 'cairn-bench-x/1')
  t.equal(buildReport({ machine, startedAt: 's', params, results }).schema, REPORT_SCHEMA, 'default schema')
  const md = renderMarkdown(report, { title: 'Cairn x benchmark', footer: ['### Goals', '', '- MET: y'] })
  t.match(md, /^## Cairn x benchmark\n/)
  t.match(md, /\| cairn\.boot \|[^\n]*\n\n### Goals\n\n- MET: y\n$/, 'footer after the table, separated by a blank line')
  t.match(renderMarkdown(report), /^## Cairn core benchmark\n/)
  const dir = await mkdtemp(join(tmpdir(), 'cairn-report-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const extended = { ...report, goals: [{ result: 'x' }] }
  const written = await writeReport(dir, extended, { name: 'x', title: 'Cairn x benchmark' })
  t.equal(written.jsonPath, join(dir, 'x.json'))
  t.equal(written.mdPath, join(dir, 'x.md'))
  t.same(JSON.parse(await readFile(written.jsonPath, 'utf8')), extended, 'extra fields are written')
  t.match(written.markdown, /^## Cairn x benchmark/)
})
