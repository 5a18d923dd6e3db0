/**
 * Line charts as standalone SVG text: data in, string out, no DOM and no
 * dependency, so a chart is tested by value and opens in any browser or
 * markdown viewer. Linear or log axes with round tick values, one polyline
 * (and optionally a marker per point) per series, a legend, and a title.
 *
 * Points that cannot be drawn (non-finite, or ≤ 0 on a log axis) are left
 * out rather than clamped, so a chart never shows a value that was not
 * measured. A chart with nothing to draw says so in its body.
 */

export type Point = readonly [number, number]

export interface Series {
  name: string
  points: readonly Point[]
}

export interface LineChartSpec {
  title: string
  xLabel: string
  yLabel: string
  series: readonly Series[]
  xScale?: 'linear' | 'log'
  yScale?: 'linear' | 'log'
  /** Force the y axis to start at 0 (linear only). Default true. */
  yFromZero?: boolean
  /** Draw a dot at every point (for few points, e.g. a scaling run). */
  markers?: boolean
  width?: number
  height?: number
}

/** Colour-blind-safe palette (Okabe–Ito), cycled by series index. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#999999']

const MARGIN = { top: 40, right: 170, bottom: 50, left: 70 }

/** Escapes text for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/**
 * About `count` round tick values covering [min, max] (steps of 1, 2 or 5 × 10^k).
 * @example linearTicks(0, 100, 5) // [0, 20, 40, 60, 80, 100]
 */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max))) return []
  if (max === min) return [min]
  const raw = (max - min) / Math.max(1, count)
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step, i = 0; v <= max + step * 1e-9 && i < 1000; v += step, i++) out.push(Number(v.toPrecision(12)))
  return out
}

/**
 * Powers of ten covering [min, max] (both > 0), with 2 and 5 multiples when
 * the range spans less than two decades.
 * @example logTicks(1, 1000) // [1, 10, 100, 1000]
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0 && max > 0 && Number.isFinite(min) && Number.isFinite(max))) return []
  const lo = Math.floor(Math.log10(min))
  const hi = Math.ceil(Math.log10(max))
  const fine = hi - lo < 2
  const out: number[] = []
  for (let k = lo; k <= hi && out.length < 100; k++) {
    for (const m of fine ? [1, 2, 5] : [1]) {
      const v = Number((m * 10 ** k).toPrecision(12))
      if (v >= min / 1.0001 && v <= max * 1.0001) out.push(v)
    }
  }
  return out
}

/** Short tick text: 1.5k, 2M, 0.25, 12. */
export function formatTick(v: number): string {
  const a = Math.abs(v)
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`
  if (a === 0) return '0'
  return String(Number(v.toPrecision(3)))
}

interface Axis {
  map(v: number): number
  ticks: number[]
}

function axis(kind: 'linear' | 'log', values: number[], from: number, to: number, fromZero: boolean): Axis {
  if (kind === 'log') {
    let lo = Math.min(...values)
    let hi = Math.max(...values)
    lo = 10 ** Math.floor(Math.log10(lo))
    hi = hi === lo ? lo * 10 : 10 ** Math.ceil(Math.log10(hi))
    const [a, b] = [Math.log10(lo), Math.log10(hi)]
    return { map: (v) => from + ((Math.log10(v) - a) / (b - a)) * (to - from), ticks: logTicks(lo, hi) }
  }
  let lo = fromZero ? Math.min(0, ...values) : Math.min(...values)
  let hi = Math.max(...values)
  if (hi === lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo))
  const ticks = linearTicks(lo, hi)
  lo = Math.min(lo, ticks[0] ?? lo)
  hi = Math.max(hi, ticks[ticks.length - 1] ?? hi)
  return { map: (v) => from + ((v - lo) / (hi - lo)) * (to - from), ticks }
}

const drawable = (kind: 'linear' | 'log', v: number): boolean => Number.isFinite(v) && (kind === 'linear' || v > 0)

/**
 * The chart as an SVG document.
 * @example lineChart({ title: 'ops/s', xLabel: 's', yLabel: 'ops/s', series: [{ name: 'total', points: [[0, 10], [1, 12]] }] })
 */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 720
  const height = spec.height ?? 400
  const xKind = spec.xScale ?? 'linear'
  const yKind = spec.yScale ?? 'linear'
  const series = spec.series.map((s) => ({
    name: s.name,
    points: s.points.filter(([x, y]) => drawable(xKind, x) && drawable(yKind, y)),
  }))
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
  const plot = { x0: MARGIN.left, x1: width - MARGIN.right, y0: height - MARGIN.bottom, y1: MARGIN.top }
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
    `<text x="${(plot.x0 + plot.x1) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text x="16" y="${(plot.y0 + plot.y1) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(plot.y0 + plot.y1) / 2})">${escapeXml(spec.yLabel)}</text>`,
    `<rect x="${plot.x0}" y="${plot.y1}" width="${plot.x1 - plot.x0}" height="${plot.y0 - plot.y1}" fill="none" stroke="#333333"/>`,
  ]
  if (xs.length === 0) {
    out.push(`<text class="no-data" x="${(plot.x0 + plot.x1) / 2}" y="${(plot.y0 + plot.y1) / 2}" text-anchor="middle" fill="#666666">no data</text>`, '</svg>')
    return out.join('\n') + '\n'
  }
  const fx = axis(xKind, xs, plot.x0, plot.x1, false)
  const fy = axis(yKind, ys, plot.y0, plot.y1, spec.yFromZero ?? true)
  const r = (v: number): string => v.toFixed(1)
  for (const t of fx.ticks) {
    const x = fx.map(t)
    out.push(`<line class="grid" x1="${r(x)}" y1="${plot.y1}" x2="${r(x)}" y2="${plot.y0}" stroke="#e5e5e5"/>`,
      `<text x="${r(x)}" y="${plot.y0 + 16}" text-anchor="middle">${formatTick(t)}</text>`)
  }
  for (const t of fy.ticks) {
    const y = fy.map(t)
    out.push(`<line class="grid" x1="${plot.x0}" y1="${r(y)}" x2="${plot.x1}" y2="${r(y)}" stroke="#e5e5e5"/>`,
      `<text x="${plot.x0 - 6}" y="${r(y + 4)}" text-anchor="end">${formatTick(t)}</text>`)
  }
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] as string
    const pts = s.points.map(([x, y]) => `${r(fx.map(x))},${r(fy.map(y))}`)
    if (pts.length > 0) out.push(`<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>`)
    if (spec.markers) for (const p of pts) { const [cx, cy] = p.split(','); out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${colour}"/>`) }
    const ly = MARGIN.top + 10 + i * 18
    out.push(`<line x1="${plot.x1 + 12}" y1="${ly}" x2="${plot.x1 + 32}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
      `<text class="legend" x="${plot.x1 + 38}" y="${ly + 4}">${escapeXml(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
