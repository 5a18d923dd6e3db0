/**
 * Scenario 3 of `npm run bench:issues`: open-to-serving time of a repository
 * holding the large population of list.ts (100k events in a full run).
 *
 * Open-to-serving is `createRuntime()` plus the first `rt.repo(path)` in a
 * fresh runtime (a new pool: threads spawn, load the host, open the store,
 * reconcile, start three actors, resolve the handle's identity). Each
 * variant runs `openRepeats` times (fewer if `repeatBudgetMs` runs out; the
 * notes list every run) and reports the nearest-rank median:
 * - snapshot: the projection checkpoint is current, nothing is replayed;
 * - rebuild: the checkpoint was removed beforehand, so the open folds every
 *   projection again from the event log (actors/repo-worker/store/rebuild.ts);
 *   the rebuild's own `projections.ms` is reported too;
 * - empty: a repository without events, for the fixed part of an open.
 * Stopping each runtime is not timed. The OS page cache is warm throughout.
 *
 * Raw baselines, in this process: a worker thread that opens the store and
 * reads the checkpoint and the last seq (open-worker.ts), for the open; and
 * the rebuild's read pattern alone (per-issue index in order, each event
 * fetched from the log, decoded) without folding or writing, for the rebuild.
 */
import { once } from 'node:events'
import { createRuntime } from '../../lib/index.ts'
import { repeatBounded } from '../lib/bounded.ts'
import type { BenchResult } from '../lib/report.ts'
import { percentile } from '../lib/stats.ts'
import { startTsWorker } from '../lib/ts-worker.ts'
import { seqOf, type IssueIndexValue } from '../../actors/repo-worker/store/dbs.ts'
import { describePopulation, dropProjectionCheckpoint, openStoreEnv, storeDir, type BenchDirs, type Population } from './fixture.ts'
import type { OpenWorkerData, OpenWorkerReply } from './open-worker.ts'
import type { IssuesParams } from './params.ts'

/** Result names of this scenario. */
export const OPEN_RESULTS = {
  rawOpen: 'raw.worker.open-store',
  snapshot: 'cairn.issues.open.snapshot',
  empty: 'cairn.issues.open.empty',
  rebuildOpen: 'cairn.issues.open.rebuild',
  rawRebuild: 'raw.lmdb.rebuild-read',
  rebuild: 'cairn.issues.rebuild.projections',
} as const

const GROUP = 'open'

interface OpenRun {
  ms: number
  rebuilt: boolean
  rebuildMs: number
  replayed: number
  reason: string | null
  events: number
  firstListMs: number
}

async function timedOpen(home: string, repoPath: string, threads: number): Promise<OpenRun> {
  const t0 = performance.now()
  const rt = await createRuntime({ home, threads })
  try {
    const repo = await rt.repo(repoPath)
    const ms = performance.now() - t0
    const proj = rt.reconciliation.repos[0]?.projections
    if (!proj) throw new Error('the runtime reported no reconciliation for the repository it opened')
    const t1 = performance.now()
    await repo.issues.list({ state: 'open' })
    const firstListMs = performance.now() - t1
    const { events } = await repo.events.stats()
    return { ms, rebuilt: proj.rebuilt, rebuildMs: proj.ms, replayed: proj.events, reason: proj.reason, events, firstListMs }
  } finally {
    await rt.stop()
  }
}

async function rawWorkerOpen(repoPath: string): Promise<{ ms: number; reply: OpenWorkerReply }> {
  const data: OpenWorkerData = { storeDir: storeDir(repoPath) }
  const t0 = performance.now()
  const worker = startTsWorker(new URL('./open-worker.ts', import.meta.url), { workerData: data })
  const exited = once(worker, 'exit')
  try {
    const [reply] = (await Promise.race([once(worker, 'message'), exited.then(() => { throw new Error('open worker exited without replying') })])) as [OpenWorkerReply]
    return { ms: performance.now() - t0, reply }
  } finally {
    await exited
  }
}

async function rawRebuildRead(repoPath: string): Promise<{ ms: number; events: number }> {
  const env = openStoreEnv(repoPath)
  try {
    const byIssue = env.openDB({ name: 'issue-events' })
    const log = env.openDB({ name: 'event-log', keyEncoding: 'uint32' })
    const t0 = performance.now()
    let events = 0
    for (const { value } of byIssue.getRange({})) if (log.get(seqOf(value as IssueIndexValue)) !== undefined) events++
    return { ms: performance.now() - t0, events }
  } finally {
    await env.close()
  }
}

const median = (xs: readonly number[]): number => percentile(xs, 50)
const list = (xs: readonly number[]): string => xs.map((x) => x.toFixed(0)).join(', ')

/** Measures every variant on `repoPath` (populated, no runtime open) and an empty repository. */
export async function runOpenScenario(p: IssuesParams, dirs: BenchDirs, repoPath: string, pop: Population): Promise<BenchResult[]> {
  const home = dirs.home('open')
  const repeat = <T>(times: number, run: () => Promise<T>): Promise<T[]> => repeatBounded(times, p.repeatBudgetMs, run)
  const raw = await repeat(p.openRepeats, () => rawWorkerOpen(repoPath))
  const snap = await repeat(p.openRepeats, () => timedOpen(home, repoPath, p.threads))
  const emptyRepo = dirs.repo('open-empty')
  const empty = await repeat(p.openRepeats, () => timedOpen(home, emptyRepo, p.threads))
  const rawRead = await repeat(p.openRepeats, () => rawRebuildRead(repoPath))
  const rebuild = await repeat(p.openRepeats, async () => {
    await dropProjectionCheckpoint(repoPath)
    return timedOpen(home, repoPath, p.threads)
  })
  const problems: string[] = []
  if (snap.some((r) => r.rebuilt)) problems.push('a snapshot open rebuilt its projections')
  if (rebuild.some((r) => !r.rebuilt)) problems.push('a rebuild open did not rebuild')
  if (raw.some((r) => r.reply.lastSeq !== snap[0]?.events)) problems.push(`raw worker saw last seq ${raw[0]?.reply.lastSeq}, log holds ${snap[0]?.events} events`)
  const warn = problems.length ? `; WARNING: ${problems.join('; ')}` : ''
  const events = snap[0]?.events ?? 0
  const size = `${events.toLocaleString('en-US')} events (${describePopulation(pop)})`
  const runs = (rs: readonly OpenRun[]): string => `runs ${list(rs.map((r) => r.ms))} ms; first list after open median ${median(rs.map((r) => r.firstListMs)).toFixed(0)} ms`
  return [
    { name: OPEN_RESULTS.rawOpen, group: GROUP, unit: 'ms', value: median(raw.map((r) => r.ms)),
      note: `raw: new worker thread (tsx-loaded module) opens the store, reads checkpoint and last seq, replies; median of ${list(raw.map((r) => r.ms))} ms` },
    { name: OPEN_RESULTS.snapshot, group: GROUP, unit: 'ms', value: median(snap.map((r) => r.ms)), baseline: OPEN_RESULTS.rawOpen,
      note: `createRuntime({ threads: ${p.threads} }) + rt.repo(path), projection checkpoint current, ${size}; ${runs(snap)}${warn}` },
    { name: OPEN_RESULTS.empty, group: GROUP, unit: 'ms', value: median(empty.map((r) => r.ms)),
      note: `same on an empty repository (fixed cost of an open); ${runs(empty)}` },
    { name: OPEN_RESULTS.rebuildOpen, group: GROUP, unit: 'ms', value: median(rebuild.map((r) => r.ms)),
      note: `same after removing the 'projection' checkpoint: every projection rebuilt before serving (${rebuild[0]?.replayed ?? 0} events replayed, ` +
        `reason "${rebuild[0]?.reason ?? ''}"); ${runs(rebuild)}${warn}` },
    { name: OPEN_RESULTS.rawRebuild, group: GROUP, unit: 'ms', value: median(rawRead.map((r) => r.ms)),
      note: `raw lmdb-js in this thread: the rebuild's reads only (issue-events in order, each event from event-log, decoded; ${rawRead[0]?.events ?? 0} events), ` +
        `no fold, no writes; median of ${list(rawRead.map((r) => r.ms))} ms` },
    { name: OPEN_RESULTS.rebuild, group: GROUP, unit: 'ms', value: median(rebuild.map((r) => r.rebuildMs)), baseline: OPEN_RESULTS.rawRebuild,
      note: `the rebuild's own projections.ms from rt.reconciliation (fold + clear + rewrite + flush); runs ${list(rebuild.map((r) => r.rebuildMs))} ms` },
  ]
}
