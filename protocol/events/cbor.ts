/**
 * A minimal canonical CBOR (RFC 8949) codec for grite's event encoding.
 *
 * Only what grite's `ciborium` output contains is supported: unsigned and
 * negative integers, byte strings, text strings, arrays, null and booleans.
 * Maps, tags, floats and indefinite lengths never occur in grite events, so
 * the decoder rejects them rather than guessing at a meaning.
 *
 * The encoder is canonical (definite lengths, shortest-form heads) because
 * event ids are hashes of these bytes: one value must have exactly one
 * encoding. The decoder is strict for the same reason, and because chunk
 * bytes come from other machines: every malformation is a
 * `CairnError('INVALID_FORMAT')`, never a RangeError or a partial result.
 */

import { CairnError } from '../errors.ts'

/** The values this codec carries. Integers are JS numbers within the safe range. */
export type CborValue = number | string | Uint8Array | null | boolean | CborValue[]

/** Default nesting limit: grite needs 5 (chunk > record > payload > symbols > symbol). */
export const CBOR_MAX_DEPTH = 16

const MAJOR_UINT = 0
const MAJOR_NINT = 1
const MAJOR_BYTES = 2
const MAJOR_TEXT = 3
const MAJOR_ARRAY = 4

const SIMPLE_FALSE = 0xf4
const SIMPLE_TRUE = 0xf5
const SIMPLE_NULL = 0xf6

const TWO_32 = 0x1_0000_0000

const utf8Encoder = new TextEncoder()
// `fatal` turns invalid UTF-8 into an error instead of U+FFFD, and `ignoreBOM`
// keeps a leading U+FEFF: either silent rewrite would change a hashed string.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

// In unicode mode a well-formed surrogate pair is one code point, so this
// matches lone surrogates only; TextEncoder would silently turn those into
// U+FFFD and the string would not survive a round trip.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

function invalidFormat(message: string): CairnError {
  return new CairnError('INVALID_FORMAT', `cbor: ${message}`)
}

function invalidValue(message: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', `cbor: ${message}`)
}

class Writer {
  private buf = new Uint8Array(256)
  private len = 0

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  byte(b: number): void {
    this.reserve(1)
    this.buf[this.len++] = b
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }

  /** A head with the shortest argument encoding, as canonical CBOR requires. */
  head(major: number, arg: number): void {
    const m = major << 5
    if (arg < 24) {
      this.byte(m | arg)
    } else if (arg < 0x100) {
      this.byte(m | 24)
      this.byte(arg)
    } else if (arg < 0x1_0000) {
      this.byte(m | 25)
      this.byte(arg >>> 8)
      this.byte(arg & 0xff)
    } else if (arg < TWO_32) {
      this.byte(m | 26)
      this.u32(arg)
    } else {
      this.byte(m | 27)
      this.u32(Math.floor(arg / TWO_32))
      this.u32(arg % TWO_32)
    }
  }

  private u32(n: number): void {
    this.byte((n >>> 24) & 0xff)
    this.byte((n >>> 16) & 0xff)
    this.byte((n >>> 8) & 0xff)
    this.byte(n & 0xff)
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

function writeValue(w: Writer, value: CborValue, depth: number): void {
  if (depth > CBOR_MAX_DEPTH) throw invalidValue(`nesting deeper than ${CBOR_MAX_DEPTH}`)
  if (value === null) {
    w.byte(SIMPLE_NULL)
  } else if (typeof value === 'boolean') {
    w.byte(value ? SIMPLE_TRUE : SIMPLE_FALSE)
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw invalidValue(`${value} is not a safe integer`)
    // Object.is: -0 is an integer to JS but has no CBOR integer form distinct from 0.
    if (value >= 0) w.head(MAJOR_UINT, Object.is(value, -0) ? 0 : value)
    else w.head(MAJOR_NINT, -1 - value)
  } else if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw invalidValue('text contains a lone surrogate')
    const b = utf8Encoder.encode(value)
    w.head(MAJOR_TEXT, b.length)
    w.bytes(b)
  } else if (value instanceof Uint8Array) {
    w.head(MAJOR_BYTES, value.length)
    w.bytes(value)
  } else if (Array.isArray(value)) {
    w.head(MAJOR_ARRAY, value.length)
    for (const item of value) writeValue(w, item, depth + 1)
  } else {
    throw invalidValue(`unsupported value of type ${typeof value}`)
  }
}

/**
 * Encodes `value` as canonical CBOR. Throws `INVALID_ARGUMENT` for values
 * outside the supported subset (floats, unsafe integers, objects, lone surrogates).
 *
 * @example
 *   encodeCbor([1, 'a', null]) // Uint8Array [0x83, 0x01, 0x61, 0x61, 0xf6]
 */
export function encodeCbor(value: CborValue): Uint8Array {
  const w = new Writer()
  writeValue(w, value, 1)
  return w.result()
}

/**
 * A CBOR array whose items are already encoded (each one complete, canonical
 * CBOR): the head for `items.length`, then the items' bytes as they are.
 */
export function encodeCborArrayOfEncoded(items: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const b of items) size += b.length
  const w = new Writer()
  w.head(MAJOR_ARRAY, items.length)
  const head = w.result()
  const out = new Uint8Array(head.length + size)
  out.set(head, 0)
  let at = head.length
  for (const b of items) {
    out.set(b, at)
    at += b.length
  }
  return out
}

class Reader {
  pos = 0
  constructor(
    readonly buf: Uint8Array,
    readonly maxDepth: number,
  ) {}

  private need(n: number): void {
    if (n > this.buf.length - this.pos) throw invalidFormat(`truncated at offset ${this.pos}`)
  }

  private u8(): number {
    this.need(1)
    return this.buf[this.pos++] as number
  }

  private uN(n: number): number {
    this.need(n)
    let v = 0
    // Multiplication rather than shifts: shifts truncate to 32 bits.
    for (let i = 0; i < n; i++) v = v * 256 + (this.buf[this.pos++] as number)
    return v
  }

  /** Reads a head's argument, rejecting non-shortest forms and unsafe values. */
  private argument(info: number, at: number): number {
    if (info < 24) return info
    let v: number
    let min: number
    if (info === 24) {
      v = this.uN(1)
      min = 24
    } else if (info === 25) {
      v = this.uN(2)
      min = 0x100
    } else if (info === 26) {
      v = this.uN(4)
      min = 0x1_0000
    } else if (info === 27) {
      const hi = this.uN(4)
      const lo = this.uN(4)
      // 2^53 = 0x0020_0000 << 32: anything at or above cannot be exact in a number.
      if (hi >= 0x20_0000) throw invalidFormat(`integer beyond the safe range at offset ${at}`)
      v = hi * TWO_32 + lo
      min = TWO_32
    } else if (info === 31) {
      throw invalidFormat(`indefinite length at offset ${at}`)
    } else {
      throw invalidFormat(`reserved additional info ${info} at offset ${at}`)
    }
    if (v < min) throw invalidFormat(`non-shortest head at offset ${at}`)
    return v
  }

  value(depth: number): CborValue {
    if (depth > this.maxDepth) throw invalidFormat(`nesting deeper than ${this.maxDepth}`)
    const at = this.pos
    const initial = this.u8()
    const major = initial >> 5
    const info = initial & 0x1f
    switch (major) {
      case MAJOR_UINT:
        return this.argument(info, at)
      case MAJOR_NINT: {
        const n = this.argument(info, at)
        // -1 - n must itself be a safe integer.
        if (n > Number.MAX_SAFE_INTEGER - 1) throw invalidFormat(`integer beyond the safe range at offset ${at}`)
        return -1 - n
      }
      case MAJOR_BYTES: {
        const n = this.argument(info, at)
        this.need(n)
        const b = this.buf.slice(this.pos, this.pos + n)
        this.pos += n
        return b
      }
      case MAJOR_TEXT: {
        const n = this.argument(info, at)
        this.need(n)
        const raw = this.buf.subarray(this.pos, this.pos + n)
        this.pos += n
        try {
          return utf8Decoder.decode(raw)
        } catch {
          throw invalidFormat(`invalid UTF-8 in text at offset ${at}`)
        }
      }
      case MAJOR_ARRAY: {
        const n = this.argument(info, at)
        // Every item takes at least one byte: checking first stops a claimed
        // length of 2^40 from allocating before the truncation is noticed.
        this.need(n)
        const out: CborValue[] = []
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1))
        return out
      }
      case 7:
        if (initial === SIMPLE_NULL) return null
        if (initial === SIMPLE_TRUE) return true
        if (initial === SIMPLE_FALSE) return false
        throw invalidFormat(`unsupported simple value or float 0x${initial.toString(16)} at offset ${at}`)
      default:
        throw invalidFormat(`unsupported major type ${major} at offset ${at}`)
    }
  }
}

/**
 * Decodes exactly one CBOR value filling all of `bytes`. Throws
 * `INVALID_FORMAT` on anything non-canonical, unsupported, truncated,
 * nested deeper than `maxDepth`, or followed by trailing bytes.
 *
 * @example
 *   decodeCbor(Uint8Array.of(0x82, 0x01, 0xf6)) // [1, null]
 */
export function decodeCbor(bytes: Uint8Array, maxDepth: number = CBOR_MAX_DEPTH): CborValue {
  const r = new Reader(bytes, maxDepth)
  const value = r.value(1)
  if (r.pos !== bytes.length) throw invalidFormat(`${bytes.length - r.pos} trailing bytes at offset ${r.pos}`)
  return value
}
