/**
 * grite-compatible events: the model, the canonical hash and the WAL chunk.
 *
 * Rule of this folder: everything here is pure (bytes and values in, bytes
 * and values out) and bit-compatible with grite schema version 1. The
 * vectors in ../shared/vectors are normative; a change that alters one byte
 * of a preimage or a chunk is a format break, not a refactor.
 */

export { EVENT_SCHEMA_VERSION, KIND_TAGS } from './types.ts'
export type {
  CairnEvent,
  DepType,
  EventInput,
  EventKind,
  EventKindType,
  IssueState,
  SymbolInfo,
} from './types.ts'
export { canonicalPreimage, computeEventId } from './canonical.ts'
export { kindFromPayload, kindPayload, TAG_KINDS } from './kind-payload.ts'
export { chunkHashOf, CHUNK_CODEC, CHUNK_MAGIC, CHUNK_VERSION, decodeChunk, encodeChunk } from './chunk.ts'
export { bytesToHex, hexToBytes, isHexId } from './hex.ts'
export { decodeCbor, encodeCbor } from './cbor.ts'
export type { CborValue } from './cbor.ts'
