/**
 * Cairn's side of `npm run bench:core`, measured in the same process right
 * after the raw baselines it is compared with:
 * - round trip main ↔ RepoWorker (a store-backed read), one in flight: µs p50/p99
 *   vs the raw MessagePort echo;
 * - pipelined requests with `window` in flight: msgs/s vs the raw pipelined echo;
 * - acknowledged durable appends with `writesInFlight` in flight: puts/s vs
 *   raw lmdb durable puts (each of ours is journaled, applied, flushed, then acked);
 * - createRuntime() to serving, and idle RSS with the default threads.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime } from '../lib/index.ts'
import { repoHooks } from '../lib/testing/index.ts'
import { LMDB_BASELINES } from './baselines/lmdb-put.ts'
import { PORT_BASELINES } from './baselines/message-port-echo.ts'
import type { CoreParams } from './lib/params.ts'
import type { BenchResult } from './lib/report.ts'
import { LatencyRecorder, ratePerSecond, summarize } from './lib/stats.ts'

async function windowed(durationMs: number, window: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0
  let issued = 0
  const until = performance.now() + durationMs
  const lane = async (): Promise<void> => {
    while (performance.now() < until) {
      await op(issued++)
      done++
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: window }, lane))
  return ratePerSecond(done, performance.now() - t0)
}

export async function runCairnCore(params: CoreParams): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-core-'))
  execFileSync('git', ['init', '-q', join(dir, 'repo')])
  const results: BenchResult[] = []
  try {
    const rss0 = process.memoryUsage().rss
    const t0 = performance.now()
    const runtime = await createRuntime({ home: join(dir, 'home') })
    const bootMs = performance.now() - t0
    const t1 = performance.now()
    // The journaled record log (cairn/testing): the runtime's messaging and durability without the issue board.
    const repo = repoHooks(await runtime.repo(join(dir, 'repo')))
    const openMs = performance.now() - t1
    results.push({ name: 'cairn.boot.create-runtime', group: 'startup', unit: 'ms', value: bootMs, note: 'createRuntime() until serving: the threads start, the first loads the hosting code (from the sources: through tsx)' })
    results.push({ name: 'cairn.boot.open-repo', group: 'startup', unit: 'ms', value: openMs, note: 'first runtime.repo(): store open, reconcile, 3 actors on the first thread' })
    await new Promise((r) => setTimeout(r, 300))
    const status = await runtime.status()
    results.push({ name: 'cairn.idle.rss', group: 'startup', unit: 'MiB', value: process.memoryUsage().rss / 2 ** 20,
      note: `whole process RSS, ${status.threads.length} busy thread(s) of default pool; +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(1)} MiB over the process before createRuntime` })

    const rec = new LatencyRecorder(params.rttSamples)
    for (let i = 0; i < params.rttWarmup; i++) await repo.records.count()
    for (let i = 0; i < params.rttSamples; i++) {
      const s = performance.now()
      await repo.records.count()
      rec.record((performance.now() - s) * 1000)
    }
    const rtt = summarize(rec.samples())
    results.push({ name: 'cairn.actor.round-trip', group: 'messaging', unit: 'µs', value: rtt.p50, p50: rtt.p50, p99: rtt.p99,
      baseline: PORT_BASELINES.roundTrip, note: `records.count() request/reply, ${rtt.count} samples` })

    const pipelined = await windowed(params.durationMs, params.window, () => repo.records.count())
    results.push({ name: 'cairn.actor.pipelined', group: 'messaging', unit: 'msgs/s', value: pipelined,
      baseline: PORT_BASELINES.pipelined, note: `${params.window} requests in flight` })

    const writeRec = new LatencyRecorder(4096)
    const writes = await windowed(params.durationMs, params.writesInFlight, async (i) => {
      const s = performance.now()
      await repo.records.append({ i, payload: 'bench' })
      writeRec.record((performance.now() - s) * 1000)
    })
    const w = summarize(writeRec.samples())
    results.push({ name: 'cairn.repo.durable-append', group: 'storage', unit: 'puts/s', value: writes,
      baseline: LMDB_BASELINES.durable, note: `${params.writesInFlight} in flight; ack after journal + apply commits are flushed` })
    results.push({ name: 'cairn.repo.durable-append.latency', group: 'storage', unit: 'µs', value: w.p50, p50: w.p50, p99: w.p99,
      note: `per append with ${params.writesInFlight} in flight` })
    await runtime.stop()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}
