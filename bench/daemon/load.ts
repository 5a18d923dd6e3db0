/**
 * Closed-loop load over Unix sockets: `clients` connections, each with one
 * request in flight (a new one as soon as the last is answered), for a
 * fixed window after a warm-up. Latency is per request, write to reply.
 * Everything is bounded by the window; a failed request counts as an error,
 * never as a sample.
 */
import { LatencyRecorder, ratePerSecond, summarize, type LatencySummary } from '../lib/stats.ts'

export interface LoadResult { rate: number; latencyMs: LatencySummary; errors: number; completed: number }

export async function closedLoop(clients: number, warmupMs: number, durationMs: number,
  send: (client: number, i: number) => Promise<unknown>): Promise<LoadResult> {
  const rec = new LatencyRecorder(1 << 16)
  let errors = 0
  let completed = 0
  const start = performance.now()
  const measureFrom = start + warmupMs
  const end = measureFrom + durationMs
  const lane = async (c: number): Promise<void> => {
    for (let i = 0; i < 100_000_000; i++) {
      const t0 = performance.now()
      if (t0 >= end) return
      try {
        await send(c, i)
        const t1 = performance.now()
        if (t0 >= measureFrom && t1 <= end) { rec.record(t1 - t0); completed++ }
      } catch {
        errors++
        if (errors > 1000) throw new Error('more than 1000 failed requests; see the daemon log')
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, c) => lane(c)))
  return { rate: ratePerSecond(completed, durationMs), latencyMs: summarize(rec.samples()), errors, completed }
}
