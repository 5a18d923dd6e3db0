/**
 * A TCP proxy on 127.0.0.1 that delays every chunk by a fixed time in each
 * direction: network latency for tests and benches (the kernel here has no
 * netem). Order is kept per direction; half-closes are forwarded after the
 * data before them (both sides stay half-open until each has ended);
 * stop() ends every connection. Each direction buffers at
 * most MAX_QUEUED bytes before it pauses its source (backpressure, bounded
 * memory).
 *
 * @example
 *   const daemon = await startGitDaemon(dir)
 *   const slow = await startDelayProxy({ port: daemon.port, delayMs: 20 })
 *   await repo.sync({ remote: `git://127.0.0.1:${slow.port}/remote.git` }) // +40 ms per round trip
 */
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'

const MAX_QUEUED = 8 * 1024 * 1024

export interface DelayProxy {
  port: number
  delayMs: number
  /** Connections accepted so far. */
  connections(): number
  /** Bytes forwarded so far, per direction. */
  bytes(): { up: number; down: number }
  stop(): Promise<void>
}

/** One direction: chunks leave `delayMs` after they arrived, in order. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number, count: (n: number) => void): void {
  const queue: { at: number; chunk: Buffer | null }[] = []
  let queued = 0
  let timer: NodeJS.Timeout | null = null
  const flush = (): void => {
    timer = null
    const now = Date.now()
    while (queue.length > 0 && (queue[0] as { at: number }).at <= now) {
      const { chunk } = queue.shift() as { at: number; chunk: Buffer | null }
      if (chunk === null) {
        to.end()
        continue
      }
      queued -= chunk.length
      if (!to.destroyed) to.write(chunk)
      count(chunk.length)
    }
    if (queued < MAX_QUEUED && from.isPaused()) from.resume()
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, (queue[0] as { at: number }).at - Date.now()))
  }
  const push = (chunk: Buffer | null): void => {
    queue.push({ at: Date.now() + delayMs, chunk })
    if (chunk) {
      queued += chunk.length
      if (queued >= MAX_QUEUED) from.pause()
    }
    if (timer === null) timer = setTimeout(flush, delayMs)
  }
  from.on('data', (chunk: Buffer) => push(chunk))
  from.on('end', () => push(null))
  from.on('close', () => { if (timer && to.destroyed) clearTimeout(timer) })
}

/**
 * Listens on a free port of 127.0.0.1 and forwards to 127.0.0.1:`port`
 * (or `host`), each direction delayed by `delayMs`.
 */
export async function startDelayProxy(opts: { port: number; host?: string; delayMs: number }): Promise<DelayProxy> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const bytes = { up: 0, down: 0 }
  // Half-open on both sides: a peer that has finished sending (git's client after its last
  // request) must still receive the answer; each end travels, delayed, after the data before it.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    accepted++
    const upstream = connect({ port: opts.port, host: opts.host ?? '127.0.0.1', allowHalfOpen: true })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      // Either side failing ends the pair; a reset is a normal way for a peer to leave.
      s.on('error', () => { client.destroy(); upstream.destroy() })
    }
    pipeDelayed(client, upstream, opts.delayMs, (n) => { bytes.up += n })
    pipeDelayed(upstream, client, opts.delayMs, (n) => { bytes.down += n })
    client.resume()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  let stopped: Promise<void> | null = null
  return {
    port: (server.address() as { port: number }).port,
    delayMs: opts.delayMs,
    connections: () => accepted,
    bytes: () => ({ ...bytes }),
    stop: () => {
      stopped ??= (async () => {
        const closed = once(server, 'close')
        server.close()
        for (const s of sockets) s.destroy()
        await closed
      })()
      return stopped
    },
  }
}
