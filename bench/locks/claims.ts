/**
 * Scenario 2 of `npm run bench:locks`: claimNext throughput and latency with
 * `claimClients` contending clients draining a board of `n` issues, run
 * for each board size of `claimBoards` (1,000 and 10,000).
 *
 * A runtime seeds `n` open, unblocked issues with issues.create on a
 * repository of its own (fixture.ts), then `claimClients` repo handles
 * (distinct agents) each loop `issues.claimNext({ ttlMs, autoRenew: false })`,
 * awaiting every call, until it returns null or the time bound passes
 * (params.ts: the bound is below the TTL, so no lease of the run lapses).
 * Nothing is released: a won issue stays leased, as an agent working on it
 * would hold it, so the last claims pick from a board that is almost all
 * claimed.
 *
 * claims/s is wins over the whole phase (first call to the last client's
 * null); latency is per winning call. The note gives the rate per quarter
 * of the board: a claim must cost the same early and late, and on a large
 * board as on a small one (locks.ts reports the ratio of the two boards).
 * Afterwards the board is read back, and claim-check.ts judges the wins.
 *
 * A claim is one request and one durable block on the repository's thread
 * (lease, AssigneeAdded event and claim record together); its raw line is
 * scenario 1's durable LMDB lease pair (raw.lmdb.lease-pair.20), the
 * storage work a lease needs at the least; locks.ts reports claims/s ÷ its
 * pairs/s as a result of its own (the units differ).
 */
import { createRuntime } from '../../lib/index.ts'
import type { Check } from '../lib/checks.ts'
import type { BenchResult } from '../lib/report.ts'
import { LatencyRecorder, quarterRates, ratePerSecond, summarize } from '../lib/stats.ts'
import { claimChecks, type Win } from './claim-check.ts'
import { seedIssues, type BenchDirs } from './fixture.ts'
import type { LocksParams } from './params.ts'

/**
 * Result names for a board of `n` issues.
 * @example claimResultNames(10_000).rate // 'cairn.issues.claim-next.10000'
 */
export function claimResultNames(n: number): { rate: string; latency: string; p99: string; perRaw: string } {
  return {
    rate: `cairn.issues.claim-next.${n}`, latency: `cairn.issues.claim-next.${n}.latency`, p99: `cairn.issues.claim-next.${n}.p99`,
    perRaw: `cairn.issues.claim-next.${n}.per-raw-pair`,
  }
}

/** The raw line a claim is read against: scenario 1's concurrent durable lease pairs. */
export const CLAIM_BASELINE = 'raw.lmdb.lease-pair.20'

const GROUP = 'claims'

export interface ClaimOutcome {
  results: BenchResult[]
  checks: Check[]
}

/** Seeds a board of `n` issues, claims it dry, reads it back and checks it. */
export async function runClaimScenario(p: LocksParams, dirs: BenchDirs, progress: (msg: string) => void, n: number): Promise<ClaimOutcome> {
  const rt = await createRuntime({ home: dirs.home(`claims-${n}`), threads: p.threads })
  try {
    const path = dirs.repo(`claims-${n}`)
    const seeded = await seedIssues(rt, path, { issues: n, writers: p.seedWriters, timeoutMs: p.seedTimeoutMs })
    const seedNote = `${seeded.ids.length} issues seeded by ${p.seedWriters} writers in ${(seeded.ms / 1000).toFixed(1)} s` +
      (seeded.timedOut ? ' (STOPPED BY THE TIME BOUND: board smaller than asked)' : '')
    progress(seedNote)

    const handles = await Promise.all(Array.from({ length: p.claimClients }, async (_, k) => {
      const agent = `claimer-${k}`
      return { agent, repo: await rt.repo(path, { agent }) }
    }))
    const wins: Win[] = []
    const winTimes: number[] = []
    const rec = new LatencyRecorder(Math.max(1024, seeded.ids.length))
    const nullRec = new LatencyRecorder(p.claimClients)
    let stoppedByBudget = false
    const quarter = Math.max(1, Math.ceil(seeded.ids.length / 4))
    const start = performance.now()
    const deadline = start + p.claimBudgetMs
    await Promise.all(handles.map(async ({ agent, repo }) => {
      // Count bound: a correct claimNext returns null after at most N wins in all; 2N leaves room to see a double win.
      for (let calls = 0; calls <= 2 * seeded.ids.length; calls++) {
        if (performance.now() >= deadline) {
          stoppedByBudget = true
          return
        }
        const t0 = performance.now()
        const won = await repo.issues.claimNext({ ttlMs: p.claimTtlMs, autoRenew: false })
        const t1 = performance.now()
        if (won === null) {
          nullRec.record(t1 - t0)
          return
        }
        rec.record(t1 - t0)
        wins.push({ issueId: won.issue.id, agent, resource: won.lease.resource })
        winTimes.push(t1 - start)
        if (wins.length % quarter === 0) progress(`${wins.length} of ${seeded.ids.length} claimed after ${((t1 - start) / 1000).toFixed(1)} s`)
      }
    }))
    const elapsedMs = performance.now() - start

    const board = new Map((await handles[0]!.repo.issues.list({ state: 'all' })).map((s) => [s.id, s.assignees]))
    const checks = claimChecks({ seeded: seeded.ids, wins, board, stoppedByBudget }).map((c) => ({ ...c, name: `${n} issues: ${c.name}` }))
    if (rec.count === 0) throw new Error(`no claimNext call won an issue (${nullRec.count} returned null)`)
    const lat = summarize(rec.samples())
    const nulls = nullRec.count > 0 ? summarize(nullRec.samples()) : null
    const quarters = quarterRates(winTimes, seeded.ids.length).map((r) => r.toFixed(0)).join(', ')
    const unclaimed = seeded.ids.length - new Set(wins.map((w) => w.issueId)).size
    const bound = stoppedByBudget ? `STOPPED BY THE ${p.claimBudgetMs} ms TIME BOUND with ${unclaimed} issue(s) unclaimed`
      : 'every client ran until claimNext returned null'
    const how = `${p.claimClients} handles (distinct agents) looping claimNext({ ttlMs: ${p.claimTtlMs}, autoRenew: false }) on one board; ${seedNote}`
    const names = claimResultNames(n)
    return {
      checks,
      results: [
        { name: names.rate, group: GROUP, unit: 'claims/s', value: ratePerSecond(wins.length, elapsedMs),
          note: `${how}; ${wins.length} wins in ${elapsedMs.toFixed(0)} ms; claims/s per quarter of the board: ${quarters}; ${bound}` },
        { name: names.latency, group: GROUP, unit: 'ms', value: lat.p50, p50: lat.p50, p99: lat.p99,
          note: `per winning call; n=${lat.count} p95=${lat.p95.toFixed(1)} max=${lat.max.toFixed(1)} ms; ` +
            (nulls ? `${nulls.count} calls returned null, p50 ${nulls.p50.toFixed(1)} ms` : 'no call returned null') },
        { name: names.p99, group: GROUP, unit: 'ms', value: lat.p99, note: 'p99 of a winning call, as its own result so a goal can name it' },
      ],
    }
  } finally {
    await rt.stop()
  }
}
