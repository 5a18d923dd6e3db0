import t from 'tap'
import { escapeXml, formatTick, lineChart, linearTicks, logTicks, PALETTE } from '../../../bench/lib/svg-chart.ts'

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length

t.test('a chart is one standalone SVG document with title, axes labels and one polyline per series', async (t) => {
  const svg = lineChart({
    title: 'Throughput', xLabel: 'time (s)', yLabel: 'ops/s',
    series: [{ name: 'total', points: [[0, 10], [1, 20], [2, 15]] }, { name: 'create', points: [[0, 4], [1, 8]] }],
  })
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="720" height="400" viewBox="0 0 720 400"/)
  t.ok(svg.trimEnd().endsWith('</svg>'))
  t.equal(count(svg, /<svg/g), 1)
  t.equal(count(svg, /<polyline class="series"/g), 2)
  t.match(svg, /<title>Throughput<\/title>/)
  t.match(svg, />time \(s\)</)
  t.match(svg, />ops\/s</)
  t.match(svg, new RegExp(`data-name="total" fill="none" stroke="${PALETTE[0]}"`))
  t.match(svg, new RegExp(`data-name="create" fill="none" stroke="${PALETTE[1]}"`))
  t.equal(count(svg, /class="legend"/g), 2)
  const total = /data-name="total"[^>]*points="([^"]+)"/.exec(svg)![1]!.split(' ')
  t.equal(total.length, 3, 'one coordinate pair per point')
  for (const pair of total) t.match(pair, /^\d+(\.\d)?,\d+(\.\d)?$/)
  // Tags balance: every opened element is closed or self-closed.
  t.equal(count(svg, /<text/g), count(svg, /<\/text>/g))
})

t.test('coordinates: y grows up, x grows right, inside the plot area', async (t) => {
  const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 0], [10, 100]] }] })
  const [a, b] = /points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => p.split(',').map(Number)) as [number[], number[]]
  t.ok(b[0]! > a[0]!, 'later x is further right')
  t.ok(b[1]! < a[1]!, 'larger y is higher up')
  for (const [x, y] of [a, b]) t.ok(x! >= 70 && x! <= 550 && y! >= 40 && y! <= 350)
})

t.test('log axes drop points they cannot draw; no data says so', async (t) => {
  const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', xScale: 'log', series: [{ name: 's', points: [[0, 1], [-1, 2], [1, 3], [100, 4], [Number.NaN, 5]] }] })
  t.equal(/points="([^"]+)"/.exec(svg)![1]!.split(' ').length, 2)
  const empty = lineChart({ title: 'e', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [] }] })
  t.match(empty, /class="no-data"/)
  t.equal(count(empty, /<polyline/g), 0)
  t.ok(empty.trimEnd().endsWith('</svg>'))
  const flat = lineChart({ title: 'f', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[5, 3]] }], markers: true })
  t.equal(count(flat, /<circle/g), 1, 'a single point still draws')
  t.notMatch(flat, /NaN|Infinity/)
})

t.test('text is escaped', async (t) => {
  t.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&#39;')
  const svg = lineChart({ title: '<script>', xLabel: 'a&b', yLabel: 'y', series: [{ name: 'p"q', points: [[1, 1]] }] })
  t.notMatch(svg, /<script>/)
  t.match(svg, /&lt;script&gt;/)
  t.match(svg, /data-name="p&quot;q"/)
})

t.test('ticks and their labels', async (t) => {
  t.same(linearTicks(0, 100, 5), [0, 20, 40, 60, 80, 100])
  t.same(linearTicks(0, 1, 4), [0, 0.5, 1], 'steps are 1, 2 or 5 × 10^k at least the raw step')
  t.same(linearTicks(0, 0.3, 3), [0, 0.1, 0.2, 0.3], 'no floating-point fuzz')
  t.same(linearTicks(3, 3), [3])
  t.same(linearTicks(Number.NaN, 1), [])
  t.same(logTicks(1, 1000), [1, 10, 100, 1000])
  t.same(logTicks(1, 10), [1, 2, 5, 10], 'one decade gets 2 and 5')
  t.same(logTicks(0, 10), [])
  t.equal(formatTick(1500), '1.5k')
  t.equal(formatTick(2_000_000), '2M')
  t.equal(formatTick(0.25), '0.25')
  t.equal(formatTick(0), '0')
})
