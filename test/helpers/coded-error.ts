/**
 * One assertion for "failed with this code (and this details.field)", shared
 * by every bad-input suite: a CairnError (not just anything with a `code`),
 * the code, and, when asked, the field in `details`, other `details` entries
 * and a message that names the field first.
 */
import type t from 'tap'
import { CairnError } from '../../protocol/errors.ts'

export type Test = Parameters<Parameters<typeof t.test>[0]>[0]

export interface CodedExpectation {
  /** Entries `details` must hold (besides `field`). */
  details?: Record<string, unknown>
  /** The message must start with the field's name (`title must be ...`). */
  messageNamesField?: boolean
  /** Passed to tap (e.g. `{ todo }`). */
  extra?: Record<string, unknown>
}

/** Asserts `err` is a CairnError with `code` and, unless `field` is null, `details.field`; returns it. */
export function assertCoded(t: Test, err: unknown, value: unknown, code: string, field: string | null, message: string, more: CodedExpectation = {}): CairnError | undefined {
  const e = err as CairnError | undefined
  const got: Record<string, unknown> = { isCairnError: err instanceof CairnError, code: e?.code }
  const want: Record<string, unknown> = { isCairnError: true, code }
  if (field !== null) {
    got.field = e?.details?.field
    want.field = field
  }
  if (field !== null && more.messageNamesField) {
    got.messageNamesField = typeof e?.message === 'string' && e.message.startsWith(`${field} `)
    want.messageNamesField = true
  }
  for (const [k, v] of Object.entries(more.details ?? {})) {
    got[`details.${k}`] = e?.details?.[k]
    want[`details.${k}`] = v
  }
  t.same(got, want, message, { value, err: String(err), ...more.extra })
  return err instanceof CairnError ? err : undefined
}

/** Runs `fn` and asserts it throws as {@link assertCoded} says; a returned value fails the assertion. */
export function throwsCoded(t: Test, fn: () => unknown, code: string, field: string | null, message: string, more?: CodedExpectation): CairnError | undefined {
  let err: unknown
  let value: unknown
  try {
    value = fn()
  } catch (e) {
    err = e
  }
  return assertCoded(t, err, value, code, field, message, more)
}

/** Awaits `fn` and asserts it rejects as {@link assertCoded} says. */
export async function rejectsCoded(t: Test, fn: () => unknown, code: string, field: string | null, message: string, more?: CodedExpectation): Promise<CairnError | undefined> {
  let err: unknown
  let value: unknown
  try {
    value = await fn()
  } catch (e) {
    err = e
  }
  return assertCoded(t, err, value, code, field, message, more)
}
