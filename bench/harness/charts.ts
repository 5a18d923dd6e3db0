/**
 * Which charts a report gets, as file name → SVG text (pure; bench/run.ts
 * writes them): for every scenario run a latency CDF per operation and its
 * throughput over time, and for a scaling run throughput and p99 latency
 * against agents, one line per thread count.
 */
import { lineChart, type Series } from '../lib/svg-chart.ts'
import type { OpKind } from './mix.ts'
import type { RunReport, ScalingReport } from './schema.ts'

export interface ChartFile {
  file: string
  svg: string
}

/** `embedded/burst` → `embedded-burst`. */
export function slug(id: string): string {
  return id.replace(/[^A-Za-z0-9.-]+/g, '-')
}

export function cdfChart(run: RunReport): ChartFile {
  const series: Series[] = (Object.entries(run.ops) as [OpKind, NonNullable<RunReport['ops'][OpKind]>][])
    .map(([kind, op]) => ({ name: `${kind} (n=${op.ok + op.failed})`, points: op.cdf.map(([p, ms]) => [ms, p] as const) }))
  return {
    file: `cdf-${slug(run.id)}.svg`,
    svg: lineChart({
      title: `Latency CDF per operation: ${run.id} (${run.agents} agents, ${run.threads} threads)`,
      xLabel: 'latency (ms, log scale)', yLabel: 'calls completed within (%)', series, xScale: 'log',
    }),
  }
}

export function throughputChart(run: RunReport): ChartFile {
  const tl = run.timeline
  const at = (values: readonly number[]): [number, number][] => values.map((v, i) => [tl.t[i] ?? 0, v])
  const series: Series[] = [{ name: 'total', points: at(tl.total) }]
  for (const [kind, values] of Object.entries(tl.rate) as [OpKind, number[]][]) series.push({ name: kind, points: at(values) })
  return {
    file: `throughput-${slug(run.id)}.svg`,
    svg: lineChart({
      title: `Throughput over time: ${run.id} (${tl.bucketMs} ms buckets)`,
      xLabel: 'time since the first call (s)', yLabel: 'completed calls per second', series,
    }),
  }
}

export function scalingCharts(s: ScalingReport): ChartFile[] {
  const byThreads = (pick: (c: ScalingReport['cells'][number]) => number | null): Series[] =>
    s.threads.map((t) => ({
      name: `${t} thread${t === 1 ? '' : 's'}`,
      points: s.cells.filter((c) => c.threads === t && pick(c) !== null).map((c) => [c.agents, pick(c) as number] as const),
    }))
  return [
    {
      file: 'scaling-throughput.svg',
      svg: lineChart({
        title: `Scaling: ${s.scenario} throughput (${s.opsPerCell} ops per cell)`, xLabel: 'agents', yLabel: 'ops/s',
        series: byThreads((c) => c.throughput), markers: true,
      }),
    },
    {
      file: 'scaling-p99.svg',
      svg: lineChart({
        title: `Scaling: ${s.scenario} p99 latency, all operations`, xLabel: 'agents', yLabel: 'p99 latency (ms)',
        series: byThreads((c) => c.p99), markers: true,
      }),
    },
  ]
}

/** Every chart of a report: per scenario run (scaling cells excluded), then scaling. */
export function chartsOf(runs: readonly RunReport[], scaling: ScalingReport | null, scalingIds: ReadonlySet<string>): ChartFile[] {
  const out: ChartFile[] = []
  for (const run of runs) {
    if (scalingIds.has(run.id)) continue
    out.push(cdfChart(run), throughputChart(run))
  }
  if (scaling) out.push(...scalingCharts(scaling))
  return out
}
