/**
 * A small client for the daemon socket, for the CLI, tests and the bench.
 *
 * @example
 *   import { connect } from 'cairn/lib/daemon/client.ts'
 *   const c = await connect(process.env.CAIRN_HOME!)          // hello done
 *   const issue = await c.request('issues.show', { repo: '/src/app', args: { id: 'ab12' } })
 *   await c.request('events.follow', { repo: '/src/app', args: { fromSeq: 1, limit: 10 } },
 *     { onItem: (e) => console.log(e) })                       // stream, then the end reply
 *   c.close()
 *
 * `request` pipelines: call it many times without awaiting and replies are
 * matched by id. Failures are CairnErrors with the daemon's code; a daemon
 * that is not there is UNAVAILABLE with `details.reason: 'no-daemon'`.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { decode, encodeFramed } from '../../protocol/codec.ts'
import { PROTOCOL_VERSION, REPLY, type DataReplyBody, type Envelope, type ReplyBody } from '../../protocol/envelope.ts'
import { CairnError } from '../../protocol/errors.ts'
import { FrameDecoder } from '../../protocol/framing.ts'
import { daemonPaths } from './paths.ts'
import { DAEMON_ADDRESS, ERROR_FRAME, HELLO, MAX_REPLY_BYTES, REPLY_PART, SOCKET_PROTOCOL, STREAM_CANCEL, STREAM_ITEM, type HelloReply, type RequestBody } from './wire.ts'

export interface RequestOptions {
  /** Receives each stream item of a streaming method, in order. */
  onItem?: (item: unknown) => void
  /** Aborting cancels the request on the daemon (streams end with their reply). */
  signal?: AbortSignal
  /** Local deadline; the request is cancelled on the daemon and fails with TIMEOUT. */
  timeoutMs?: number
}

export interface DaemonClient {
  readonly hello: HelloReply
  request<T = unknown>(method: string, body?: RequestBody, opts?: RequestOptions): Promise<T>
  close(): void
  /** Resolves when the connection is gone (closed by either side). */
  readonly closed: Promise<void>
}

/**
 * One request awaiting its reply. A plain record, and closures only for a
 * request with a timeout or a signal: this runs once per request of every
 * client, and per-request named closures showed up in the bench's profile.
 */
interface Pending {
  resolve(v: unknown): void
  reject(e: unknown): void
  onItem: ((item: unknown) => void) | undefined
  timer: NodeJS.Timeout | undefined
  signal: AbortSignal | undefined
  cancel: (() => void) | undefined
  /** Pieces of a reply too large for one frame, until the last one. */
  parts?: { chunks: Uint8Array[]; bytes: number }
}

/**
 * Connects to the daemon of `home` (or to an explicit socket path) and
 * exchanges the hello. A daemon that speaks only socket protocol 1 (an
 * older Cairn, still running after an upgrade) is spoken to in it.
 */
export async function connect(target: string | { socket: string }, opts: { timeoutMs?: number; client?: string } = {}): Promise<DaemonClient> {
  try {
    return await connectAs(SOCKET_PROTOCOL, target, opts)
  } catch (err) {
    const theirs = err instanceof CairnError && err.code === 'SCHEMA_MISMATCH' ? (err.details as { protocol?: unknown } | undefined)?.protocol : undefined
    if (theirs === 1) return connectAs(1, target, opts)
    throw err
  }
}

async function connectAs(protocol: number, target: string | { socket: string }, opts: { timeoutMs?: number; client?: string }): Promise<DaemonClient> {
  const socketPath = typeof target === 'string' ? daemonPaths(target).socket : target.socket
  const sock = await open(socketPath, opts.timeoutMs ?? 5000)
  const client = new Client(sock, protocol >= 2)
  const helloMs = opts.timeoutMs ?? 5000
  const hello = await client.request<HelloReply>(HELLO, { protocol, client: opts.client ?? 'cairn-client', parts: true } as never, { timeoutMs: helloMs })
    .catch((err: unknown) => {
      client.close()
      // Something accepted the connection and then said nothing: a stopped or hung daemon, not an absent one.
      if (err instanceof CairnError && err.code === 'TIMEOUT') {
        throw new CairnError('TIMEOUT', `the daemon on ${socketPath} accepted the connection but did not answer within ${helloMs} ms`, { reason: 'no-hello' })
      }
      throw err
    })
  client.hello = hello
  return client
}

/** Hello round trip: the daemon's hello, or null when nothing answers in time. */
export async function probe(socketPath: string, timeoutMs = 2000): Promise<HelloReply | null> {
  try {
    const c = await connect({ socket: socketPath }, { timeoutMs, client: 'cairn-probe' })
    c.close()
    return c.hello
  } catch {
    return null
  }
}

function open(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect(path)
    const timer = setTimeout(() => { sock.destroy(); reject(new CairnError('TIMEOUT', `no connection to ${path} within ${timeoutMs} ms`)) }, timeoutMs)
    sock.once('connect', () => { clearTimeout(timer); sock.off('error', onError); resolve(sock) })
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer)
      const noDaemon = err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
      reject(new CairnError('UNAVAILABLE', noDaemon ? `no daemon is listening on ${path}` : `cannot reach the daemon: ${err.message}`, { reason: noDaemon ? 'no-daemon' : err.code }))
    }
    sock.once('error', onError)
  })
}

class Client implements DaemonClient {
  hello!: HelloReply
  readonly closed: Promise<void>
  readonly #sock: Socket
  readonly #decoder = new FrameDecoder()
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #failure: CairnError | null = null
  #corked = false
  /** Replies carry `data` (socket protocol 2) or `value` (1). */
  readonly #data: boolean

  constructor(sock: Socket, data: boolean) {
    this.#sock = sock
    this.#data = data
    sock.setNoDelay(true)
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()))
    sock.on('data', (chunk: Buffer) => this.#onData(chunk))
    sock.on('error', (err) => this.#fail(new CairnError('UNAVAILABLE', `daemon connection failed: ${err.message}`)))
    sock.on('close', () => this.#fail(new CairnError('UNAVAILABLE', 'the daemon closed the connection')))
  }

  request<T>(method: string, body: RequestBody = {}, opts: RequestOptions = {}): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure)
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, onItem: opts.onItem, timer: undefined, signal: undefined, cancel: undefined }
      this.#pending.set(id, p)
      if (opts.timeoutMs !== undefined || opts.signal !== undefined) this.#arm(id, method, p, opts)
      try {
        this.#send({ v: PROTOCOL_VERSION, id, type: method, from: 'client', to: DAEMON_ADDRESS, body })
      } catch (err) {
        this.#pending.delete(id)
        this.#settle(p)
        reject(CairnError.from(err))
      }
    })
  }

  /** Timeout and cancellation of one request: both send a stream.cancel for it. */
  #arm(id: number, method: string, p: Pending, opts: RequestOptions): void {
    const cancel = (): void => { this.#send({ v: PROTOCOL_VERSION, id: this.#nextId++, type: STREAM_CANCEL, from: 'client', to: DAEMON_ADDRESS, body: { corr: id } }) }
    p.cancel = cancel
    if (opts.timeoutMs !== undefined) {
      p.timer = setTimeout(() => {
        if (this.#pending.get(id) !== p) return
        this.#pending.delete(id)
        cancel()
        this.#settle(p)
        p.reject(new CairnError('TIMEOUT', `${method} got no reply within ${opts.timeoutMs} ms`))
      }, opts.timeoutMs)
    }
    if (opts.signal?.aborted) queueMicrotask(cancel)
    else if (opts.signal) {
      p.signal = opts.signal
      opts.signal.addEventListener('abort', cancel, { once: true })
    }
  }

  #settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer)
    if (p.signal && p.cancel) p.signal.removeEventListener('abort', p.cancel)
  }

  close(): void {
    if (this.#sock.destroyed) return
    this.#sock.end()
    this.#sock.destroySoon()
  }

  #send(env: Envelope): void {
    const bytes = encodeFramed(env)
    if (!this.#corked) {
      this.#corked = true
      this.#sock.cork()
      process.nextTick(() => { this.#corked = false; this.#sock.uncork() })
    }
    this.#sock.write(bytes)
  }

  #onData(chunk: Buffer): void {
    let frames: Uint8Array[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (err) {
      this.#fail(CairnError.from(err))
      this.#sock.destroy()
      return
    }
    for (const bytes of frames) {
      let env: Envelope
      try {
        env = decode(bytes)
      } catch (err) {
        this.#fail(CairnError.from(err))
        this.#sock.destroy()
        return
      }
      if (env.type === ERROR_FRAME) {
        this.#fail(CairnError.fromWire(env.body))
        return
      }
      const p = env.corr === undefined ? undefined : this.#pending.get(env.corr)
      if (!p) continue
      if (env.type === STREAM_ITEM) {
        p.onItem?.(env.body)
      } else if (env.type === REPLY) {
        this.#reply(env.corr!, p, env)
      } else if (env.type === REPLY_PART) {
        this.#part(env.corr!, p, env.body)
      }
    }
  }

  #reply(corr: number, p: Pending, env: Envelope): void {
    this.#pending.delete(corr)
    this.#settle(p)
    const body = env.body as ReplyBody | DataReplyBody
    if (body.ok) p.resolve(this.#data ? (body as { data: unknown }).data : (body as { value: unknown }).value)
    else p.reject(CairnError.fromWire(body.error))
  }

  /** Joins the pieces of a reply too large for one frame; the last one makes it a reply. */
  #part(corr: number, p: Pending, body: unknown): void {
    const { bytes, last } = (body ?? {}) as { bytes?: unknown; last?: unknown }
    const fail = (message: string): void => {
      this.#pending.delete(corr)
      this.#settle(p)
      p.reject(new CairnError('INVALID_FORMAT', message))
    }
    if (!(bytes instanceof Uint8Array)) return fail('a reply part without bytes')
    p.parts ??= { chunks: [], bytes: 0 }
    p.parts.chunks.push(bytes)
    p.parts.bytes += bytes.byteLength
    if (p.parts.bytes > MAX_REPLY_BYTES) return fail(`a reply of more than ${MAX_REPLY_BYTES} bytes`)
    if (last !== true) return
    let env: Envelope
    try {
      env = decode(Buffer.concat(p.parts.chunks))
    } catch (err) {
      return fail(`a reply in parts does not decode: ${(err as Error).message}`)
    }
    p.parts = undefined
    if (env.type !== REPLY) return fail('a reply in parts is not a reply')
    this.#reply(corr, p, env)
  }

  #fail(err: CairnError): void {
    this.#failure ??= err
    for (const p of this.#pending.values()) {
      this.#settle(p)
      p.reject(this.#failure)
    }
    this.#pending.clear()
  }
}
