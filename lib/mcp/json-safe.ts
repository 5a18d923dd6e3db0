/**
 * Structured content is JSON: what the daemon answers in msgpack may hold
 * bytes (an event's `sig`), which JSON has no type for. Bytes become
 * lowercase hex; everything else is already plain data.
 */
import { bytesToHex } from '../../protocol/events/hex.ts'

export function jsonSafe(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return bytesToHex(value)
  if (value === null || typeof value !== 'object' || depth > 64) return value
  if (Array.isArray(value)) return value.map((v) => jsonSafe(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = jsonSafe(v, depth + 1)
  return out
}
