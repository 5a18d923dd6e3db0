/**
 * The daemon's side of framing (protocol/framing.ts defines the format).
 * Unlike FrameDecoder, which throws and drops the frames it had already cut
 * from the same chunk, this reader returns every whole frame that came
 * before a bad length together with the error: requests a peer sent before
 * its mistake are still answered, in order, before the connection closes.
 */
import { CairnError } from '../../protocol/errors.ts'
import { MAX_FRAME_BYTES } from '../../protocol/framing.ts'

const HEADER = 4

export class FrameReader {
  #buf: Buffer = Buffer.alloc(0)
  #failed = false

  /** Bytes held of a frame not yet complete. */
  get buffered(): number {
    return this.#buf.length
  }

  push(chunk: Buffer): { frames: Uint8Array[]; error: CairnError | null } {
    if (this.#failed) return { frames: [], error: null }
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    const frames: Uint8Array[] = []
    let off = 0
    while (this.#buf.length - off >= HEADER) {
      const len = this.#buf.readUInt32BE(off)
      if (len > MAX_FRAME_BYTES) {
        this.#failed = true
        this.#buf = Buffer.alloc(0)
        return { frames, error: new CairnError('INVALID_FORMAT', `frame length ${len} exceeds MAX_FRAME_BYTES (${MAX_FRAME_BYTES})`, { length: len }) }
      }
      if (this.#buf.length - off < HEADER + len) break
      // A copy: the chunk's memory is not pinned by a frame we keep.
      frames.push(Uint8Array.prototype.slice.call(this.#buf, off + HEADER, off + HEADER + len))
      off += HEADER + len
    }
    this.#buf = off === 0 ? this.#buf : this.#buf.subarray(off)
    if (this.#buf.length > 0 && off > 0) this.#buf = Buffer.from(this.#buf)
    return { frames, error: null }
  }
}
