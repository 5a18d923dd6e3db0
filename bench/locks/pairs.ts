/**
 * Scenario 1 of `npm run bench:locks`: local acquire+release pairs per
 * second and per-pair latency, with 1 client and with `pairClients`.
 *
 * Cairn: one runtime, one repository; each client is a repo handle with its
 * own agent, looping `locks.acquire('path:bench/<k>', { autoRenew: false })`
 * then `lease.release()`, both awaited, on a resource of its own, so the
 * clients never contend: what is measured is the LockKeeper's round trip
 * and its durable commit (a grant or release is answered only once its
 * transaction is flushed), batched across clients.
 *
 * Raw: lmdb-js alone (bench/baselines/lmdb-put.ts), as many writers in this
 * process, each awaiting a put of a lease-shaped record under its own key
 * and the flush, then a remove of it and the flush: the two durable writes
 * a pair cannot do without. A Cairn grant also writes the resource's last
 * token, and both halves cross a thread and a state machine each way.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { pack } from 'msgpackr'
import { createRuntime, type Repo } from '../../lib/index.ts'
import { measureDurablePairs } from '../baselines/lmdb-put.ts'
import type { BenchResult } from '../lib/report.ts'
import { LatencyRecorder, ratePerSecond, summarize } from '../lib/stats.ts'
import type { BenchDirs } from './fixture.ts'
import type { LocksParams } from './params.ts'

const GROUP = 'pairs'

/**
 * Result names for `clients` clients.
 * @example pairResultNames(20).rate // 'cairn.locks.pair.20'
 */
export function pairResultNames(clients: number): { rawRate: string; rawLatency: string; rate: string; latency: string } {
  return {
    rawRate: `raw.lmdb.lease-pair.${clients}`,
    rawLatency: `raw.lmdb.lease-pair.${clients}.latency`,
    rate: `cairn.locks.pair.${clients}`,
    latency: `cairn.locks.pair.${clients}.latency`,
  }
}

/** The client counts of the scenario, in run order. */
export function pairClientCounts(p: LocksParams): number[] {
  return p.pairClients === 1 ? [1] : [1, p.pairClients]
}

/** The resource client `k` leases. */
const resourceOf = (k: number): string => `path:bench/${k}`

/** A lease as the LockKeeper stores it (actors/lock-keeper/leases/table.ts). */
function leaseLike(resource: string, token: number, ttlMs: number): Record<string, unknown> {
  const now = Date.now()
  return {
    resource, holder: { actor: randomBytes(16).toString('hex'), session: randomUUID() }, token, ttlMs,
    grantedAt: now, expiresAt: now + ttlMs, heartbeatAt: now,
  }
}

/** The raw side, both client counts. */
export async function runRawPairs(p: LocksParams): Promise<BenchResult[]> {
  const bytes = pack(leaseLike(resourceOf(0), 1, p.pairTtlMs)).byteLength
  const out: BenchResult[] = []
  for (const clients of pairClientCounts(p)) {
    const r = await measureDurablePairs({
      writers: clients, durationMs: p.pairDurationMs, warmupMs: p.pairWarmupMs, maxPairsPerWriter: p.maxPairsPerClient,
      dbName: 'leases', record: (w, i) => [resourceOf(w), leaseLike(resourceOf(w), i + 1, p.pairTtlMs)],
    })
    const names = pairResultNames(clients)
    const tmpfs = r.onTmpfs ? '; WARNING: temp dir is on tmpfs, syncs are free' : ''
    const how = `raw lmdb-js, ${clients} writer(s) each on its own key: await put (${bytes} B msgpack lease-shaped value) + env.flushed, ` +
      'then await remove + env.flushed'
    out.push(
      { name: names.rawRate, group: GROUP, unit: 'pairs/s', value: r.rate,
        note: `${how}; ${r.count} pairs in ${r.elapsedMs.toFixed(0)} ms after ${p.pairWarmupMs} ms warm-up${tmpfs}` },
      { name: names.rawLatency, group: GROUP, unit: 'ms', value: r.latencyMs.p50, p50: r.latencyMs.p50, p99: r.latencyMs.p99,
        note: `per pair, both flushes included; ${how}; n=${r.latencyMs.count} max=${r.latencyMs.max.toFixed(1)} ms` },
    )
  }
  return out
}

interface PairPhase { pairs: number; elapsedMs: number; problems: string[] }

/** `handles.length` clients looping pairs for `durationMs`; checks tokens rise per resource. */
async function pairPhase(handles: readonly Repo[], p: LocksParams, durationMs: number, rec?: LatencyRecorder): Promise<PairPhase> {
  let pairs = 0
  const problems: string[] = []
  const start = performance.now()
  const deadline = start + durationMs
  await Promise.all(handles.map(async (repo, k) => {
    let lastToken = 0
    for (let n = 0; n < p.maxPairsPerClient && performance.now() < deadline; n++) {
      const t0 = performance.now()
      const lease = await repo.locks.acquire(resourceOf(k), { ttlMs: p.pairTtlMs, autoRenew: false })
      await lease.release()
      rec?.record(performance.now() - t0)
      // Fencing: a resource's tokens strictly increase. Cheap to check, and a pair that broke it measures nothing.
      if (!(lease.token > lastToken) && problems.length < 3) problems.push(`${resourceOf(k)} token ${lease.token} after ${lastToken}`)
      lastToken = lease.token
      pairs++
    }
  }))
  return { pairs, elapsedMs: performance.now() - start, problems }
}

/** The Cairn side, both client counts, in a runtime of its own on a fresh repository. */
export async function runCairnPairs(p: LocksParams, dirs: BenchDirs): Promise<BenchResult[]> {
  const rt = await createRuntime({ home: dirs.home('pairs'), threads: p.threads })
  try {
    const path = dirs.repo('pairs')
    const out: BenchResult[] = []
    for (const clients of pairClientCounts(p)) {
      const handles = await Promise.all(Array.from({ length: clients }, (_, k) => rt.repo(path, { agent: `pair-${clients}-${k}` })))
      const warm = await pairPhase(handles, p, p.pairWarmupMs)
      const rec = new LatencyRecorder(65_536)
      const m = await pairPhase(handles, p, p.pairDurationMs, rec)
      const lat = summarize(rec.samples())
      // Every lease was released: nothing may be left in the table.
      const left = (await handles[0]!.locks.list()).length
      const problems = [...warm.problems, ...m.problems, ...(left > 0 ? [`${left} lease(s) left after every release`] : [])]
      const check = problems.length ? `WARNING: ${problems.join('; ')}` : 'tokens rose per resource; lease table empty after'
      const names = pairResultNames(clients)
      const how = `${clients} handle(s) (distinct agents) on one repository, each awaiting acquire('path:bench/<k>', ` +
        `{ ttlMs: ${p.pairTtlMs}, autoRenew: false }) then release() on its own resource (no contention)`
      out.push(
        { name: names.rate, group: GROUP, unit: 'pairs/s', value: ratePerSecond(m.pairs, m.elapsedMs), baseline: names.rawRate,
          note: `${how}; ${m.pairs} pairs in ${m.elapsedMs.toFixed(0)} ms after ${p.pairWarmupMs} ms warm-up (${warm.pairs} pairs); ${check}` },
        { name: names.latency, group: GROUP, unit: 'ms', value: lat.p50, p50: lat.p50, p99: lat.p99, baseline: names.rawLatency,
          note: `per pair, acquire call to release resolved; n=${lat.count} p95=${lat.p95.toFixed(1)} max=${lat.max.toFixed(1)} ms` },
      )
    }
    return out
  } finally {
    await rt.stop()
  }
}
