/**
 * Folder rule (bench/harness/): targets (embedded-target.ts,
 * daemon-target.ts) are the only modules that reach Cairn; scenario.ts and
 * agent.ts drive them through target.ts's narrow Session; run-report.ts,
 * markdown.ts and charts.ts are pure (report in, text out).
 *
 * The whole invocation of `npm run bench`: baselines, then every scenario
 * run per mode, then the scaling matrix, assembled into one report with its
 * charts. bench/run.ts wraps this with the command line and file output.
 *
 * Each run gets a fresh target (runtime or daemon) on a fresh repository,
 * all under one temporary directory removed at the end, so no run inherits
 * another's board, caches or leases.
 */
import { performance } from 'node:perf_hooks'
import { benchDirs, type BenchDirs } from '../lib/dirs.ts'
import { buildReport, formatNumber, type BenchResult } from '../lib/report.ts'
import { baselinePhases, baselineSizes, toHarnessUnits } from './baselines.ts'
import { chartsOf, type ChartFile } from './charts.ts'
import { openEmbedded } from './embedded-target.ts'
import { machineNow, versions } from './environment.ts'
import { restrictMix } from './mix.ts'
import type { HarnessParams, Scenario } from './params.ts'
import type { Progress } from './progress.ts'
import { runReport, runResults } from './run-report.ts'
import { runScenario } from './scenario.ts'
import { HARNESS_SCHEMA, SCHEMA_VERSION, type HarnessReport, type RunReport, type ScalingReport } from './schema.ts'
import { serverUsage } from './proc-usage.ts'
import type { OpenTarget, Target } from './target.ts'

/** Offered rate of `sustained` when neither --rate nor a burst of this run gives one. */
export const DEFAULT_SUSTAINED_RATE = 200
/** `sustained` offers this fraction of the same mode's burst throughput: loaded, but below saturation. */
export const SUSTAINED_FRACTION = 0.5

/** Untimed warm-up operations of a run of `ops`: a fifth, at most 1,000. */
export function warmupOps(ops: number): number {
  return Math.min(1000, Math.ceil(ops / 5))
}

export interface HarnessDeps {
  progress: Progress
  /** Opens a daemon target, or null when daemon mode cannot run here (with `daemonProblem` saying why). */
  openDaemon: OpenTarget | null
  daemonProblem: string | null
}

export interface HarnessOutput {
  report: HarnessReport
  charts: ChartFile[]
  /** Runs that threw; each is also in `report.skipped`. The other runs are reported as usual. */
  failedRuns: number
}

interface RunSpec {
  id: string
  mode: 'embedded' | 'daemon'
  scenario: Scenario
  agents: number
  threads: number
  ops: number
  rate: number | null
}

async function oneRun(spec: RunSpec, p: HarnessParams, dirs: BenchDirs, open: OpenTarget, baselines: BenchResult[], deps: HarnessDeps): Promise<RunReport> {
  const target: Target = await open({ threads: spec.threads, dirs, name: spec.id.replace(/[^A-Za-z0-9-]+/g, '-') })
  const phase = deps.progress.phase(spec.id, spec.ops)
  try {
    const { mix, dropped } = restrictMix(p.mix, target.supports)
    const before = serverUsage(target.serverPid)
    const outcome = await runScenario(target, {
      scenario: spec.scenario, agents: spec.agents, ops: spec.ops, mix, seed: p.seed, rate: spec.rate ?? 0, warmupOps: warmupOps(spec.ops),
      maxMs: p.maxSeconds * 1000, onProgress: (n) => phase.update(n),
    })
    const after = serverUsage(target.serverPid)
    const server = before && after ? { cpuMs: after.cpuMs - before.cpuMs, rssMiB: after.rssMiB } : null
    const run = runReport({
      id: spec.id, mode: spec.mode, scenario: spec.scenario, mix, agents: spec.agents, threads: spec.threads, seed: p.seed,
      opsPlanned: spec.ops, offeredRate: spec.scenario === 'sustained' ? spec.rate : null, server, warmupOps: warmupOps(spec.ops),
      dropped: dropped.map((op) => ({ op, reason: target.missing[op] ?? 'not supported by this target' })),
    }, outcome, baselines)
    phase.finish(`${run.opsDone} ops, ${Math.round(run.throughput)} ops/s, p99 ${run.latencyMs?.p99.toFixed(1) ?? '–'} ms, ${run.failed} failed`)
    return run
  } catch (err) {
    phase.finish(`FAILED: ${(err as Error).message}`)
    throw err
  } finally {
    await target.close()
  }
}

/**
 * Runs everything `p` asks for and returns the report and charts (nothing
 * is written here).
 */
export async function runHarness(p: HarnessParams, deps: HarnessDeps): Promise<HarnessOutput> {
  const startedAt = new Date().toISOString()
  const t0 = performance.now()
  const skipped: HarnessReport['skipped'] = []
  const modes: ('embedded' | 'daemon')[] = p.mode === 'both' ? ['embedded', 'daemon'] : [p.mode]
  const openers = new Map<'embedded' | 'daemon', OpenTarget>([['embedded', openEmbedded]])
  if (deps.openDaemon) openers.set('daemon', deps.openDaemon)
  else if (modes.includes('daemon')) skipped.push({ what: 'daemon mode', reason: deps.daemonProblem ?? 'no daemon client' })

  const baselines: BenchResult[] = []
  for (const b of baselinePhases(baselineSizes(p.quick))) {
    const phase = deps.progress.phase(b.label, 0)
    const got = (await b.run()).map(toHarnessUnits)
    baselines.push(...got)
    phase.finish(got.map((r) => `${r.name} ${formatNumber(r.value)} ${r.unit}`).join(', '))
  }

  const dirs = benchDirs('cairn-bench-')
  const runs: RunReport[] = []
  let scaling: ScalingReport | null = null
  let failedRuns = 0
  // One failing run (a daemon that died, a bug) is reported and the others still run.
  const attempt = async (id: string, run: () => Promise<RunReport>): Promise<RunReport | null> => {
    try {
      return await run()
    } catch (err) {
      failedRuns++
      skipped.push({ what: id, reason: `FAILED: ${(err as Error)?.message ?? String(err)}` })
      return null
    }
  }
  try {
    for (const mode of modes) {
      const open = openers.get(mode)
      if (!open) continue
      let burstRate: number | null = null
      for (const scenario of p.scenarios) {
        const rate = scenario !== 'sustained' ? null
          : p.rate ?? (burstRate !== null ? Math.max(1, Math.round(burstRate * SUSTAINED_FRACTION)) : DEFAULT_SUSTAINED_RATE)
        const id = `${mode}/${scenario}`
        const run = await attempt(id, () => oneRun({ id, mode, scenario, agents: p.agents, threads: p.threads, ops: p.ops, rate }, p, dirs, open, baselines, deps))
        if (run === null) continue
        if (scenario === 'burst') burstRate = run.throughput
        runs.push(run)
      }
    }
    if (p.scaling) {
      const cells: ScalingReport['cells'] = []
      for (const threads of p.scalingThreads) {
        for (const agents of p.scalingAgents) {
          const id = `scaling/t${threads}-a${agents}`
          const run = await attempt(id, () => oneRun({ id, mode: 'embedded', scenario: 'burst', agents, threads, ops: p.ops, rate: null }, p, dirs, openEmbedded, baselines, deps))
          if (run === null) continue
          runs.push(run)
          cells.push({
            threads, agents, runId: id, throughput: run.throughput, p50: run.latencyMs?.p50 ?? null, p99: run.latencyMs?.p99 ?? null,
            cpuPerOpUs: run.cpu.perOpUs, peakRssMiB: run.rss.peakMiB, failed: run.failed,
          })
        }
      }
      scaling = { scenario: 'burst', mode: 'embedded', threads: [...p.scalingThreads], agents: [...p.scalingAgents], opsPerCell: p.ops, cells }
    }
  } finally {
    dirs.cleanup()
  }

  const results = [...baselines, ...runs.flatMap(runResults)]
  const { ratios } = buildReport({ machine: machineNow(), startedAt, params: {}, results })
  const charts = chartsOf(runs, scaling, new Set(scaling?.cells.map((c) => c.runId) ?? []))
  const { mix, ...rest } = p
  const report: HarnessReport = {
    schema: HARNESS_SCHEMA,
    schemaVersion: SCHEMA_VERSION,
    startedAt,
    finishedAt: new Date().toISOString(),
    wallMs: performance.now() - t0,
    machine: machineNow(),
    versions: versions(),
    params: { ...rest, mix },
    baselines,
    runs,
    scaling,
    results,
    ratios,
    skipped,
    files: { markdown: 'bench.md', charts: charts.map((c) => c.file) },
  }
  return { report, charts, failedRuns }
}
