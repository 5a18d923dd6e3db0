/**
 * msgpack codec for envelopes.
 *
 * `Packr.pack()` returns a view into an 8 KiB scratch buffer that it reuses;
 * posting that view would copy (and later corrupt) the whole scratch area, so
 * {@link encode} returns an exact-size copy. Measured here: 80k -> 127k msgs/s.
 *
 * Records/structures are off so the bytes are plain msgpack maps any client
 * (the CLI, another language) can read.
 */
// msgpackr's plain entry, not its Node one: the Node entry also loads the
// native string extractor (msgpackr-extract, found through
// node-gyp-build-optional-packages), ~12 ms of every CLI call that only
// sends a request and prints the answer. Both entries share pack.js and
// unpack.js, so where lmdb loads the Node entry (every runtime process and
// thread) these packers get the extractor too.
import { Packr } from 'msgpackr/pack'
import { CairnError } from './errors.ts'
import { replyData, replyOk, validateEnvelope, type Envelope } from './envelope.ts'
import { frame, framePair } from './framing.ts'

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' })
/** The placeholder msgpackr decodes the never-used byte 0xc1 into (its `C1`, which the plain entry's types leave out). */
const C1: unknown = packr.unpack(Uint8Array.of(0xc1))

/** Encodes any value to an exact-size, transferable byte array. */
export function encodeValue(value: unknown): Uint8Array {
  return new Uint8Array(packr.pack(value))
}

/**
 * A value already encoded by {@link encodeValue}, handed on as is: a reply
 * splices its bytes in ({@link encodeFramedReply}), an in-process caller
 * decodes them. What a read answers when its caller only forwards it.
 */
export class EncodedValue {
  constructor(readonly bytes: Uint8Array) {}
}

/** Decodes bytes; malformed msgpack throws INVALID_FORMAT, never anything else. */
export function decodeValue(bytes: Uint8Array): unknown {
  let value: unknown
  try {
    value = packr.unpack(bytes)
  } catch (err) {
    throw new CairnError('INVALID_FORMAT', `malformed msgpack: ${(err as Error).message}`)
  }
  // The walk is needed only when the byte occurs at all (it may be string data); memchr first.
  if (bytes.indexOf(0xc1) !== -1 && containsNeverUsed(value)) throw new CairnError('INVALID_FORMAT', 'malformed msgpack: the never-used byte 0xc1')
  return value
}

// msgpackr decodes the never-used byte 0xc1 into a placeholder instead of
// failing; a peer's garbage must not pass as data.
function containsNeverUsed(value: unknown): boolean {
  if (value === C1) return true
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false
  const stack: unknown[] = [value]
  for (let visited = 0; stack.length > 0 && visited < 1_000_000; visited++) {
    const v = stack.pop()
    if (v === C1) return true
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue
    if (Array.isArray(v)) { for (const x of v) stack.push(x); continue }
    if (v instanceof Map) { for (const [k, x] of v) stack.push(k, x); continue }
    for (const k in v as Record<string, unknown>) stack.push((v as Record<string, unknown>)[k])
  }
  return false
}

/**
 * Encodes an envelope.
 * @example port.postMessage(encode(envelope(1, 'ping', 'a', 'b', {})))
 */
export function encode(env: Envelope): Uint8Array {
  return encodeValue(env)
}

/**
 * Encodes an envelope straight into a socket frame (u32 BE length + bytes):
 * one copy out of the scratch buffer instead of two. INVALID_ARGUMENT past
 * MAX_FRAME_BYTES, as {@link frame}.
 */
export function encodeFramed(env: Envelope): Uint8Array {
  // frame() copies the packed bytes out of the scratch buffer: the one copy.
  return frame(packr.pack(env))
}

/**
 * As `encodeFramed(replyOk(id, req, value))` (or `replyData` with `data`)
 * for a value already encoded by {@link encodeValue}. msgpack is
 * concatenative and the value is the last field of a reply, so the reply is
 * packed with nil there and the nil's byte replaced by the value's bytes.
 */
export function encodeFramedReply(id: number, req: Envelope, valueBytes: Uint8Array, data = false): Uint8Array {
  const head = packr.pack(data ? replyData(id, req, null) : replyOk(id, req, null))
  if (head[head.byteLength - 1] !== 0xc0) throw new CairnError('INTERNAL', 'a reply does not end with its value')
  return framePair(head.subarray(0, head.byteLength - 1), valueBytes)
}

/** As {@link encodeFramedReply} without the frame (and its size limit): the bytes of the reply envelope. */
export function encodeReplyBytes(id: number, req: Envelope, valueBytes: Uint8Array, data = false): Uint8Array {
  const head = packr.pack(data ? replyData(id, req, null) : replyOk(id, req, null))
  if (head[head.byteLength - 1] !== 0xc0) throw new CairnError('INTERNAL', 'a reply does not end with its value')
  const out = new Uint8Array(head.byteLength - 1 + valueBytes.byteLength)
  out.set(head.subarray(0, head.byteLength - 1), 0)
  out.set(valueBytes, head.byteLength - 1)
  return out
}

/**
 * Envelopes a process decodes before it loads the native string extractor
 * (msgpackr's Node entry, see the import above). A one-shot CLI call reads a
 * handful and never pays its load; a process that keeps reading (a daemon
 * client such as `cairn mcp` or an orchestrator) gets it after these: an
 * `issues.show` reply then decodes in ~3.1 µs instead of 5.1–6.6.
 */
const NATIVE_STRINGS_AFTER = 64
let decodedEnvelopes = 0

/** Decodes and validates an envelope (INVALID_FORMAT / SCHEMA_MISMATCH on bad input). */
export function decode(bytes: Uint8Array): Envelope {
  if (++decodedEnvelopes === NATIVE_STRINGS_AFTER) import('msgpackr').catch(() => undefined)
  return validateEnvelope(decodeValue(bytes))
}

/** How deep a peer's value may nest: far past any operation's arguments, far short of any recursion limit. */
export const MAX_NESTING = 64

/**
 * As {@link decode} for bytes from a peer we do not trust (a socket): a value
 * nested deeper than {@link MAX_NESTING} is INVALID_FORMAT before any code
 * walks it recursively (JSON.stringify, a schema, an error's echo overflowed
 * the stack of the process serving every other client).
 */
export function decodeUntrusted(bytes: Uint8Array): Envelope {
  const value = decodeValue(bytes)
  const depth = nesting(value, MAX_NESTING)
  if (depth > MAX_NESTING) throw new CairnError('INVALID_FORMAT', `value nested deeper than ${MAX_NESTING} levels`, { maxNesting: MAX_NESTING })
  return validateEnvelope(value)
}

/** The value's nesting depth, counted without recursion and only up to `limit + 1`. */
function nesting(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return 0
  let deepest = 0
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue
    if (d > deepest) deepest = d
    if (deepest > limit) return deepest
    if (Array.isArray(v)) { for (const x of v) stack.push([x, d + 1]); continue }
    if (v instanceof Map) { for (const [k, x] of v) stack.push([k, d + 1], [x, d + 1]); continue }
    for (const k in v as Record<string, unknown>) stack.push([(v as Record<string, unknown>)[k], d + 1])
  }
  return deepest
}
