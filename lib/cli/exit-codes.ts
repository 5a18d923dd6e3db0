/**
 * One exit code per error code, so scripts can branch on `$?` as reliably as
 * on `error.code` in the JSON envelope. Codes are never renumbered; a new
 * error code gets the next free number here (a test checks every code of
 * ERROR_CODES has one, and that no two share one).
 */
import type { ErrorCode } from '../../protocol/errors.ts'

export const EXIT_OK = 0

export const EXIT_CODES: Readonly<Partial<Record<ErrorCode, number>>> = Object.freeze({
  INTERNAL: 1,
  INVALID_ARGUMENT: 2, // also every bad flag, missing argument and unknown command
  NOT_FOUND: 3,
  AMBIGUOUS_ID: 4,
  CYCLE: 5,
  LEASE_HELD: 6,
  LEASE_LOST: 7,
  TIMEOUT: 8,
  ABORTED: 9,
  UNAVAILABLE: 10,
  BUSY: 11,
  MAILBOX_FULL: 12,
  STOPPED: 13,
  ACTOR_FAILED: 14,
  SCHEMA_MISMATCH: 15,
  INVALID_FORMAT: 16,
  UNKNOWN_MESSAGE: 17,
  FOREIGN_STORE: 18,
  STORE_TOO_NEW: 19,
  UNREACHABLE: 20,
  AUTH_FAILED: 21,
  PUSH_REJECTED: 22,
  STORE_CORRUPT: 23,
  STORAGE_FULL: 24,
  STORE_READ_ONLY: 25,
  CHUNK_TOO_LARGE: 26,
  LEASE_NOT_HELD: 27,
})

/**
 * Exits that are not errors: the command did its work, and something a
 * script must tell apart still happened (`doctor`'s 30 is EXIT_UNHEALTHY in
 * commands/doctor.ts). Their JSON envelope is `ok: true`.
 */
/** `issue claim` found nothing claimable (data: null): a loop's cue to stop. */
export const EXIT_NOTHING_TO_CLAIM = 31
/** The command succeeded, but a claim or lease of the agent lapsed since its last command (warning CLAIM_LAPSED). */
export const EXIT_CLAIM_LAPSED = 32

/** The exit code of an error code (INTERNAL's for a code this table does not know yet). */
export function exitCodeOf(code: string): number {
  return (EXIT_CODES as Record<string, number | undefined>)[code] ?? EXIT_CODES.INTERNAL!
}
