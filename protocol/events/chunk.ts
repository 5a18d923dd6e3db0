/**
 * grite's WAL chunk format (libgrite-git `chunk.rs`), byte for byte:
 *
 *   "GRITECNK"            8 bytes of ASCII magic
 *   version               u16 little-endian, 1
 *   codec length          u8, 7
 *   codec                 ASCII "cbor-v1"
 *   payload               one CBOR array of records
 *     [event_id(32 B), issue_id(16 B), actor(16 B), ts_unix_ms, parent(32 B) | null,
 *      kind_tag, kind_payload, sig(bytes) | null]
 *
 * Chunks arrive from other machines through git, so decoding is strict and
 * all-or-nothing: any malformation is `INVALID_FORMAT` and no event of a bad
 * chunk is returned. Unlike grite, decoding also rejects trailing bytes and
 * re-derives each event id, because ids are content addresses and a record
 * whose id lies would poison deduplication.
 */

import { CairnError, invalidArgument, isCairnError } from '../errors.ts'
import { decodeCbor, encodeCbor, encodeCborArrayOfEncoded } from './cbor.ts'
import type { CborValue } from './cbor.ts'
import { canonicalFields, eventIdOf } from './canonical.ts'
import { bytesToHex, hexToBytes } from './hex.ts'
import { blake2b256 } from './blake2b.ts'
import { kindFromPayload } from './kind-payload.ts'
import { EVENT_SCHEMA_VERSION, type CairnEvent, type EventKind } from './types.ts'

/** Lowercase hex BLAKE2b-256 of an encoded chunk: the name it is stored under in a WAL commit. */
export function chunkHashOf(chunk: Uint8Array): string {
  return bytesToHex(blake2b256(chunk))
}

/** ASCII `GRITECNK`. */
export const CHUNK_MAGIC: Uint8Array = new TextEncoder().encode('GRITECNK')
/** The only chunk version grite writes and Cairn reads. */
export const CHUNK_VERSION = 1
/** The only codec grite writes and Cairn reads. */
export const CHUNK_CODEC = 'cbor-v1'

const CODEC_BYTES = new TextEncoder().encode(CHUNK_CODEC)
const HEADER_LENGTH = CHUNK_MAGIC.length + 2 + 1 + CODEC_BYTES.length
const RECORD_ARITY = 8

function bad(message: string): CairnError {
  return new CairnError('INVALID_FORMAT', `chunk: ${message}`)
}

/** Prefixes an argument error with the event's index so the caller can find it. */
function atIndex(err: unknown, i: number): unknown {
  if (!isCairnError(err, 'INVALID_ARGUMENT')) return err
  const field = typeof err.details?.field === 'string' ? err.details.field : 'event'
  return new CairnError('INVALID_ARGUMENT', `events[${i}].${err.message}`, { field: `events[${i}].${field}` })
}

function recordOf(event: CairnEvent): CborValue[] {
  const f = canonicalFields(event)
  const eventId = hexToBytes(event.eventId, 32, 'eventId')
  // Refuse to write a record that every reader (ours included) would reject.
  if (event.eventId !== eventIdOf(f)) throw invalidArgument('eventId', "does not match the event's content")
  const sig = event.sig ?? null
  if (sig !== null && !(sig instanceof Uint8Array)) throw invalidArgument('sig', 'must be a Uint8Array or null')
  return [eventId, f.issueId, f.actor, f.tsUnixMs, f.parent, f.kindTag, f.kindPayload, sig]
}

/**
 * One event's chunk record, validated as {@link encodeChunk} does; `i` names
 * it in errors. Encoded (`encodeCbor`), records make a chunk with
 * {@link encodeChunkFromEncoded}, so a large chunk can be built in slices.
 */
export function chunkRecordOf(event: CairnEvent, i: number): CborValue {
  try {
    return recordOf(event)
  } catch (err) {
    throw atIndex(err, i)
  }
}

// A record's array head (8 items) and its id's byte-string head (32 bytes).
const RECORD_HEAD = Uint8Array.of(0x80 | RECORD_ARITY, 0x58, 32)
const CBOR_NULL = 0xf6

/**
 * An unsigned event's chunk record, as CBOR bytes, from its id and preimage
 * ({@link eventIdWithPreimage}). The record `[id, issue, actor, ts, parent,
 * tag, payload, sig]` and the preimage `[1, issue, actor, ts, parent, tag,
 * payload]` share their six middle items byte for byte, so nothing is
 * encoded again and the id is the hash of exactly these fields.
 */
export function chunkRecordBytes(eventId: string, preimage: Uint8Array): Uint8Array {
  if (preimage[0] !== 0x87 || preimage[1] !== EVENT_SCHEMA_VERSION) {
    throw new CairnError('INTERNAL', 'chunkRecordBytes needs a schema 1 preimage')
  }
  const out = new Uint8Array(RECORD_HEAD.length + 32 + preimage.length - 2 + 1)
  out.set(RECORD_HEAD, 0)
  out.set(hexToBytes(eventId, 32, 'eventId'), RECORD_HEAD.length)
  out.set(preimage.subarray(2), RECORD_HEAD.length + 32)
  out[out.length - 1] = CBOR_NULL
  return out
}

/** A chunk of records already encoded ({@link chunkRecordBytes}, or `encodeCbor(chunkRecordOf(e, i))`), in order. */
export function encodeChunkFromEncoded(records: readonly Uint8Array[]): Uint8Array {
  return withHeader(encodeCborArrayOfEncoded(records))
}

function withHeader(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH + payload.length)
  out.set(CHUNK_MAGIC, 0)
  // u16 little-endian, as grite's `to_le_bytes`.
  out[8] = CHUNK_VERSION & 0xff
  out[9] = CHUNK_VERSION >> 8
  out[10] = CODEC_BYTES.length
  out.set(CODEC_BYTES, 11)
  out.set(payload, HEADER_LENGTH)
  return out
}

/**
 * Encodes events as one grite chunk. Each event is validated and its
 * `eventId` checked against its content (`INVALID_ARGUMENT`, e.g.
 * `events[2].eventId does not match the event's content`).
 *
 * @example
 *   const bytes = encodeChunk([event]) // starts with 'GRITECNK' 01 00 07 'cbor-v1'
 */
export function encodeChunk(events: readonly CairnEvent[]): Uint8Array {
  if (!Array.isArray(events)) throw invalidArgument('events', 'must be an array')
  return withHeader(encodeCbor(events.map(chunkRecordOf)))
}

function bytesField(v: CborValue | undefined, length: number, field: string, i: number): string {
  if (!(v instanceof Uint8Array) || v.length !== length) throw bad(`record ${i}: ${field} must be a ${length}-byte string`)
  return bytesToHex(v)
}

function recordToEvent(value: CborValue, i: number): CairnEvent {
  if (!Array.isArray(value)) throw bad(`record ${i} must be an array`)
  if (value.length !== RECORD_ARITY) throw bad(`record ${i} must have ${RECORD_ARITY} elements, got ${value.length}`)
  const [id, issue, actor, ts, parent, tag, payload, sig] = value
  if (typeof ts !== 'number' || ts < 0) throw bad(`record ${i}: ts_unix_ms must be an unsigned integer`)
  if (parent !== null && !(parent instanceof Uint8Array)) throw bad(`record ${i}: parent must be bytes or null`)
  if (sig !== null && !(sig instanceof Uint8Array)) throw bad(`record ${i}: sig must be bytes or null`)
  let kind: EventKind
  try {
    kind = kindFromPayload(tag as CborValue, payload as CborValue)
  } catch (err) {
    if (isCairnError(err, 'INVALID_FORMAT')) throw bad(`record ${i}: ${err.message}`)
    throw err
  }
  const event: CairnEvent = {
    eventId: bytesField(id, 32, 'event_id', i),
    issueId: bytesField(issue, 16, 'issue_id', i),
    actor: bytesField(actor, 16, 'actor', i),
    tsUnixMs: ts,
    parent: parent === null ? null : bytesField(parent, 32, 'parent', i),
    kind,
    sig: sig as Uint8Array | null,
  }
  // Every field above is already well-formed, so canonicalFields cannot throw here.
  if (eventIdOf(canonicalFields(event)) !== event.eventId) throw bad(`record ${i}: event id mismatch`)
  return event
}

/**
 * Decodes a grite chunk, all or nothing. Wrong magic, version or codec,
 * malformed or non-canonical CBOR, a record of the wrong shape, an unknown
 * kind tag, trailing bytes or an event id that does not match its content
 * are all `INVALID_FORMAT`. Optional strings come back as nulls, `sig` as
 * bytes or null, labels and symbols in stored (sorted) order.
 *
 * @example
 *   decodeChunk(encodeChunk([event]))[0].eventId === event.eventId // true
 */
export function decodeChunk(bytes: Uint8Array): CairnEvent[] {
  return chunkRecords(bytes).map(recordToEvent)
}

/**
 * {@link decodeChunk} for a thread that serves others meanwhile: records are
 * turned into events (each id hashed and checked) `slice` at a time, with a
 * turn of the event loop in between, so a chunk of a hundred thousand
 * events does not hold the thread for seconds.
 */
export async function decodeChunkInSlices(bytes: Uint8Array, slice = 1_000): Promise<CairnEvent[]> {
  const records = chunkRecords(bytes)
  const events: CairnEvent[] = []
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % slice === 0) await new Promise((resolve) => setImmediate(resolve))
    events.push(recordToEvent(records[i]!, i))
  }
  return events
}

/** The header checked and the payload decoded into its records (not yet checked). */
function chunkRecords(bytes: Uint8Array): CborValue[] {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('bytes', 'must be a Uint8Array')
  if (bytes.length < CHUNK_MAGIC.length + 3) throw bad(`${bytes.length} bytes is shorter than the header`)
  for (let i = 0; i < CHUNK_MAGIC.length; i++) {
    if (bytes[i] !== CHUNK_MAGIC[i]) throw bad('bad magic, expected GRITECNK')
  }
  const version = (bytes[8] as number) | ((bytes[9] as number) << 8)
  if (version !== CHUNK_VERSION) throw bad(`unsupported version ${version}`)
  const codecLength = bytes[10] as number
  if (bytes.length < 11 + codecLength) throw bad('truncated in the codec name')
  const codec = bytes.subarray(11, 11 + codecLength)
  if (codecLength !== CODEC_BYTES.length || !codec.every((b, i) => b === CODEC_BYTES[i])) {
    throw bad(`unsupported codec ${JSON.stringify(String.fromCharCode(...codec))}`)
  }
  let records: CborValue
  try {
    records = decodeCbor(bytes.subarray(11 + codecLength))
  } catch (err) {
    if (isCairnError(err, 'INVALID_FORMAT')) throw bad(err.message)
    throw err
  }
  if (!Array.isArray(records)) throw bad('payload must be an array of records')
  return records
}
