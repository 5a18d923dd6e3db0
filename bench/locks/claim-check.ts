/**
 * What the claimNext scenario asserts about its own run (bench/lib/checks.ts):
 * claimNext must never let two callers win the same issue, the board must
 * agree with the wins, and the contending clients should have drained it.
 *
 * Pure: the scenario collects wins and the board, this file judges them.
 */
import type { Check } from '../lib/checks.ts'

/** One non-null claimNext result. */
export interface Win {
  issueId: string
  /** The winning handle's agent name, which claimNext records as the assignee. */
  agent: string
  /** The lease's resource; claimNext leases `issue:<id>`. */
  resource: string
}

export interface ClaimRun {
  /** Ids of the issues seeded for the run, in creation order. */
  seeded: readonly string[]
  wins: readonly Win[]
  /** Assignees of every issue on the board after the run, by id. */
  board: ReadonlyMap<string, readonly string[]>
  /** The time bound stopped the clients before every one saw null. */
  stoppedByBudget: boolean
}

const fmt = (n: number): string => n.toLocaleString('en-US')
const some = (ids: readonly string[]): string => ids.slice(0, 3).join(', ') + (ids.length > 3 ? ', ...' : '')

/**
 * The checks, in report order. Fatal: no issue won twice; every win names a
 * seeded issue and leases exactly `issue:<id>`; the board assigns each
 * issue to its winner alone and leaves the others unassigned. Non-fatal:
 * every seeded issue was won.
 * @example claimChecks({ seeded: ['a'], wins: [{ issueId: 'a', agent: 'c0', resource: 'issue:a' }], board: new Map([['a', ['c0']]]), stoppedByBudget: false })
 */
export function claimChecks(run: ClaimRun): Check[] {
  const winners = new Map<string, string[]>()
  for (const w of run.wins) winners.set(w.issueId, [...(winners.get(w.issueId) ?? []), w.agent])
  const twice = [...winners].filter(([, agents]) => agents.length > 1).map(([id, agents]) => `${id} by ${agents.join(' and ')}`)

  const seeded = new Set(run.seeded)
  const stray = run.wins.filter((w) => !seeded.has(w.issueId) || w.resource !== `issue:${w.issueId}`)
    .map((w) => `${w.issueId} leased as ${w.resource}`)

  const disagree: string[] = []
  for (const id of run.seeded) {
    const assignees = run.board.get(id)
    const expected = winners.get(id) ?? []
    if (assignees === undefined) disagree.push(`${id} missing from the board`)
    else if (assignees.length !== expected.length || assignees.some((a, i) => a !== expected[i])) {
      disagree.push(`${id} assigned to [${assignees.join(', ')}], won by [${expected.join(', ')}]`)
    }
  }

  const n = run.seeded.length
  const wonSeeded = run.seeded.filter((id) => winners.has(id)).length
  const why = run.stoppedByBudget ? '; the time bound stopped the clients first' : '; every client saw null first'
  return [
    { name: 'no issue won twice', fatal: true, pass: twice.length === 0,
      detail: `${fmt(run.wins.length)} wins, ${fmt(winners.size)} distinct issues` + (twice.length ? `; won twice: ${some(twice)}` : '') },
    { name: 'every win is a seeded issue leased as issue:<id>', fatal: true, pass: stray.length === 0,
      detail: stray.length ? `${fmt(stray.length)} not: ${some(stray)}` : `all ${fmt(run.wins.length)}` },
    { name: 'the board assigns each won issue to its winner alone, and no other issue', fatal: true, pass: disagree.length === 0,
      detail: disagree.length ? `${fmt(disagree.length)} of ${fmt(n)} disagree: ${some(disagree)}` : `all ${fmt(n)} issues agree` },
    { name: 'every seeded issue won (wins = distinct = N)', fatal: false, pass: wonSeeded === n && run.wins.length === n,
      detail: `${fmt(wonSeeded)} of N = ${fmt(n)} won${why}` },
  ]
}
