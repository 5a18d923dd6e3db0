/**
 * grite's canonical event preimage and content-derived event id.
 *
 * Wire contract (grite schema version 1, libgrite-core `hash.rs`): the
 * preimage is the canonical CBOR of
 *   [1, issue_id(16 B), actor(16 B), ts_unix_ms, parent(32 B) | null, kind_tag, kind_payload]
 * and the event id is its BLAKE2b-256. Ids must match grite's byte for byte,
 * or the same event written by grite and by Cairn would count twice.
 */

import { blake2b256 } from './blake2b.ts'
import { invalidArgument } from '../errors.ts'
import { encodeCbor } from './cbor.ts'
import type { CborValue } from './cbor.ts'
import { bytesToHex, hexToBytes } from './hex.ts'
import { kindPayload, kindTag } from './kind-payload.ts'
import { EVENT_SCHEMA_VERSION } from './types.ts'
import type { EventInput } from './types.ts'

// The payload layer lives in its own file; re-exported here because the
// preimage is where callers expect to find it.
export { kindFromPayload, kindPayload } from './kind-payload.ts'

/** An event's fields in their byte form, validated once and shared by hash and chunk. */
export interface CanonicalFields {
  issueId: Uint8Array
  actor: Uint8Array
  tsUnixMs: number
  parent: Uint8Array | null
  kindTag: number
  kindPayload: CborValue[]
}

/**
 * Validates `event` and converts it to byte form (`INVALID_ARGUMENT` naming
 * the bad field). Labels and symbols come out sorted.
 *
 * @example
 *   canonicalFields({ issueId: '00'.repeat(16), actor: '11'.repeat(16), tsUnixMs: 0,
 *     parent: null, kind: { type: 'LabelAdded', label: 'bug' } }).kindTag // 4
 */
export function canonicalFields(event: EventInput): CanonicalFields {
  if (typeof event !== 'object' || event === null) throw invalidArgument('event', 'must be an object')
  const ts = event.tsUnixMs
  // grite stores a u64; Cairn caps at 2^53-1 so the value survives a JS number.
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) {
    throw invalidArgument('tsUnixMs', 'must be a non-negative safe integer')
  }
  let parent: Uint8Array | null = null
  if (event.parent !== null && event.parent !== undefined) parent = hexToBytes(event.parent, 32, 'parent')
  return {
    issueId: hexToBytes(event.issueId, 16, 'issueId'),
    actor: hexToBytes(event.actor, 16, 'actor'),
    tsUnixMs: ts,
    parent,
    kindTag: kindTag(event.kind),
    kindPayload: kindPayload(event.kind),
  }
}

/**
 * The CBOR preimage of already-validated fields.
 *
 * @example
 *   preimageOf(canonicalFields(event)) // same bytes as canonicalPreimage(event)
 */
export function preimageOf(f: CanonicalFields): Uint8Array {
  return encodeCbor([EVENT_SCHEMA_VERSION, f.issueId, f.actor, f.tsUnixMs, f.parent, f.kindTag, f.kindPayload])
}

/**
 * Lowercase hex BLAKE2b-256 of already-validated fields' preimage.
 *
 * @example
 *   eventIdOf(canonicalFields(event)) // same as computeEventId(event)
 */
export function eventIdOf(f: CanonicalFields): string {
  return bytesToHex(blake2b256(preimageOf(f)))
}

/**
 * An event's id together with its preimage: a caller that also writes the
 * event into a chunk reuses the preimage's bytes ({@link chunkRecordBytes}).
 * Throws `INVALID_ARGUMENT` naming the field for a malformed event.
 */
export function eventIdWithPreimage(event: EventInput): { eventId: string; preimage: Uint8Array } {
  const preimage = preimageOf(canonicalFields(event))
  return { eventId: bytesToHex(blake2b256(preimage)), preimage }
}

/**
 * grite's canonical CBOR preimage of `event`: the bytes its id hashes.
 * Throws `INVALID_ARGUMENT` naming the field for a malformed event.
 *
 * @example
 *   canonicalPreimage({ issueId: '000102030405060708090a0b0c0d0e0f',
 *     actor: '101112131415161718191a1b1c1d1e1f', tsUnixMs: 1700000002000, parent: null,
 *     kind: { type: 'LabelAdded', label: 'bug' } })
 *   // 87 01 50 0001..0f 50 1011..1f 1b 0000018bcfe56fd0 f6 04 81 63 627567
 */
export function canonicalPreimage(event: EventInput): Uint8Array {
  return preimageOf(canonicalFields(event))
}

/**
 * grite's event id of `event`: lowercase hex BLAKE2b-256 of its canonical preimage.
 *
 * @example
 *   computeEventId({ issueId: '000102030405060708090a0b0c0d0e0f',
 *     actor: '101112131415161718191a1b1c1d1e1f', tsUnixMs: 1700000002000, parent: null,
 *     kind: { type: 'LabelAdded', label: 'bug' } })
 *   // 'd742a0d9c83f17176e30511d62045686b491ddf55f8d1dfe7a74921787bdd436'
 */
export function computeEventId(event: EventInput): string {
  return eventIdOf(canonicalFields(event))
}
