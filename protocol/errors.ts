/**
 * Stable error codes. Callers match on `error.code`, never on classes: class
 * identity does not survive msgpack or a Unix socket, the code does.
 *
 * The table is the single source: adding a code here makes it constructible,
 * serialisable and documented at once. Codes are never renamed or reused.
 *
 * @example
 *   try { await repo.issues.show('zz') } catch (e) {
 *     if (isCairnError(e, 'INVALID_ARGUMENT')) { ... }
 *   }
 */
export const ERROR_CODES = {
  TIMEOUT: 'the request did not complete before its deadline',
  ABORTED: 'the caller aborted the request',
  MAILBOX_FULL: 'the actor mailbox is full; back off and retry',
  UNAVAILABLE: 'the actor or its thread is down or restarting',
  UNKNOWN_MESSAGE: 'the message type is not understood by its recipient',
  SCHEMA_MISMATCH: 'protocol or schema version not understood',
  INVALID_ARGUMENT: 'an argument or option is invalid',
  INVALID_FORMAT: 'bytes on the wire or on disk are malformed',
  NOT_FOUND: 'no such object',
  AMBIGUOUS_ID: 'an id prefix matches more than one object',
  CYCLE: 'the change would create a dependency cycle',
  LEASE_HELD: 'the resource is leased by someone else',
  LEASE_LOST: 'the lease token is stale',
  FOREIGN_STORE: 'the store belongs to another application',
  STORE_TOO_NEW: 'the store was written by a newer schema version',
  ACTOR_FAILED: 'the actor exceeded its restart intensity and is stopped',
  STOPPED: 'the runtime is stopping or stopped',
  BUSY: 'too many connections or requests',
  INTERNAL: 'an internal error; please report it',
  UNREACHABLE: 'the git remote could not be reached or is not a repository',
  AUTH_FAILED: 'the git remote refused our credentials or asked for ones we do not have',
  PUSH_REJECTED: 'the git remote refused a ref update (not a fast-forward, or denied)',
  STORE_CORRUPT: 'a store file is damaged; `cairn doctor --fix` rebuilds it from the git WAL',
  STORAGE_FULL: 'the disk is full; nothing was written, retry once space is freed',
  STORE_READ_ONLY: 'the store is on a read-only file system or not writable: it can be read, not written',
  CHUNK_TOO_LARGE: 'a WAL chunk is larger than Cairn reads or writes in one piece',
  LEASE_NOT_HELD: 'the lease belongs to another holder: renewing or releasing it needs the holder\'s lease id',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

const codes = new Set<string>(Object.keys(ERROR_CODES))

/** True when `code` is one of the stable codes of {@link ERROR_CODES}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && codes.has(code)
}

/** The wire form of an error: plain data that msgpack and JSON carry as is. */
export interface WireError {
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
}

/**
 * The one error class of Cairn. `code` is stable; `details` carries
 * machine-readable context (the bad option's name, the lease holder, ...).
 */
export class CairnError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CODES[code])
    this.name = 'CairnError'
    this.code = code
    this.details = details
  }

  /** Plain data for a message or a frame. */
  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message }
    if (this.details !== undefined) wire.details = this.details
    return wire
  }

  /**
   * Rebuilds an error from wire data. Anything that is not a well-formed wire
   * error becomes `INTERNAL` rather than throwing: a peer's bug must not crash us.
   */
  static fromWire(wire: unknown): CairnError {
    if (wire && typeof wire === 'object') {
      const w = wire as Record<string, unknown>
      if (isErrorCode(w.code) && typeof w.message === 'string') {
        const details = w.details && typeof w.details === 'object' ? (w.details as Record<string, unknown>) : undefined
        return new CairnError(w.code, w.message, details)
      }
    }
    return new CairnError('INTERNAL', 'malformed error from peer', { wire: String(wire) })
  }

  /** Wraps anything thrown into a CairnError, keeping codes that are already stable. */
  static from(err: unknown): CairnError {
    if (err instanceof CairnError) return err
    if (err && typeof err === 'object' && isErrorCode((err as { code?: unknown }).code)) {
      const e = err as { code: ErrorCode; message?: string; details?: Record<string, unknown> }
      return new CairnError(e.code, e.message, e.details)
    }
    const message = err instanceof Error ? err.message : String(err)
    return new CairnError('INTERNAL', message)
  }
}

/** True when `err` is a CairnError, optionally with the given code. */
export function isCairnError(err: unknown, code?: ErrorCode): err is CairnError {
  return err instanceof CairnError && (code === undefined || err.code === code)
}

/** Shorthand for an `INVALID_ARGUMENT` that names the offending field. */
export function invalidArgument(field: string, problem: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', `${field} ${problem}`, { field })
}
