/**
 * The two timed phases of an echo baseline, over any transport that can send
 * request `id` and hand back decoded replies: one request in flight (round
 * trip), and a window of requests kept in flight (pipelined).
 * Every echo baseline (MessagePort, Unix socket) uses these.
 */
import { performance } from 'node:perf_hooks'
import type { Envelope } from '../../protocol/envelope.ts'
import { LatencyRecorder, ratePerSecond, summarize, type LatencySummary } from './stats.ts'

/** A transport to an echo server. */
export interface EchoTransport {
  /** Sends request `id` (as an envelope with that id). */
  send(id: number): void
  /** Sets the handler every decoded reply goes to (replacing the previous one). */
  onReply(handler: (reply: Envelope) => void): void
}

/** One request, resolved when its reply (matched on `corr`) arrives. */
export function roundTrip(echo: EchoTransport, id: number): Promise<void> {
  return new Promise((resolve, reject) => {
    echo.onReply((reply) => {
      if (reply.corr === id) resolve()
      else reject(new Error(`echo answered ${reply.corr}, expected ${id}`))
    })
    echo.send(id)
  })
}

/**
 * `warmup` untimed then `samples` timed round trips, one at a time; latency in µs.
 * @example const s = await measureRoundTrip(echo, 500, 5000) // s.p50 in µs
 */
export async function measureRoundTrip(echo: EchoTransport, warmup: number, samples: number): Promise<LatencySummary> {
  let id = 1
  for (let i = 0; i < warmup; i++) await roundTrip(echo, id++)
  const rec = new LatencyRecorder(samples)
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now()
    await roundTrip(echo, id++)
    rec.record((performance.now() - t0) * 1000)
  }
  return summarize(rec.samples())
}

/** Replies per second with `window` requests in flight for `durationMs`, counted until the window drains. */
export function measurePipelined(echo: EchoTransport, window: number, durationMs: number): Promise<{ count: number; elapsedMs: number; rate: number }> {
  return new Promise((resolve, reject) => {
    let nextId = 1_000_000_000
    let inFlight = 0
    let count = 0
    const start = performance.now()
    const deadline = start + durationMs
    echo.onReply((reply) => {
      if (reply.corr === undefined) {
        reject(new Error('echo reply without corr'))
        return
      }
      inFlight--
      count++
      if (performance.now() < deadline) {
        inFlight++
        echo.send(nextId++)
      } else if (inFlight === 0) {
        const elapsedMs = performance.now() - start
        resolve({ count, elapsedMs, rate: ratePerSecond(count, elapsedMs) })
      }
    })
    for (let i = 0; i < window; i++) {
      inFlight++
      echo.send(nextId++)
    }
  })
}
