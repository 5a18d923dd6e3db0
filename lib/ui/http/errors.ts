/**
 * How the board's HTTP routes fail: one JSON shape,
 * `{ ok: false, error: { code, message } }`, with the status a browser or a
 * script expects for the code. Codes are Cairn's stable ones
 * (protocol/errors.ts) plus three that exist only over HTTP and never reach
 * the socket protocol or an exit code: `UNAUTHORIZED` (401, no or a wrong
 * token), `FORBIDDEN` (403, a write on a read-only board, a foreign Host or
 * Origin) and `TOO_LARGE` (413/414/431 sizes). Messages never contain the
 * token, and an INTERNAL error's message is replaced by a generic one (it may
 * name paths or internals the page has no use for).
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { CairnError, type ErrorCode } from '../../../protocol/errors.ts'

export type HttpOnlyCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'TOO_LARGE'

/** An error that carries its HTTP status. */
export class HttpError extends Error {
  constructor(readonly status: ContentfulStatusCode, readonly code: ErrorCode | HttpOnlyCode, message: string, readonly headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
  }
}

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  INVALID_ARGUMENT: 400,
  INVALID_FORMAT: 400,
  AMBIGUOUS_ID: 400,
  UNKNOWN_MESSAGE: 400,
  NOT_FOUND: 404,
  CYCLE: 409,
  LEASE_HELD: 409,
  LEASE_LOST: 409,
  TIMEOUT: 504,
  ABORTED: 499 as ContentfulStatusCode,
  MAILBOX_FULL: 503,
  BUSY: 503,
  UNAVAILABLE: 503,
  ACTOR_FAILED: 503,
  STOPPED: 503,
}

/** The status, code and message a thrown value answers with. */
export function httpErrorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err
  const e = CairnError.from(err)
  const status = STATUS[e.code] ?? 500
  const retry: Record<string, string> = e.code === 'MAILBOX_FULL' || e.code === 'BUSY' || e.code === 'UNAVAILABLE' ? { 'Retry-After': '1' } : {}
  const message = status === 500 ? 'internal error; the daemon log (daemon.log in the runtime home) has the details' : e.message
  return new HttpError(status, e.code, message, retry)
}

/** The JSON error response for `err`. */
export function errorResponse(c: Context, err: unknown): Response {
  const e = httpErrorOf(err)
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v)
  return c.json({ ok: false, error: { code: e.code, message: e.message } }, e.status)
}

export const badRequest = (field: string, problem: string): HttpError => new HttpError(400, 'INVALID_ARGUMENT', `${field} ${problem}`)
