/**
 * What may cross the thread boundary as an argument: plain data only. The
 * encoder would otherwise change values silently (a function or symbol
 * becomes undefined, a lone surrogate becomes U+FFFD) before the RepoWorker
 * could validate them, so those are refused here, naming the field.
 */
import { invalidArgument } from '../../protocol/errors.ts'

const MAX_DEPTH = 8

function check(v: unknown, field: string, depth: number): void {
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw invalidArgument(field, 'must be well-formed Unicode (no lone surrogates)')
      return
    case 'number':
    case 'boolean':
    case 'undefined':
      return
    case 'object':
      if (v === null) return
      if (depth >= MAX_DEPTH) throw invalidArgument(field, `nests deeper than ${MAX_DEPTH} levels`)
      if (Array.isArray(v)) {
        v.forEach((x, i) => check(x, `${field}[${i}]`, depth + 1))
        return
      }
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
        throw invalidArgument(field, 'must be plain data (string, number, boolean, array or plain object)')
      }
      for (const [k, x] of Object.entries(v)) check(x, `${field}.${k}`, depth + 1)
      return
    default:
      throw invalidArgument(field, `must be plain data, not a ${typeof v}`)
  }
}

/** Checks each field of a request body; throws INVALID_ARGUMENT naming the first bad one. */
export function checkPlainFields(body: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(body)) check(v, k, 0)
}
