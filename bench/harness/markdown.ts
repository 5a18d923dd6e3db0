/**
 * bench.md: the report for people. One table of raw baselines, one summary
 * line per run with its ratios, one table per scenario run by operation
 * kind, the scaling matrix, and what was skipped. Pure: report in, text out.
 */
import { formatNumber } from '../lib/report.ts'
import type { OpKind } from './mix.ts'
import type { HarnessReport, OpReport, RunReport, ScalingReport } from './schema.ts'

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
const row = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`
const num = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : formatNumber(n))
/** 2 decimals from 0.1 up, 2 significant digits below, so 0.003× does not read as 0.00×. */
export const times = (r: number | null): string => (r === null ? 'n/a' : `${r >= 0.1 ? r.toFixed(2) : Number(r.toPrecision(2))}×`)

function errorsCell(op: Pick<OpReport, 'failed' | 'errors'>): string {
  if (op.failed === 0) return '0'
  return `${formatNumber(op.failed)} (${Object.entries(op.errors).map(([c, n]) => `${c} ${n}`).join(', ')})`
}

function runRemarks(run: RunReport): string {
  const parts: string[] = []
  if (run.offeredRate !== null) parts.push(`offered ${formatNumber(run.offeredRate)} ops/s`)
  if (run.stoppedByTime) parts.push(`STOPPED BY THE TIME BOUND after ${formatNumber(run.opsDone)} of ${formatNumber(run.opsPlanned)} ops`)
  if (run.agentsStarted < run.agents) parts.push(`${run.agentsStarted} of ${run.agents} agents started`)
  if (run.dropped.length > 0) parts.push(`not run: ${run.dropped.map((d) => d.op).join(', ')}`)
  if (run.server) parts.push(`CPU and RSS include the daemon's (${formatNumber(run.server.cpuMs)} ms CPU, ${formatNumber(run.server.rssMiB)} MiB at the end)`)
  return parts.join('; ')
}

/** One summary line per run. */
export function renderRunSummary(runs: readonly RunReport[]): string[] {
  const lines = [
    row(['run', 'agents', 'threads', 'ops (failed)', 'ops/s', '÷ LMDB durable put', '÷ LMDB batched put', '÷ git commit',
      'p50 ms', 'p99 ms', 'RTT p50 ÷ p50', 'CPU cores', 'CPU µs/op', 'peak RSS MiB', 'remarks']),
    `|---|${'---:|'.repeat(13)}---|`,
  ]
  for (const r of runs) {
    lines.push(row([r.id, String(r.agents), String(r.threads), `${formatNumber(r.opsDone)} (${formatNumber(r.failed)})`,
      num(r.throughput), times(r.ratios.lmdbDurable), times(r.ratios.lmdbBatched), times(r.ratios.gitCommit),
      num(r.latencyMs?.p50), num(r.latencyMs?.p99), times(r.ratios.transportRtt), (r.cpu.cores + (r.server?.cores ?? 0)).toFixed(2),
      num(r.cpu.perOpUs + (r.server?.perOpUs ?? 0)), num(r.rss.peakMiB + (r.server?.rssMiB ?? 0)), runRemarks(r)]))
  }
  return lines
}

/** One line per operation kind of a run. */
export function renderRunOps(run: RunReport): string[] {
  const lines = [
    `### ${run.id}`,
    '',
    `${run.agents} agents, ${run.threads} threads, ${formatNumber(run.opsDone)} ops in ${formatNumber(run.wallMs)} ms` +
      (run.scenario === 'sustained' ? ' (latency from each call\'s due time)' : '') + '.',
    '',
    row(['op', 'ok', 'failed (by code)', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']),
    '|---|---:|---|---:|---:|---:|---:|---:|',
  ]
  for (const [kind, op] of Object.entries(run.ops) as [OpKind, OpReport][]) {
    const l = op.latencyMs
    lines.push(row([kind, formatNumber(op.ok), errorsCell(op), num(op.throughput), num(l?.p50), num(l?.p95), num(l?.p99), num(l?.max)]))
  }
  return lines
}

/** Agents down, threads across: ops/s and p99. */
export function renderScaling(s: ScalingReport): string[] {
  const lines = [
    `## Scaling (${s.scenario}, ${s.mode}, ${formatNumber(s.opsPerCell)} ops per cell): ops/s (p99 ms)`,
    '',
    row(['agents', ...s.threads.map((t) => `${t} thread${t === 1 ? '' : 's'}`)]),
    `|---|${'---:|'.repeat(s.threads.length)}`,
  ]
  for (const a of s.agents) {
    lines.push(row([String(a), ...s.threads.map((t) => {
      const c = s.cells.find((x) => x.threads === t && x.agents === a)
      if (!c) return '–'
      return `${num(c.throughput)} (${num(c.p99)})${c.failed > 0 ? ` ${c.failed} failed` : ''}`
    })]))
  }
  return lines
}

/** The whole bench.md. */
export function renderHarnessMarkdown(r: HarnessReport): string {
  const m = r.machine
  const v = Object.entries(r.versions).map(([k, x]) => `${k} ${x}`).join(', ')
  const p = Object.entries(r.params).map(([k, x]) => `${k}=${typeof x === 'object' ? JSON.stringify(x) : String(x)}`).join(', ')
  const scaling = new Set(r.scaling?.cells.map((c) => c.runId) ?? [])
  const lines: string[] = [
    '# Cairn benchmark',
    '',
    `Machine: ${m.cpus} × ${m.model}, ${m.totalMemGiB} GiB (${m.freeMemGiB} GiB free), load ${m.loadAvg.join(' / ')}, ${m.platform}-${m.arch}.`,
    '',
    `Versions: ${v}.`,
    '',
    `Started ${r.startedAt}, ${formatNumber(r.wallMs / 1000)} s in all. Params: ${p}.`,
    '',
    '## Raw baselines (this run)',
    '',
    row(['baseline', 'value', 'unit', 'p50', 'p99']),
    '|---|---:|---|---:|---:|',
    ...r.baselines.map((b) => row([b.name, num(b.value), b.unit, num(b.p50), num(b.p99)])),
    '',
    '## Runs',
    '',
    'Ratios are oriented so that > 1 means Cairn is better: ops/s ÷ the baseline\'s ops/s, and the transport\'s round-trip p50 ÷ the run\'s p50 (MessagePort embedded, Unix socket daemon).',
    '',
    ...renderRunSummary(r.runs),
  ]
  for (const run of r.runs) if (!scaling.has(run.id)) lines.push('', ...renderRunOps(run))
  if (r.scaling) lines.push('', ...renderScaling(r.scaling))
  if (r.skipped.length > 0) lines.push('', '## Not run', '', ...r.skipped.map((s) => `- ${s.what}: ${s.reason}`))
  const dropped = new Map<string, string>()
  for (const run of r.runs) for (const d of run.dropped) dropped.set(d.op, d.reason)
  if (dropped.size > 0) lines.push('', '## Operations dropped from the mix', '', ...[...dropped].map(([op, why]) => `- ${op}: ${why}`))
  if (r.files.charts.length > 0) lines.push('', '## Charts', '', ...r.files.charts.map((f) => `- [${f}](${f})`))
  return lines.join('\n') + '\n'
}
