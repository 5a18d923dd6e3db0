/**
 * Hex <-> bytes for event ids. The API side speaks lowercase hex only, so one
 * id has exactly one spelling: `ABCD...` and `abcd...` must not become two
 * keys in a map or two refs in git.
 */

import { invalidArgument } from '../errors.ts'

const LOWER_HEX = /^[0-9a-f]*$/

/**
 * True when `value` is a lowercase hex string of exactly `byteLength` bytes.
 *
 * @example
 *   isHexId('00ff', 2) // true
 *   isHexId('00FF', 2) // false
 */
export function isHexId(value: unknown, byteLength: number): value is string {
  return typeof value === 'string' && value.length === byteLength * 2 && LOWER_HEX.test(value)
}

/**
 * Lowercase hex of `bytes`.
 *
 * @example
 *   bytesToHex(Uint8Array.of(0, 255)) // '00ff'
 */
export function bytesToHex(bytes: Uint8Array): string {
  // Node's native encoder: a `+=` loop built a cons-string per byte, ~2 KiB of
  // garbage per event id, which was the largest allocation on the write path.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/**
 * Parses lowercase hex of exactly `byteLength` bytes; anything else is an
 * `INVALID_ARGUMENT` naming `field`.
 *
 * @example
 *   hexToBytes('00ff', 2, 'id') // Uint8Array [0, 255]
 *   hexToBytes('xyz', 16, 'issueId') // throws 'issueId must be 32 lowercase hex characters'
 */
export function hexToBytes(hex: unknown, byteLength: number, field: string): Uint8Array {
  if (!isHexId(hex, byteLength)) throw invalidArgument(field, `must be ${byteLength * 2} lowercase hex characters`)
  // Node's native decoder: every event id is hashed from these bytes, and the
  // parseInt loop was ~4% of the RepoWorker's time under write load.
  const buf = Buffer.from(hex, 'hex')
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

