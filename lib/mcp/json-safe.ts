/**
 * Structured content is JSON: what the daemon answers in msgpack may hold
 * bytes (an event's `sig`), which JSON has no type for. Bytes become
 * lowercase hex; everything else is already plain data, and a value without
 * bytes (most answers) is returned as it is, uncopied.
 */
import { bytesToHex } from '../../protocol/events/hex.ts'

const MAX_DEPTH = 64

export function jsonSafe(value: unknown): unknown {
  return hasBytes(value, 0) ? copy(value, 0) : value
}

function hasBytes(value: unknown, depth: number): boolean {
  if (value instanceof Uint8Array) return true
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (const v of value) if (hasBytes(v, depth + 1)) return true
    return false
  }
  for (const k in value) if (hasBytes((value as Record<string, unknown>)[k], depth + 1)) return true
  return false
}

function copy(value: unknown, depth: number): unknown {
  if (value instanceof Uint8Array) return bytesToHex(value)
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value
  if (Array.isArray(value)) return value.map((v) => copy(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = copy(v, depth + 1)
  return out
}
