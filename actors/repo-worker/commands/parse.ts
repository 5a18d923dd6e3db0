/**
 * Issue commands as they cross the thread boundary, validated before they
 * join a batch: a malformed request is refused at once with INVALID_ARGUMENT
 * naming the field, and never costs a transaction. What depends on the
 * store (unknown ids, ambiguous prefixes, cycles) is decided later, inside
 * the transaction that writes the events (apply.ts).
 */
import { invalidArgument } from '../../../protocol/errors.ts'
import type { Envelope } from '../../../protocol/envelope.ts'
import type { DepType } from '../../../protocol/events/types.ts'
import { MESSAGE_TYPES as M } from '../../../protocol/messages.ts'
import { parseIngest, type IngestCommand } from './ingest.ts'
import { LIMITS } from '../../../protocol/limits.ts'

export { LIMITS }

interface Base { actor: string; opId: string | null; leaseToken: number | null }

export type IssueCommand =
  | Base & { type: 'create'; title: string; body: string; labels: string[] }
  | Base & { type: 'update'; id: string; title: string | null; body: string | null }
  | Base & { type: 'comment'; id: string; body: string }
  /** `reason` is recorded as a comment before the change; `leaseId` releases the closer's lease on the issue (its claim ends). */
  | Base & { type: 'state'; id: string; state: 'open' | 'closed'; reason: string | null; leaseId: string | null }
  | Base & { type: 'label' | 'assign'; id: string; add: string[]; remove: string[] }
  | Base & { type: 'link'; id: string; url: string; note: string | null }
  | Base & { type: 'attach'; id: string; name: string; sha256: string; mime: string }
  | Base & { type: 'depend'; id: string; target: string; depType: DepType; remove: boolean }
  /** claimNext, one step: the first ready, unleased issue, leased to the caller and assigned to `user`. */
  /** `issue`: only that issue is a candidate (a claim already won on the coordination remote, lib/api/claims). */
  | Base & { type: 'claim-next'; user: string; session: string; ttlMs: number; label: string | null; issue: string | null }

export type Command = IssueCommand | IngestCommand | { type: 'identity'; agent: string; opId: null }

const HEX32 = /^[0-9a-f]{32}$/
const ID_REF = /^[0-9a-fA-F]{4,32}$/
const SHA256 = /^[0-9a-f]{64}$/
const MIME = /^[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*\/[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*$/
// C0/C1 controls and line/paragraph separators have no place in a one-line name.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const DEP_TYPES: readonly DepType[] = ['blocks', 'depends_on', 'related_to']

type Body = Record<string, unknown>

function obj(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgument('body', 'must be an object')
  return v as Body
}

export function text(b: Body, field: string, max: number, opts: { required: boolean; allowEmpty?: boolean }): string | null {
  const v = b[field]
  if (v === undefined || v === null) {
    if (opts.required) throw invalidArgument(field, 'is required')
    return null
  }
  if (typeof v !== 'string') throw invalidArgument(field, 'must be a string')
  if (v.length > max) throw invalidArgument(field, `must be at most ${max} characters`)
  if (!opts.allowEmpty && v.trim().length === 0) throw invalidArgument(field, 'must not be blank')
  if (!v.isWellFormed()) throw invalidArgument(field, 'must be well-formed Unicode (no lone surrogates)')
  return v
}

/** A one-line name: label, user, agent. Leading/trailing space would make two names look alike. */
function name(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0) throw invalidArgument(field, 'must be a non-empty string')
  if (v.length > max) throw invalidArgument(field, `must be at most ${max} characters`)
  if (v.trim() !== v || CONTROL.test(v) || !v.isWellFormed()) {
    throw invalidArgument(field, 'must have no surrounding whitespace and no control characters')
  }
  return v
}

function names(b: Body, field: string): string[] {
  const v = b[field]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw invalidArgument(field, 'must be an array of strings')
  if (v.length > LIMITS.perCall) throw invalidArgument(field, `must hold at most ${LIMITS.perCall} entries`)
  return [...new Set(v.map((x, i) => name(x, `${field}[${i}]`, LIMITS.name)))].sort()
}

/** An issue id or a unique prefix of at least 4 hex characters; resolved in the transaction. */
export function idRef(v: unknown, field: string): string {
  if (typeof v !== 'string' || !ID_REF.test(v)) throw invalidArgument(field, 'must be an issue id or a hex prefix of 4..32 characters')
  return v.toLowerCase()
}

export function actorId(v: unknown): string {
  if (typeof v !== 'string' || !HEX32.test(v)) throw invalidArgument('actor', 'must be 32 lowercase hex characters')
  return v
}

function opIdOf(b: Body): string | null {
  const v = b.opId
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v.length === 0 || v.length > LIMITS.opId) throw invalidArgument('opId', `must be a string of 1..${LIMITS.opId} characters`)
  return v
}

function leaseTokenOf(b: Body): number | null {
  const v = b.leaseToken
  if (v === undefined || v === null) return null
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw invalidArgument('leaseToken', 'must be a positive integer')
  return v as number
}

function url(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > LIMITS.url) throw invalidArgument('url', `must be a string of 1..${LIMITS.url} characters`)
  if (!URL.canParse(v) || CONTROL.test(v)) throw invalidArgument('url', 'must be an absolute URL')
  return v
}

/**
 * Validates a command request. Throws INVALID_ARGUMENT (with `details.field`)
 * for anything malformed; the result holds only checked, normalised values.
 * @example parseCommand({ type: 'issues.comment', body: { actor, id: 'ab12', body: 'hi' } })
 */
export function parseCommand(req: Pick<Envelope, 'type' | 'body'>): Command {
  const b = obj(req.body ?? {})
  if (req.type === M.identity) return { type: 'identity', agent: name(b.agent, 'agent', LIMITS.agent), opId: null }
  if (req.type === M.eventsIngest) return parseIngest(b)
  const base: Base = { actor: actorId(b.actor), opId: opIdOf(b), leaseToken: leaseTokenOf(b) }
  switch (req.type) {
    case M.issueCreate:
      return { ...base, type: 'create', title: text(b, 'title', LIMITS.title, { required: true })!,
        body: text(b, 'body', LIMITS.body, { required: false, allowEmpty: true }) ?? '', labels: names(b, 'labels') }
    case M.issueUpdate: {
      const title = text(b, 'title', LIMITS.title, { required: false })
      const body = text(b, 'body', LIMITS.body, { required: false, allowEmpty: true })
      if (title === null && body === null) throw invalidArgument('title', 'title or body is required')
      return { ...base, type: 'update', id: idRef(b.id, 'id'), title, body }
    }
    case M.issueComment:
      return { ...base, type: 'comment', id: idRef(b.id, 'id'), body: text(b, 'body', LIMITS.body, { required: true })! }
    case M.issueState: {
      if (b.state !== 'open' && b.state !== 'closed') throw invalidArgument('state', "must be 'open' or 'closed'")
      const reason = text(b, 'reason', LIMITS.body, { required: false })
      const leaseId = b.leaseId === undefined || b.leaseId === null ? null : b.leaseId
      if (leaseId !== null && (typeof leaseId !== 'string' || leaseId.length === 0 || leaseId.length > 128)) throw invalidArgument('leaseId', 'must be a lease id of 1..128 characters')
      if (leaseId !== null && base.leaseToken === null) throw invalidArgument('leaseToken', 'releasing a lease on close needs its token too')
      return { ...base, type: 'state', id: idRef(b.id, 'id'), state: b.state, reason, leaseId: leaseId as string | null }
    }
    case M.issueLabel:
    case M.issueAssign: {
      const add = names(b, 'add')
      const remove = names(b, 'remove')
      if (add.length === 0 && remove.length === 0) throw invalidArgument('add', 'add or remove must name at least one entry')
      const both = add.find((x) => remove.includes(x))
      if (both !== undefined) throw invalidArgument('remove', `'${both}' is both added and removed`)
      return { ...base, type: req.type === M.issueLabel ? 'label' : 'assign', id: idRef(b.id, 'id'), add, remove }
    }
    case M.issueLink:
      return { ...base, type: 'link', id: idRef(b.id, 'id'), url: url(b.url), note: text(b, 'note', LIMITS.note, { required: false, allowEmpty: true }) }
    case M.issueAttach: {
      const sha = b.sha256
      if (typeof sha !== 'string' || !SHA256.test(sha)) throw invalidArgument('sha256', 'must be 64 lowercase hex characters')
      const mime = b.mime
      if (typeof mime !== 'string' || mime.length > LIMITS.mime || !MIME.test(mime)) throw invalidArgument('mime', 'must be a media type such as text/plain')
      return { ...base, type: 'attach', id: idRef(b.id, 'id'), name: name(b.name, 'name', LIMITS.attachmentName), sha256: sha, mime }
    }
    case M.issueDepend: {
      const depType = b.type
      if (typeof depType !== 'string' || !DEP_TYPES.includes(depType as DepType)) throw invalidArgument('type', `must be one of ${DEP_TYPES.join(', ')}`)
      if (b.remove !== undefined && typeof b.remove !== 'boolean') throw invalidArgument('remove', 'must be a boolean')
      return { ...base, type: 'depend', id: idRef(b.id, 'id'), target: idRef(b.target, 'target'), depType: depType as DepType, remove: b.remove === true }
    }
    case M.issueClaimNext: {
      if (base.leaseToken !== null) throw invalidArgument('leaseToken', 'a claim takes its own lease; it is not fenced on another')
      const session = b.session
      if (typeof session !== 'string' || session.length === 0 || session.length > 128) throw invalidArgument('session', 'must be 1..128 characters')
      const ttlMs = b.ttlMs
      if (!Number.isSafeInteger(ttlMs) || (ttlMs as number) < 1 || (ttlMs as number) > 86_400_000) throw invalidArgument('ttlMs', 'must be an integer in 1..86400000')
      const label = b.label === undefined || b.label === null ? null : name(b.label, 'label', LIMITS.name)
      if (b.issue !== undefined && b.issue !== null && (typeof b.issue !== 'string' || !HEX32.test(b.issue))) throw invalidArgument('issue', 'must be a full issue id (32 lowercase hex)')
      const issue = typeof b.issue === 'string' ? b.issue : null
      return { ...base, type: 'claim-next', user: name(b.user, 'user', LIMITS.name), session, ttlMs: ttlMs as number, label, issue }
    }
    default:
      throw invalidArgument('type', `${req.type} is not an issue command`)
  }
}
