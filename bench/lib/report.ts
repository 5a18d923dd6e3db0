/**
 * Report of a bench script: one JSON file for machines, one markdown table
 * for people, both from the same list of results.
 *
 * JSON schema `cairn-bench-core/1` (written by `npm run bench:core` to
 * `<out>/core.json`). Other scripts reuse the same document under their own
 * schema name and file name (`bench:issues` writes `cairn-bench-issues/1` to
 * `<out>/issues.json`, adding fields of its own). Fields are only ever added
 * within a schema version; a rename or removal bumps it.
 *
 * ```
 * {
 *   schema: 'cairn-bench-core/1',
 *   machine: { cpus: number, model: string, totalMemGiB: number,
 *              node: string, platform: string, arch: string },
 *   startedAt: string,            // ISO-8601 UTC, when the run began
 *   params: { [name]: number | string | boolean },  // knobs of the run
 *   results: BenchResult[],       // in the order they were measured
 *   ratios: RatioEntry[]          // one per result that names a baseline
 * }
 * ```
 *
 * Ratio direction (see {@link betterOf}): a result whose unit is a rate
 * (ends in `/s`) is higher-is-better and its ratio is Cairn ÷ baseline; any
 * other unit (µs, ms, MiB, ...) is lower-is-better and its ratio is
 * baseline ÷ Cairn. Either way a ratio above 1 means Cairn beats the raw
 * baseline and 1 is parity. `better` on a result overrides the unit rule.
 */
import { cpus, totalmem } from 'node:os'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Schema identifier written into every core.json. */
export const REPORT_SCHEMA = 'cairn-bench-core/1'

/** Which direction is an improvement for a figure. */
export type Better = 'higher' | 'lower'

/** One measured figure. For latencies `value` is the p50. */
export interface BenchResult {
  /** Stable identifier, unique within a run (e.g. `raw.port.rtt`). */
  name: string
  /** Table section, e.g. `messaging`, `storage`. */
  group: string
  /** Unit of `value`, `p50` and `p99`, e.g. `µs`, `msgs/s`. */
  unit: string
  value: number
  p50?: number
  p99?: number
  /** Name of the raw result this one is compared with. */
  baseline?: string
  /** Overrides the unit-based direction rule. */
  better?: Better
  /** Free-form remark shown in JSON only (method, sample count, ...). */
  note?: string
}

/** Comparison of one result with its baseline. */
export interface RatioEntry {
  name: string
  baseline: string
  unit: string
  better: Better
  formula: 'cairn/baseline' | 'baseline/cairn'
  value: number
  baselineValue: number | null
  /** > 1: better than the baseline; null when it cannot be computed. */
  ratio: number | null
  /** Same rule applied to p99, when both sides have one. */
  p99Ratio?: number | null
  /** Why `ratio` is null. */
  problem?: string
}

/** Where the run happened. */
export interface MachineInfo {
  cpus: number
  model: string
  totalMemGiB: number
  node: string
  platform: string
  arch: string
}

/** Knobs of a run (durations, sample counts, window sizes...). */
export type BenchParams = Record<string, number | string | boolean>

/** The whole `core.json` document; `schema` names the script's own schema for other scripts. */
export interface CoreReport {
  schema: string
  machine: MachineInfo
  startedAt: string
  params: BenchParams
  results: BenchResult[]
  ratios: RatioEntry[]
}

/** Describes the current machine. */
export function machineInfo(): MachineInfo {
  const list = cpus()
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 100) / 100,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  }
}

/** Direction of a result: explicit `better`, else rates (`…/s`) are higher-is-better. */
export function betterOf(result: Pick<BenchResult, 'unit' | 'better'>): Better {
  if (result.better) return result.better
  return /\/\s*s(ec)?$/i.test(result.unit.trim()) ? 'higher' : 'lower'
}

/** Ratio oriented so that > 1 favours `value`; null when undefined (non-positive input). */
export function orientedRatio(value: number, baselineValue: number, better: Better): number | null {
  if (!(value > 0) || !(baselineValue > 0) || !Number.isFinite(value) || !Number.isFinite(baselineValue)) return null
  return better === 'higher' ? value / baselineValue : baselineValue / value
}

/** One entry per result that names a baseline, in result order. */
export function computeRatios(results: readonly BenchResult[]): RatioEntry[] {
  const byName = new Map(results.map((r) => [r.name, r]))
  const out: RatioEntry[] = []
  for (const r of results) {
    if (r.baseline === undefined) continue
    const better = betterOf(r)
    const entry: RatioEntry = {
      name: r.name,
      baseline: r.baseline,
      unit: r.unit,
      better,
      formula: better === 'higher' ? 'cairn/baseline' : 'baseline/cairn',
      value: r.value,
      baselineValue: null,
      ratio: null,
    }
    const base = byName.get(r.baseline)
    if (!base) {
      entry.problem = `baseline '${r.baseline}' not in this run`
    } else if (base.unit !== r.unit) {
      entry.baselineValue = base.value
      entry.problem = `unit mismatch: ${r.unit} vs ${base.unit}`
    } else {
      entry.baselineValue = base.value
      entry.ratio = orientedRatio(r.value, base.value, better)
      if (entry.ratio === null) entry.problem = 'ratio undefined for non-positive values'
      if (r.p99 !== undefined && base.p99 !== undefined) entry.p99Ratio = orientedRatio(r.p99, base.p99, better)
    }
    out.push(entry)
  }
  return out
}

/**
 * Checks results and assembles the report. Throws on duplicate names,
 * self-references and non-finite figures, so a broken run never produces a
 * plausible-looking file.
 */
export function buildReport(input: {
  machine: MachineInfo; startedAt: string; params: BenchParams; results: readonly BenchResult[]
  /** Default {@link REPORT_SCHEMA}. */
  schema?: string
}): CoreReport {
  const seen = new Set<string>()
  for (const r of input.results) {
    if (seen.has(r.name)) throw new Error(`duplicate result name '${r.name}'`)
    seen.add(r.name)
    if (r.baseline === r.name) throw new Error(`result '${r.name}' names itself as baseline`)
    for (const key of ['value', 'p50', 'p99'] as const) {
      const v = r[key]
      if (v !== undefined && !Number.isFinite(v)) throw new Error(`result '${r.name}' has non-finite ${key}: ${v}`)
    }
  }
  const results = input.results.map((r) => ({ ...r }))
  return { schema: input.schema ?? REPORT_SCHEMA, machine: input.machine, startedAt: input.startedAt, params: input.params, results, ratios: computeRatios(results) }
}

/**
 * Table order: groups in order of first appearance; within a group each
 * result is followed by the results that use it as their baseline.
 */
export function orderForTable(results: readonly BenchResult[]): BenchResult[] {
  const groups: string[] = []
  for (const r of results) if (!groups.includes(r.group)) groups.push(r.group)
  const out: BenchResult[] = []
  const placed = new Set<BenchResult>()
  const place = (r: BenchResult): void => {
    if (placed.has(r)) return
    placed.add(r)
    out.push(r)
    for (const d of results) if (d.baseline === r.name && d.group === r.group) place(d)
  }
  for (const g of groups) {
    const members = results.filter((r) => r.group === g)
    const names = new Set(members.map((r) => r.name))
    for (const r of members) if (r.baseline === undefined || !names.has(r.baseline)) place(r)
    for (const r of members) place(r) // cycles, if any
  }
  return out
}

/** Column header of the ratio column; states the direction rule. */
export const RATIO_HEADER = 'ratio (rates: Cairn÷baseline; times/sizes: baseline÷Cairn; >1 = Cairn better)'

/** How a script titles its markdown and what it adds below the table. */
export interface MarkdownOptions {
  /** Heading text. Default `Cairn core benchmark`. */
  title?: string
  /** Lines appended after the table (a blank line separates them). */
  footer?: readonly string[]
}

/** Renders the report as markdown (heading, context lines, one table, optional footer). */
export function renderMarkdown(report: CoreReport, opts: MarkdownOptions = {}): string {
  const m = report.machine
  const params = Object.entries(report.params).map(([k, v]) => `${k}=${v}`).join(', ')
  const ratios = new Map(report.ratios.map((r) => [r.name, r]))
  const lines = [
    `## ${opts.title ?? 'Cairn core benchmark'}`,
    '',
    `Machine: ${m.cpus} × ${m.model}, ${m.totalMemGiB} GiB, Node ${m.node}, ${m.platform}-${m.arch}. Started ${report.startedAt}.`,
    '',
    `Params: ${params || '(none)'}.`,
    '',
    `| group | benchmark | value | unit | p50 | p99 | baseline | ${RATIO_HEADER} |`,
    '|---|---|---:|---|---:|---:|---|---:|',
  ]
  for (const r of orderForTable(report.results)) {
    const cells = [r.group, r.name, formatNumber(r.value), r.unit, opt(r.p50), opt(r.p99), r.baseline ?? '', ratioCell(ratios.get(r.name))]
    lines.push(`| ${cells.map(escapeCell).join(' | ')} |`)
  }
  if (opts.footer && opts.footer.length > 0) lines.push('', ...opts.footer)
  return lines.join('\n') + '\n'
}

/** Formats a figure: integers with thousands separators from 100 up, 3 significant digits below. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 100) return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  if (n === 0) return '0'
  return Number(n.toPrecision(3)).toString()
}

/** Text of a ratio cell, e.g. `0.42×`, `0.42× (p99 0.30×)` or `n/a (reason)`. */
export function ratioCell(entry: RatioEntry | undefined): string {
  if (!entry) return ''
  if (entry.ratio === null) return `n/a (${entry.problem ?? 'unknown'})`
  const main = `${entry.ratio.toFixed(2)}×`
  if (entry.p99Ratio === undefined || entry.p99Ratio === null) return main
  return `${main} (p99 ${entry.p99Ratio.toFixed(2)}×)`
}

/**
 * Writes `<outDir>/<name>.json` and `<outDir>/<name>.md` (name default `core`,
 * creating the directory) and returns their paths and the markdown text.
 * The JSON is the report as given, extra fields included.
 */
export async function writeReport(
  outDir: string, report: CoreReport, opts: MarkdownOptions & { name?: string } = {},
): Promise<{ jsonPath: string; mdPath: string; markdown: string }> {
  await mkdir(outDir, { recursive: true })
  const name = opts.name ?? 'core'
  const jsonPath = join(outDir, `${name}.json`)
  const mdPath = join(outDir, `${name}.md`)
  const markdown = renderMarkdown(report, opts)
  await writeFile(jsonPath, JSON.stringify(report, null, 2) + '\n')
  await writeFile(mdPath, markdown)
  return { jsonPath, mdPath, markdown }
}

function opt(n: number | undefined): string {
  return n === undefined ? '' : formatNumber(n)
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}
