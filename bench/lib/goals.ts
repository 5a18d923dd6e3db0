/**
 * Targets a bench script states up front ("≥ 10,000 acked events/s") and
 * checks against its own results, so a report says plainly whether a goal
 * was met instead of leaving the reader to compare numbers by eye.
 *
 * A goal whose result is missing from the run is reported as not checked
 * (`met: null`), never as met: a phase that failed must not pass silently.
 */
import { formatNumber, type BenchResult } from './report.ts'

/** One target on one result's `value`. */
export interface Goal {
  /** Name of the result the target applies to. */
  result: string
  op: '>=' | '<'
  target: number
  /** Why this target (who claims what), shown next to the verdict. */
  context?: string
}

/** A goal with its verdict, as written into the JSON report. */
export interface GoalCheck extends Goal {
  unit: string | null
  value: number | null
  /** null when the result is not in this run. */
  met: boolean | null
}

/**
 * Checks every goal against the results, in goal order.
 * @example checkGoals([{ result: 'x', op: '<', target: 300 }], results)
 */
export function checkGoals(goals: readonly Goal[], results: readonly BenchResult[]): GoalCheck[] {
  const byName = new Map(results.map((r) => [r.name, r]))
  return goals.map((g) => {
    const r = byName.get(g.result)
    if (!r) return { ...g, unit: null, value: null, met: null }
    const met = g.op === '>=' ? r.value >= g.target : r.value < g.target
    return { ...g, unit: r.unit, value: r.value, met }
  })
}

/** Markdown lines: a heading and one bullet per goal, e.g. `- MET: x = 120 ms (goal < 300 ms)`. */
export function renderGoals(checks: readonly GoalCheck[]): string[] {
  if (checks.length === 0) return []
  const lines = ['### Goals', '']
  for (const c of checks) {
    const verdict = c.met === null ? 'NOT CHECKED' : c.met ? 'MET' : 'MISSED'
    const op = c.op === '>=' ? '≥' : '<'
    const unit = c.unit ?? ''
    const got = c.value === null ? 'no result in this run' : `${formatNumber(c.value)} ${unit}`.trim()
    const context = c.context ? `; ${c.context}` : ''
    lines.push(`- ${verdict}: ${c.result} = ${got} (goal ${op} ${formatNumber(c.target)} ${unit}`.trimEnd() + `${context})`)
  }
  return lines
}
