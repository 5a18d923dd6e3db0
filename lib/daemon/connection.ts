/**
 * One client connection of the daemon: framing, the hello, pipelined
 * requests, streams and every way a peer can misbehave.
 *
 * Invariants:
 * - Before the hello nothing is served; a first frame that is not a hello of
 *   our protocol version gets an `error` frame SCHEMA_MISMATCH and a close.
 * - Every well-formed request gets exactly one reply (stream items first).
 * - A frame we cannot answer (oversized, truncated, undecodable, not an
 *   envelope) ends the reading: requests accepted before it are answered,
 *   then one `error` frame is sent and this connection is closed; nothing
 *   it did can reach the daemon or another connection.
 * - Nothing a peer sends can throw out of this class: a handler's failure
 *   closes this connection with a coded error frame; echoes of the peer's
 *   values are cut short and an error too large for a frame is sent without
 *   its details, so no error path can itself fail.
 * - Memory per connection is bounded: one frame (MAX_FRAME_BYTES) being
 *   assembled, at most MAX_INFLIGHT requests (reading pauses beyond), and
 *   reading also pauses while more than WRITE_HIGH_WATER bytes of replies
 *   wait for a slow reader.
 */
import type { Socket } from 'node:net'
import { decodeUntrusted, encode, EncodedValue, encodeValue, encodeFramed, encodeFramedReply, encodeReplyBytes } from '../../protocol/codec.ts'
import { PROTOCOL_VERSION, replyData, replyError, replyOk, type Envelope } from '../../protocol/envelope.ts'
import { CairnError } from '../../protocol/errors.ts'
import { frame, FrameDecoder } from '../../protocol/framing.ts'
import { boundedError, echo } from './bounded-error.ts'
import { DAEMON_ADDRESS, errorFrame, HELLO, MAX_REPLY_BYTES, REPLY_PART, REPLY_PART_BYTES, SOCKET_PROTOCOL, SOCKET_PROTOCOLS, STREAM_CANCEL, STREAM_ITEM, type HelloReply } from './wire.ts'

const MAX_INFLIGHT = 256
const WRITE_HIGH_WATER = 4 * 1024 * 1024
/** A peer has this long to say hello, and to finish a frame it started. */
const HELLO_TIMEOUT_MS = 10_000
const PARTIAL_FRAME_TIMEOUT_MS = 30_000
/** After an error frame, how long a peer that does not read may keep the socket. */
const CLOSE_GRACE_MS = 2_000

export interface RequestContext {
  signal: AbortSignal
  emit(item: unknown): Promise<void>
}

export interface ConnectionHost {
  hello(): HelloReply
  /** The request's answer: a value, or one already encoded (sent as is). */
  dispatch(req: Envelope, ctx: RequestContext): Promise<unknown>
  /** A request started or ended (for the idle timer). */
  activity(): void
}

/**
 * One request's cancellation. Its AbortController is made only when someone
 * asks for the signal: most requests finish without anybody listening, and
 * a controller per request was a measurable share of a read's cost.
 */
class Cancel {
  #control: AbortController | null = null
  #reason: unknown = undefined
  #aborted = false

  get signal(): AbortSignal {
    if (this.#control === null) {
      this.#control = new AbortController()
      if (this.#aborted) this.#control.abort(this.#reason)
    }
    return this.#control.signal
  }

  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#control?.abort(reason)
  }
}

export class Connection {
  readonly #sock: Socket
  readonly #host: ConnectionHost
  readonly #decoder = new FrameDecoder()
  readonly #streams = new Map<number, Cancel>()
  readonly #inflightSignals = new Set<Cancel>()
  #greeted = false
  /** The socket protocol the hello chose: 1 replies with `value`, 2 with `data`. */
  #protocol = SOCKET_PROTOCOL
  /** The hello said the client joins `reply.part` frames. */
  #parts = false
  #closing = false
  #peerEnded = false
  #inflight = 0
  #paused = false
  #nextId = 1
  #corked = false
  #helloTimer: NodeJS.Timeout | null
  #partialTimer: NodeJS.Timeout | null = null
  readonly closed: Promise<void>

  constructor(sock: Socket, host: ConnectionHost) {
    this.#sock = sock
    this.#host = host
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()))
    sock.on('data', (chunk: Buffer) => this.#onData(chunk))
    sock.on('end', () => this.#onEnd())
    sock.on('error', () => undefined) // a reset peer is only a closed connection
    sock.on('close', () => this.#onClose())
    sock.on('drain', () => this.#maybeResume())
    this.#helloTimer = setTimeout(() => this.fail(new CairnError('TIMEOUT', 'no hello within 10 s')), HELLO_TIMEOUT_MS)
    this.#helloTimer.unref()
  }

  get inflight(): number {
    return this.#inflight
  }

  /** Sends one coded error frame and closes this connection (idempotent, never throws). */
  fail(err: CairnError): void {
    if (this.#closing) return
    this.#closing = true
    this.#clearTimers()
    this.#abortAll()
    if (!this.#sock.destroyed) {
      try {
        this.#write(encode(errorFrame(boundedError(err).toWire())))
        this.#sock.end()
        setTimeout(() => this.#sock.destroy(), CLOSE_GRACE_MS).unref()
      } catch {
        this.#sock.destroy()
      }
    }
  }

  /** Ends the connection once in-flight requests have been answered. */
  async drain(): Promise<void> {
    // Requests still arriving are answered STOPPED by the host; keep reading
    // so the peer's end of stream is seen and the socket can close.
    for (const c of this.#streams.values()) c.abort(new CairnError('STOPPED', 'the daemon is stopping'))
    for (let i = 0; i < 6000 && this.#inflight > 0 && !this.#sock.destroyed; i++) await new Promise((r) => setTimeout(r, 5))
    this.#closing = true
    this.#clearTimers()
    this.#sock.end()
    setTimeout(() => this.#sock.destroy(), CLOSE_GRACE_MS).unref()
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return
    try {
      const { frames, error } = this.#decoder.read(chunk)
      for (const bytes of frames) {
        if (this.#closing) return
        this.#onFrame(bytes)
      }
      if (error) this.#failAfterInflight(error)
      else this.#watchPartial()
    } catch (err) {
      // A bug in handling one peer's bytes ends that peer's connection, not the daemon.
      if (this.#closing) this.#sock.destroy()
      else this.fail(CairnError.from(err))
    }
  }

  /**
   * A broken stream: read nothing more, answer what was already accepted
   * (bounded wait), then send the error frame and close.
   */
  #failAfterInflight(err: CairnError): void {
    if (this.#closing) return
    this.#closing = true
    this.#clearTimers()
    void (async () => {
      for (let i = 0; i < 6000 && this.#inflight > 0 && !this.#sock.destroyed; i++) await new Promise((r) => setTimeout(r, 5))
      this.#closing = false
      this.fail(err)
    })()
  }

  #onFrame(bytes: Uint8Array): void {
    let env: Envelope
    try {
      env = decodeUntrusted(bytes)
    } catch (err) {
      this.#failAfterInflight(CairnError.from(err))
      return
    }
    if (!this.#greeted) {
      this.#greet(env)
      return
    }
    if (env.type === HELLO) {
      this.#send(this.#reply(env, this.#hello()))
      return
    }
    if (env.type === STREAM_CANCEL) {
      const corr = (env.body as { corr?: unknown } | null)?.corr
      const c = typeof corr === 'number' ? this.#streams.get(corr) : undefined
      c?.abort(new CairnError('ABORTED', 'stream cancelled by the client'))
      this.#send(this.#reply(env, { cancelled: c !== undefined }))
      return
    }
    void this.#handle(env)
  }

  #greet(env: Envelope): void {
    const protocol = (env.body as { protocol?: unknown } | null)?.protocol
    if (env.type !== HELLO) {
      this.fail(new CairnError('SCHEMA_MISMATCH', `expected a hello first, got ${echo(env.type)}`))
      return
    }
    if (typeof protocol !== 'number' || !SOCKET_PROTOCOLS.includes(protocol)) {
      this.fail(new CairnError('SCHEMA_MISMATCH', `client speaks protocol ${echo(protocol)}, the daemon speaks ${SOCKET_PROTOCOLS.join(' or ')}`,
        { protocol: SOCKET_PROTOCOL, supported: SOCKET_PROTOCOLS }))
      return
    }
    this.#greeted = true
    this.#protocol = protocol
    this.#parts = (env.body as { parts?: unknown }).parts === true
    if (this.#helloTimer) clearTimeout(this.#helloTimer)
    this.#helloTimer = null
    this.#send(this.#reply(env, this.#hello()))
  }

  async #handle(req: Envelope): Promise<void> {
    const control = new Cancel()
    this.#inflightSignals.add(control)
    this.#streams.set(req.id, control)
    this.#inflight++
    this.#host.activity()
    if (this.#inflight >= MAX_INFLIGHT) this.#pause()
    const ctx: RequestContext = {
      get signal() { return control.signal },
      emit: async (item) => {
        if (this.#sock.destroyed || control.signal.aborted) return
        this.#send({ v: PROTOCOL_VERSION, id: this.#nextId++, type: STREAM_ITEM, from: DAEMON_ADDRESS, to: req.from, corr: req.id, body: item })
        if (this.#sock.writableNeedDrain) await this.#drained(control.signal)
      },
    }
    try {
      const value = await this.#host.dispatch(req, ctx)
      if (value instanceof EncodedValue) this.#sendEncoded(req, value)
      else this.#send(this.#reply(req, value))
    } catch (err) {
      this.#send(replyError(this.#nextId++, req, boundedError(CairnError.from(err))))
    } finally {
      this.#inflight--
      this.#inflightSignals.delete(control)
      if (this.#streams.get(req.id) === control) this.#streams.delete(req.id)
      this.#host.activity()
      this.#maybeResume()
      if (this.#peerEnded && this.#inflight === 0 && !this.#closing) this.#sock.end()
    }
  }

  #hello(): HelloReply {
    return { ...this.#host.hello(), protocol: this.#protocol }
  }

  /** A successful reply in the form the client's protocol reads. */
  #reply(req: Envelope, value: unknown): Envelope {
    return this.#protocol >= 2 ? replyData(this.#nextId++, req, value) : replyOk(this.#nextId++, req, value)
  }

  #drained(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#sock.off('drain', done)
        this.#sock.off('close', done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.#sock.once('drain', done)
      this.#sock.once('close', done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  #send(env: Envelope): void {
    if (this.#sock.destroyed || this.#sock.writableEnded) return
    let bytes: Uint8Array
    try {
      bytes = encodeFramed(env)
    } catch (err) {
      if (env.corr === undefined) return
      if (this.#parts && env.type === 'reply' && this.#sendParts(env.corr, env.to, () => encodeValue(env))) return
      // A reply too large for one frame becomes a coded error reply instead.
      bytes = encodeFramed(replyError(env.id, { ...env, id: env.corr, from: env.to, to: env.from }, boundedError(CairnError.from(err))))
    }
    this.#write(bytes, true)
  }

  /** A reply whose value is encoded already: its bytes are spliced into the frame. */
  #sendEncoded(req: Envelope, value: EncodedValue): void {
    if (this.#sock.destroyed || this.#sock.writableEnded) return
    let framed: Uint8Array
    try {
      framed = encodeFramedReply(this.#nextId++, req, value.bytes, this.#protocol >= 2)
    } catch (err) {
      if (this.#parts && this.#sendParts(req.id, req.from, () => encodeReplyBytes(this.#nextId++, req, value.bytes, this.#protocol >= 2))) return
      framed = encodeFramed(replyError(this.#nextId++, req, boundedError(CairnError.from(err))))
    }
    this.#write(framed, true)
  }

  /**
   * A reply too large for one frame, as `reply.part` frames; false when it
   * is too large even for that (the caller sends an error reply).
   */
  #sendParts(corr: number, to: string, bytesOf: () => Uint8Array): boolean {
    let bytes: Uint8Array
    try {
      bytes = bytesOf()
    } catch {
      return false
    }
    if (bytes.byteLength > MAX_REPLY_BYTES) return false
    for (let at = 0; at < bytes.byteLength; at += REPLY_PART_BYTES) {
      const last = at + REPLY_PART_BYTES >= bytes.byteLength
      this.#write(encodeFramed({ v: PROTOCOL_VERSION, id: this.#nextId++, type: REPLY_PART, from: DAEMON_ADDRESS, to, corr, body: { bytes: bytes.subarray(at, at + REPLY_PART_BYTES), last } }), true)
    }
    return true
  }

  // Replies finishing in the same turn of the event loop go out in one writev.
  // With no other request in flight none can follow: write at once (a cork,
  // an Immediate and a writev per reply cost a closed-loop client for nothing).
  #write(bytes: Uint8Array, framed = false): void {
    const data = framed ? bytes : frame(bytes)
    if (!this.#corked && this.#inflight > 1) {
      this.#corked = true
      this.#sock.cork()
      setImmediate(() => {
        this.#corked = false
        this.#sock.uncork()
      })
    }
    this.#sock.write(data)
    if (this.#sock.writableLength > WRITE_HIGH_WATER) this.#pause()
  }

  #pause(): void {
    if (this.#paused) return
    this.#paused = true
    this.#sock.pause()
  }

  #maybeResume(): void {
    if (!this.#paused || this.#closing) return
    if (this.#inflight < MAX_INFLIGHT / 2 && this.#sock.writableLength <= WRITE_HIGH_WATER) {
      this.#paused = false
      this.#sock.resume()
    }
  }

  #watchPartial(): void {
    if (this.#decoder.buffered === 0) {
      if (this.#partialTimer) clearTimeout(this.#partialTimer)
      this.#partialTimer = null
    } else if (this.#partialTimer === null) {
      this.#partialTimer = setTimeout(() => this.fail(new CairnError('INVALID_FORMAT', 'frame not completed within 30 s')), PARTIAL_FRAME_TIMEOUT_MS)
      this.#partialTimer.unref()
    }
  }

  #onEnd(): void {
    this.#peerEnded = true
    if (this.#closing) return
    if (this.#decoder.buffered > 0) {
      this.#failAfterInflight(new CairnError('INVALID_FORMAT', `truncated frame: the stream ended with ${this.#decoder.buffered} bytes of an unfinished frame`))
      return
    }
    if (this.#inflight === 0) this.#sock.end()
  }

  #onClose(): void {
    this.#closing = true
    this.#clearTimers()
    this.#abortAll()
  }

  #abortAll(): void {
    for (const c of this.#inflightSignals) c.abort(new CairnError('ABORTED', 'the connection closed'))
  }

  #clearTimers(): void {
    if (this.#helloTimer) clearTimeout(this.#helloTimer)
    if (this.#partialTimer) clearTimeout(this.#partialTimer)
    this.#helloTimer = null
    this.#partialTimer = null
  }
}
