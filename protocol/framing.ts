/**
 * Stream framing for the daemon socket: each frame is a u32 big-endian length
 * followed by that many bytes of one msgpack envelope.
 *
 * MAX_FRAME_BYTES bounds what one peer can make us buffer: a length above it is
 * rejected as soon as the 4 header bytes arrive, before any body is read.
 */
import { CairnError } from './errors.ts'

export const MAX_FRAME_BYTES = 8 * 1024 * 1024
const HEADER = 4

const NOTHING = new Uint8Array(0)

/** Prefixes `payload` with its u32 BE length. */
export function frame(payload: Uint8Array): Uint8Array {
  return framePair(payload, NOTHING)
}

/** One frame holding `head` then `tail` (bytes that were encoded apart), copied once. */
export function framePair(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const len = head.byteLength + tail.byteLength
  if (len > MAX_FRAME_BYTES) {
    throw new CairnError('INVALID_ARGUMENT', `frame of ${len} bytes exceeds MAX_FRAME_BYTES (${MAX_FRAME_BYTES})`)
  }
  const out = new Uint8Array(HEADER + len)
  new DataView(out.buffer).setUint32(0, len, false)
  out.set(head, HEADER)
  out.set(tail, HEADER + head.byteLength)
  return out
}

/**
 * Incremental decoder: push chunks as they arrive, get whole frames back.
 * After an oversize header the stream cannot be resynchronised: the decoder
 * reports INVALID_FORMAT once and must be discarded (the connection is closed).
 */
export class FrameDecoder {
  #chunks: Uint8Array[] = []
  #buffered = 0
  #failed = false
  #pending: CairnError | null = null

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered
  }

  /**
   * Every whole frame in the bytes so far. After an oversize header the frames
   * cut before it are still returned, once, with the error: a peer's requests
   * that preceded its mistake can be answered before the connection closes.
   * Never throws; after an error it returns nothing more.
   */
  read(chunk: Uint8Array): { frames: Uint8Array[]; error: CairnError | null } {
    if (this.#failed) return { frames: [], error: null }
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.byteLength
    }
    const frames: Uint8Array[] = []
    while (this.#buffered >= HEADER) {
      const head = this.#peek(HEADER)
      const len = new DataView(head.buffer, head.byteOffset, HEADER).getUint32(0, false)
      if (len > MAX_FRAME_BYTES) {
        this.#failed = true
        this.#chunks = []
        this.#buffered = 0
        return { frames, error: new CairnError('INVALID_FORMAT', `frame length ${len} exceeds MAX_FRAME_BYTES (${MAX_FRAME_BYTES})`, { length: len }) }
      }
      if (this.#buffered < HEADER + len) break
      const whole = this.#take(HEADER + len)
      frames.push(whole.subarray(HEADER))
    }
    return { frames, error: null }
  }

  /**
   * As {@link read}, throwing INVALID_FORMAT instead of returning the error;
   * frames cut before a bad header in the same chunk are returned first and
   * the error is thrown by the next call.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#pending) {
      const err = this.#pending
      this.#pending = null
      throw err
    }
    if (this.#failed) throw new CairnError('INVALID_FORMAT', 'frame decoder already failed')
    const { frames, error } = this.read(chunk)
    if (error && frames.length === 0) throw error
    if (error) this.#pending = error
    return frames
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!
    if (first.byteLength >= n) return first.subarray(0, n)
    return this.#concat().subarray(0, n)
  }

  #take(n: number): Uint8Array {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : this.#concat()
    const out = all.slice(0, n)
    const rest = all.subarray(n)
    this.#chunks = rest.byteLength > 0 ? [rest] : []
    this.#buffered = rest.byteLength
    return out
  }

  #concat(): Uint8Array {
    const all = new Uint8Array(this.#buffered)
    let off = 0
    for (const c of this.#chunks) {
      all.set(c, off)
      off += c.byteLength
    }
    this.#chunks = [all]
    return all
  }
}
