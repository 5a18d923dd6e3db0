/**
 * Raw baseline for Cairn's main ↔ actor messaging: a plain `worker_threads`
 * Worker (bench/baselines/echo-worker.ts) echoing msgpack envelopes over a
 * dedicated MessagePort, with no runtime in between.
 *
 * Each hop does what Cairn does per message: `encode` (exact-size copy,
 * structured-cloned by postMessage), `decode` with envelope validation, and a
 * `reply` envelope back. The request body is small (`{ seq }`), so the figures
 * are dominated by the per-message cost, not by payload size.
 *
 * 1. Round trip: one request in flight at a time; after a warm-up, each of N
 *    requests is timed from postMessage to decoded reply (performance.now).
 * 2. Pipelined: `window` requests kept in flight for `durationMs`; each reply
 *    triggers the next request; the rate counts replies until the window has
 *    drained after the deadline.
 */
import { MessageChannel } from 'node:worker_threads'
import { once } from 'node:events'
import { decode, encode } from '../../protocol/codec.ts'
import { envelope, type Envelope } from '../../protocol/envelope.ts'
import { measurePipelined, measureRoundTrip, roundTrip, type EchoTransport } from '../lib/echo-phases.ts'
import type { BenchResult } from '../lib/report.ts'
import { startTsWorker } from '../lib/ts-worker.ts'
import type { EchoWorkerData } from './echo-worker.ts'

/** Result names of this baseline, for Cairn results to reference as `baseline`. */
export const PORT_BASELINES = {
  roundTrip: 'raw.port.round-trip',
  pipelined: 'raw.port.pipelined',
} as const

/** Knobs of the message-port baseline. */
export interface MessagePortEchoOptions {
  /** Timed round trips (the task asks for 5,000). */
  rttSamples: number
  /** Untimed round trips before timing starts. */
  rttWarmup: number
  /** Requests kept in flight in the pipelined phase. */
  window: number
  /** Length of the pipelined measurement, in ms. */
  durationMs: number
}

const GROUP = 'messaging'
const FROM = 'bench'
const TO = 'echo-worker'

/** Runs both phases against a fresh echo worker and tears it down. */
export async function runMessagePortEcho(opts: MessagePortEchoOptions): Promise<BenchResult[]> {
  const echo = await startEcho()
  try {
    const rtt = await Promise.race([measureRoundTrip(echo, opts.rttWarmup, opts.rttSamples), echo.failed])
    await Promise.race([measurePipelined(echo, opts.window, Math.min(200, opts.durationMs / 4)), echo.failed]) // warm-up, discarded
    const pipe = await Promise.race([measurePipelined(echo, opts.window, opts.durationMs), echo.failed])
    const size = encode(envelope(1, 'echo', FROM, TO, { seq: 1 })).byteLength
    return [
      {
        name: PORT_BASELINES.roundTrip, group: GROUP, unit: 'µs', value: rtt.p50, p50: rtt.p50, p99: rtt.p99,
        note: `raw worker_threads MessagePort, msgpack envelope (${size} B request), 1 in flight; n=${rtt.count} after ${opts.rttWarmup} warm-up; ` +
          `p95=${rtt.p95.toFixed(1)} max=${rtt.max.toFixed(1)} mean=${rtt.mean.toFixed(1)} µs`,
      },
      {
        name: PORT_BASELINES.pipelined, group: GROUP, unit: 'msgs/s', value: pipe.rate,
        note: `raw worker_threads MessagePort, window ${opts.window}; ${pipe.count} round trips in ${pipe.elapsedMs.toFixed(0)} ms`,
      },
    ]
  } finally {
    await echo.stop()
  }
}

interface Echo extends EchoTransport {
  /** Rejects when the worker fails or sends a malformed reply; never resolves. */
  failed: Promise<never>
  stop(): Promise<void>
}

/**
 * Starts the worker, keeping a single 'message' listener on the port for its
 * whole life: adding and removing the last listener stops and restarts a
 * MessagePort, overhead the baseline must not carry.
 */
async function startEcho(): Promise<Echo> {
  const { port1, port2 } = new MessageChannel()
  const data: EchoWorkerData = { port: port2 }
  const worker = startTsWorker(new URL('./echo-worker.ts', import.meta.url), { workerData: data, transferList: [port2] })
  let fail: (err: unknown) => void = () => {}
  const failed = new Promise<never>((_, reject) => { fail = reject })
  failed.catch(() => {}) // observed by the phases that race it
  let handler: (reply: Envelope) => void = () => {}
  port1.on('message', (bytes: Uint8Array) => {
    let reply: Envelope
    try {
      reply = decode(bytes)
    } catch (err) {
      fail(err)
      return
    }
    handler(reply)
  })
  worker.on('error', (err) => fail(err))
  worker.on('exit', (code) => fail(new Error(`echo worker exited (code ${code})`)))
  const echo: Echo = {
    send(id) {
      port1.postMessage(encode(envelope(id, 'echo', FROM, TO, { seq: id })))
    },
    onReply(h) {
      handler = h
    },
    failed,
    async stop() {
      port1.close()
      const exited = once(worker, 'exit')
      const timer = setTimeout(() => void worker.terminate(), 2000)
      try {
        await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
  try {
    await Promise.race([roundTrip(echo, 0), failed]) // the first echo proves the thread is up
  } catch (err) {
    port1.close()
    await worker.terminate()
    throw err
  }
  return echo
}

