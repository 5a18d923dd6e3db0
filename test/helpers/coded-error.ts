/** One assertion for "failed with this code (and this details.field)", shared by the bad-input suites. */
import type t from 'tap'
import { CairnError } from '../../protocol/errors.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

/** Asserts `err` is a CairnError with `code` and, unless `field` is null, `details.field`; returns it. */
export function assertCoded(t: Test, err: unknown, value: unknown, code: string, field: string | null, message: string): CairnError | undefined {
  const e = err as CairnError | undefined
  const got: Record<string, unknown> = { isCairnError: err instanceof CairnError, code: e?.code }
  const want: Record<string, unknown> = { isCairnError: true, code }
  if (field !== null) {
    got.field = e?.details?.field
    want.field = field
  }
  t.same(got, want, message, { value, err: String(err) })
  return err instanceof CairnError ? err : undefined
}
