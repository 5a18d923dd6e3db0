/**
 * The one envelope every message travels in, between threads and over the
 * daemon socket alike.
 *
 * Wire contract (protocol version 1):
 * - `v`    protocol version; a receiver answers an unknown `v` with SCHEMA_MISMATCH.
 * - `id`   sender-unique positive integer, used as the correlation key of replies.
 * - `type` message type (see messages.ts); unknown types get UNKNOWN_MESSAGE.
 * - `from` / `to` actor addresses (`supervisor`, `repo-worker:<repoId>`, ...).
 * - `corr` on replies only: the `id` of the request being answered.
 * - `body` type-specific payload; absent fields default as documented per type.
 */
import { CairnError } from './errors.ts'

export const PROTOCOL_VERSION = 1

export interface Envelope<T extends string = string, B = unknown> {
  v: number
  id: number
  type: T
  from: string
  to: string
  corr?: number
  body: B
}

/** Message type of every reply; its body is a {@link ReplyBody}. */
export const REPLY = 'reply'

export type ReplyBody =
  | { ok: true; value: unknown }
  | { ok: false; error: import('./errors.ts').WireError }

/**
 * Builds a request or one-way envelope.
 * @example envelope(7, 'ping', 'supervisor', 'host:1', {})
 */
export function envelope<T extends string, B>(id: number, type: T, from: string, to: string, body: B): Envelope<T, B> {
  return { v: PROTOCOL_VERSION, id, type, from, to, body }
}

/** Builds the successful reply to `req`. */
export function replyOk(id: number, req: Envelope, value: unknown): Envelope<typeof REPLY, ReplyBody> {
  return { v: PROTOCOL_VERSION, id, type: REPLY, from: req.to, to: req.from, corr: req.id, body: { ok: true, value } }
}

/**
 * The daemon socket's reply body from its protocol 2 on: the same
 * `{ ok, data } | { ok: false, error }` envelope the CLI prints with --json
 * (between threads, and on socket protocol 1, a success carries `value`).
 */
export type DataReplyBody =
  | { ok: true; data: unknown }
  | { ok: false; error: import('./errors.ts').WireError }

/** Builds the successful reply to `req` whose body carries `data`. */
export function replyData(id: number, req: Envelope, data: unknown): Envelope<typeof REPLY, DataReplyBody> {
  return { v: PROTOCOL_VERSION, id, type: REPLY, from: req.to, to: req.from, corr: req.id, body: { ok: true, data } }
}

/** Builds the error reply to `req`. */
export function replyError(id: number, req: Envelope, error: CairnError): Envelope<typeof REPLY, ReplyBody> {
  return { v: PROTOCOL_VERSION, id, type: REPLY, from: req.to, to: req.from, corr: req.id, body: { ok: false, error: error.toWire() } }
}

/**
 * Checks that a decoded value has the envelope's shape. Throws INVALID_FORMAT
 * for a malformed envelope and SCHEMA_MISMATCH for another protocol version, so
 * the receiver can answer with the right code and keep going.
 */
export function validateEnvelope(value: unknown): Envelope {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CairnError('INVALID_FORMAT', 'envelope must be a map')
  }
  const e = value as Record<string, unknown>
  if (typeof e.v !== 'number') throw new CairnError('INVALID_FORMAT', 'envelope.v must be a number')
  if (e.v !== PROTOCOL_VERSION) {
    throw new CairnError('SCHEMA_MISMATCH', `protocol version ${e.v} not understood (this side speaks ${PROTOCOL_VERSION})`, { v: e.v, expected: PROTOCOL_VERSION })
  }
  if (!Number.isSafeInteger(e.id) || (e.id as number) < 0) throw new CairnError('INVALID_FORMAT', 'envelope.id must be a non-negative integer')
  if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > 128) throw new CairnError('INVALID_FORMAT', 'envelope.type must be a short string')
  if (typeof e.from !== 'string' || e.from.length > 512) throw new CairnError('INVALID_FORMAT', 'envelope.from must be a string')
  if (typeof e.to !== 'string' || e.to.length > 512) throw new CairnError('INVALID_FORMAT', 'envelope.to must be a string')
  if (e.corr !== undefined && (!Number.isSafeInteger(e.corr) || (e.corr as number) < 0)) {
    throw new CairnError('INVALID_FORMAT', 'envelope.corr must be a non-negative integer')
  }
  if (e.type === REPLY) validateReplyBody(e.body)
  return e as unknown as Envelope
}

function validateReplyBody(body: unknown): void {
  if (body === null || typeof body !== 'object') throw new CairnError('INVALID_FORMAT', 'reply body must be a map')
  const b = body as Record<string, unknown>
  if (b.ok === true) return
  if (b.ok === false && b.error && typeof b.error === 'object') return
  throw new CairnError('INVALID_FORMAT', 'reply body must be {ok:true,value|data} or {ok:false,error}')
}
