/**
 * What the daemon says back about a peer's input stays small whatever the
 * input was: a peer's value is echoed as its type or a short cut (never a
 * walk of the whole value), and an error's message and details are bounded
 * so that sending the error can never itself fail.
 */
import { encodeValue } from '../../protocol/codec.ts'
import { CairnError } from '../../protocol/errors.ts'

/** Longest error message a reply or error frame carries, in characters. */
const MAX_ERROR_MESSAGE = 2048
/** Largest encoded `details` an error keeps; past it the details are dropped, the code and message kept. */
const MAX_ERROR_DETAILS_BYTES = 64 * 1024

/** A peer's value in an error message: its type, or a short cut of it (never a walk of the whole value). */
export function echo(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  if (ArrayBuffer.isView(value)) return 'binary'
  return `a ${typeof value}`
}

/** The error with its message cut to MAX_ERROR_MESSAGE and details that fit a frame, or none. */
export function boundedError(err: CairnError): CairnError {
  const message = err.message.length > MAX_ERROR_MESSAGE ? `${err.message.slice(0, MAX_ERROR_MESSAGE)}…` : err.message
  let details = err.details
  if (details !== undefined) {
    try {
      if (encodeValue(details).byteLength > MAX_ERROR_DETAILS_BYTES) details = undefined
    } catch {
      details = undefined
    }
  }
  return message === err.message && details === err.details ? err : new CairnError(err.code, message, details)
}
