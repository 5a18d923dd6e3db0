/**
 * Raw baseline for the daemon's transport: a plain `node:net` echo server in
 * a child process (unix-socket-echo-server.ts) on a Unix socket in a fresh
 * temporary directory, answering framed msgpack envelopes, with no runtime
 * behind it. Local only: nothing listens on TCP.
 *
 * 1. Round trip: one request in flight; after a warm-up each of N requests
 *    is timed from write to decoded reply.
 * 2. Pipelined: `window` requests kept in flight for `durationMs`; the rate
 *    counts replies until the window has drained after the deadline.
 *
 * Same phases and result units as message-port-echo.ts, so the two
 * transports, and Cairn over each, read side by side.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode, encode } from '../../protocol/codec.ts'
import { envelope, type Envelope } from '../../protocol/envelope.ts'
import { FrameDecoder, frame } from '../../protocol/framing.ts'
import { measurePipelined, measureRoundTrip, type EchoTransport } from '../lib/echo-phases.ts'
import type { BenchResult } from '../lib/report.ts'
import { stopChild } from '../lib/child.ts'
import type { MessagePortEchoOptions } from './message-port-echo.ts'

/** Result names of this baseline, for Cairn results to reference as `baseline`. */
export const SOCKET_BASELINES = {
  roundTrip: 'raw.socket.round-trip',
  pipelined: 'raw.socket.pipelined',
} as const

export type UnixSocketEchoOptions = MessagePortEchoOptions

const GROUP = 'messaging'
/** How long the server may take to start listening (tsx compiles it first). */
const START_TIMEOUT_MS = 20_000

interface Echo extends EchoTransport {
  /** Rejects when the server dies or the connection breaks; never resolves. */
  failed: Promise<never>
}

/** Starts the server, runs both phases, stops the server and removes its directory. */
export async function runUnixSocketEcho(opts: UnixSocketEchoOptions): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-sock-'))
  const path = join(dir, 'echo.sock')
  const server = fork(fileURLToPath(new URL('./unix-socket-echo-server.ts', import.meta.url)), [path], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  let socket: Socket | undefined
  try {
    await startServer(server)
    socket = connect(path)
    socket.setNoDelay(true)
    await once(socket, 'connect')
    const echo = client(socket, server)
    const rtt = await Promise.race([measureRoundTrip(echo, opts.rttWarmup, opts.rttSamples), echo.failed])
    await Promise.race([measurePipelined(echo, opts.window, Math.min(200, opts.durationMs / 4)), echo.failed]) // warm-up, discarded
    const pipe = await Promise.race([measurePipelined(echo, opts.window, opts.durationMs), echo.failed])
    const size = frame(encode(envelope(1, 'echo', 'bench', 'echo-server', { seq: 1 }))).byteLength
    return [
      {
        name: SOCKET_BASELINES.roundTrip, group: GROUP, unit: 'µs', value: rtt.p50, p50: rtt.p50, p99: rtt.p99,
        note: `raw node:net Unix socket to a child process, framed msgpack envelope (${size} B request), 1 in flight; ` +
          `n=${rtt.count} after ${opts.rttWarmup} warm-up; p95=${rtt.p95.toFixed(1)} max=${rtt.max.toFixed(1)} µs`,
      },
      {
        name: SOCKET_BASELINES.pipelined, group: GROUP, unit: 'msgs/s', value: pipe.rate,
        note: `raw node:net Unix socket to a child process, window ${opts.window}; ${pipe.count} round trips in ${pipe.elapsedMs.toFixed(0)} ms`,
      },
    ]
  } finally {
    socket?.destroy()
    await stopChild(server, 2000)
    await rm(dir, { recursive: true, force: true })
  }
}

async function startServer(server: ChildProcess): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      once(server, 'message'),
      once(server, 'exit').then(([code]) => { throw new Error(`echo server exited before listening (code ${code})`) }),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('echo server did not listen in time')), START_TIMEOUT_MS) }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** One 'data' listener for the socket's whole life; phases swap the reply handler. */
function client(socket: Socket, server: ChildProcess): Echo {
  let fail: (err: unknown) => void = () => {}
  const failed = new Promise<never>((_, reject) => { fail = reject })
  failed.catch(() => {}) // observed by the phases that race it
  let handler: (reply: Envelope) => void = () => {}
  const frames = new FrameDecoder()
  socket.on('data', (chunk: Buffer) => {
    try {
      for (const bytes of frames.push(chunk)) handler(decode(bytes))
    } catch (err) {
      fail(err)
    }
  })
  socket.on('error', (err) => fail(err))
  socket.on('close', () => fail(new Error('echo connection closed')))
  server.on('exit', (code) => fail(new Error(`echo server exited (code ${code})`)))
  return {
    send: (id) => { socket.write(frame(encode(envelope(id, 'echo', 'bench', 'echo-server', { seq: id })))) },
    onReply: (h) => { handler = h },
    failed,
  }
}
