/**
 * Scenario 2 of `npm run bench:issues`: `issues.list` latency at two board
 * sizes, and the population the open scenario reuses.
 *
 * One runtime populates both repositories through the API (fixture.ts), then
 * times `listCalls` calls of `issues.list({ state: 'open' })` per size after
 * `listWarmup` untimed ones (fewer if `repeatBudgetMs` runs out; `n=` in the
 * note says how many). The first call of a size is reported apart:
 * it loads every projection from the store into the RepoWorker's cache.
 *
 * Raw, after that runtime has stopped: this thread opens the same store and
 * times reading and decoding every record of the same `issues` database
 * (the same records, full projections) with one `getRange`, as many times.
 */
import { createRuntime, type Repo } from '../../lib/index.ts'
import type { BenchResult } from '../lib/report.ts'
import { repeatBounded } from '../lib/bounded.ts'
import { LatencyRecorder, summarize, type LatencySummary } from '../lib/stats.ts'
import { describePopulation, openStoreEnv, populate, type BenchDirs, type Population } from './fixture.ts'
import type { IssuesParams } from './params.ts'

const GROUP = 'list'

/** Result names of one board size, e.g. `cairn.issues.list.10k`. */
export function listResultNames(issues: number): { raw: string; cairn: string } {
  const size = issues % 1000 === 0 ? `${issues / 1000}k` : String(issues)
  return { raw: `raw.lmdb.range-decode.${size}`, cairn: `cairn.issues.list.${size}` }
}

/** What the open scenario needs from this one. */
export interface ListOutcome {
  results: BenchResult[]
  /** The large repository, populated and closed. */
  largeRepo: string
  largePopulation: Population
}

interface Timed { summary: LatencySummary; count: number }

async function timeCalls(p: IssuesParams, once: () => Promise<number> | number): Promise<Timed> {
  let count = 0
  await repeatBounded(p.listWarmup, p.repeatBudgetMs, async () => { count = await once() })
  const rec = new LatencyRecorder(p.listCalls)
  await repeatBounded(p.listCalls, p.repeatBudgetMs, async () => {
    const t0 = performance.now()
    count = await once()
    rec.record(performance.now() - t0)
  })
  return { summary: summarize(rec.samples()), count }
}

async function timeList(repo: Repo, p: IssuesParams): Promise<Timed & { firstMs: number }> {
  const t0 = performance.now()
  await repo.issues.list({ state: 'open' })
  const firstMs = performance.now() - t0
  const timed = await timeCalls(p, async () => (await repo.issues.list({ state: 'open' })).length)
  return { ...timed, firstMs }
}

/** Reads and decodes every projection of the store, `calls` times, in this thread. */
async function timeRawRange(repoPath: string, p: IssuesParams): Promise<Timed> {
  const env = openStoreEnv(repoPath)
  try {
    const issues = env.openDB({ name: 'issues' })
    return await timeCalls(p, () => {
      const out: unknown[] = []
      for (const { value } of issues.getRange({})) out.push(value)
      return out.length
    })
  } finally {
    await env.close()
  }
}

const stats = (t: Timed): string => `n=${t.summary.count} p95=${t.summary.p95.toFixed(2)} max=${t.summary.max.toFixed(2)} ms`

/** Populates, measures both sizes on both sides, and hands the large repository on. */
export async function runListScenario(p: IssuesParams, dirs: BenchDirs, progress: (msg: string) => void): Promise<ListOutcome> {
  const sizes = [p.listSmall, p.listLarge]
  const repos = sizes.map((n) => dirs.repo(`list-${n}`))
  const pops: Population[] = []
  const lists: (Timed & { firstMs: number })[] = []
  const rt = await createRuntime({ home: dirs.home('list'), threads: p.threads })
  try {
    for (const [i, n] of sizes.entries()) {
      const pop = await populate(rt, repos[i] as string, {
        issues: n, eventsPerIssue: p.eventsPerIssue, writers: p.populateWriters, timeoutMs: p.populateTimeoutMs, commentChars: p.commentChars,
      })
      progress(`populated ${describePopulation(pop)}`)
      pops.push(pop)
    }
    for (const path of repos) lists.push(await timeList(await rt.repo(path, { agent: 'reader' }), p))
  } finally {
    await rt.stop()
  }
  const results: BenchResult[] = []
  for (const [i, n] of sizes.entries()) {
    const raw = await timeRawRange(repos[i] as string, p)
    const list = lists[i] as Timed & { firstMs: number }
    const pop = pops[i] as Population
    const names = listResultNames(n)
    const mismatch = raw.count === list.count ? '' : `; WARNING: raw read ${raw.count} records, list returned ${list.count}`
    results.push(
      { name: names.raw, group: GROUP, unit: 'ms', value: raw.summary.p50, p50: raw.summary.p50, p99: raw.summary.p99,
        note: `raw lmdb-js in this thread: one getRange over the store's 'issues' db, every value decoded (${raw.count} projections); ` +
          `${p.listWarmup} warm-up; ${stats(raw)}` },
      { name: names.cairn, group: GROUP, unit: 'ms', value: list.summary.p50, p50: list.summary.p50, p99: list.summary.p99, baseline: names.raw,
        note: `issues.list({ state: 'open' }) returning ${list.count} summaries; ${describePopulation(pop)}; first call ` +
          `(loads the projection cache) ${list.firstMs.toFixed(1)} ms, then ${p.listWarmup} warm-up; ${stats(list)}${mismatch}` },
    )
  }
  return { results, largeRepo: repos[1] as string, largePopulation: pops[1] as Population }
}
