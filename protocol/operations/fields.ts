/**
 * The argument fields the daemon's operations share, as zod schemas with
 * the descriptions an LLM (MCP tools), a person (`--help`, docs/protocol.md)
 * or another language's client reads.
 *
 * Each field checks what the library checks for it, with the same limits
 * (protocol/limits.ts) and the same wording, so a bad argument is refused
 * with the same INVALID_ARGUMENT naming the same field whether it is caught
 * here or deeper down. What depends on the store (an unknown id, a prefix
 * matching two issues, a cycle) or on several fields at once (update needs
 * a title or a body) stays with the library: one place decides it.
 */
import { z } from 'zod'
import { LIMITS, MAX_PAGE, MAX_RESOURCE_NAME, MAX_TTL_MS } from '../limits.ts'

// C0/C1 controls and line/paragraph separators have no place in a one-line name.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const ID_REF = /^[0-9a-fA-F]{4,32}$/

/** An integer in [min, max], refused with one message whatever is wrong with it. */
export function intIn(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodInt {
  const error = max === Number.MAX_SAFE_INTEGER ? `must be an integer ≥ ${min}` : `must be an integer from ${min} to ${max}`
  return z.int({ error }).min(min, { error }).max(max, { error })
}

/** Free text (a title, a body): at most `max` characters of well-formed Unicode, blank only when `allowBlank`. */
export function text(max: number, allowBlank: boolean): z.ZodString {
  let s = z.string().max(max, { error: `must be at most ${max} characters` })
  if (!allowBlank) s = s.refine((v) => v.trim().length > 0, { error: 'must not be blank' })
  return s.refine((v) => v.isWellFormed(), { error: 'must be well-formed Unicode (no lone surrogates)' })
}

/** A one-line name (label, assignee): surrounding whitespace would make two names look alike. */
export function name(max: number = LIMITS.name): z.ZodString {
  return z.string().min(1, { error: 'must be a non-empty string' }).max(max, { error: `must be at most ${max} characters` })
    .refine((v) => v.trim() === v && !CONTROL.test(v) && v.isWellFormed(), { error: 'must have no surrounding whitespace and no control characters' })
}

/** A list of names, at most LIMITS.perCall of them. */
export function names(what: string): z.ZodArray<z.ZodString> {
  return z.array(name(), { error: 'must be an array of strings' })
    .max(LIMITS.perCall, { error: `must hold at most ${LIMITS.perCall} entries` })
    .describe(`${what} (each 1..${LIMITS.name} characters, at most ${LIMITS.perCall})`)
}

/** An issue: its full id or a unique prefix of at least 4 hex characters. */
export function issueRef(what = 'the issue'): z.ZodString {
  return z.string({ error: 'must be an issue id or a hex prefix of 4..32 characters' })
    .regex(ID_REF, { error: 'must be an issue id or a hex prefix of 4..32 characters' })
    .describe(`${what}: its id (32 hex characters) or a unique prefix of at least 4`)
}

export const title = text(LIMITS.title, false).describe(`the issue's title (1..${LIMITS.title} characters, not blank)`)

/** The idempotency key every write takes. */
export const opId = z.string().min(1, { error: `must be a string of 1..${LIMITS.opId} characters` })
  .max(LIMITS.opId, { error: `must be a string of 1..${LIMITS.opId} characters` })
  .describe('idempotency key: a retry with the same opId applies once and answers the first result')

/** A fencing token: the write is refused (LEASE_LOST) unless it is the writer's live lease covering the issue. */
export const lease = intIn(1).describe('fence the write on this lease token: refused with LEASE_LOST unless it is your live lease covering the issue')

/** The options every issue write accepts. */
export const writeOptions = { opId: opId.optional(), lease: lease.optional() }

export const ttlMs = intIn(1, MAX_TTL_MS)

/** A lease resource; the LockKeeper parses the rest of it (normal paths, issue ids). */
export const resource = z.string({ error: 'must be a non-empty string' })
  .min(1, { error: 'must be a non-empty string' })
  .max(MAX_RESOURCE_NAME + 6, { error: `name is longer than ${MAX_RESOURCE_NAME} characters` })
  .regex(/^(repo|path|issue):/, { error: 'must start with repo:, path: or issue:' })
  .describe('what to lease: repo:<name> (the whole repository), path:<relative/path> (a file or directory, conflicts with its ancestors and descendants) or issue:<id>')

export const token = intIn(1).describe('the fencing token the grant answered')

/** A git remote: a configured name, a URL or a path. */
export const remote = z.string({ error: 'must be a remote name, URL or path' }).min(1, { error: 'must be a remote name, URL or path' })

export const fromSeq = intIn(1).describe('the first local log sequence number to return (default 1)')
export const pageLimit = intIn(1, MAX_PAGE).describe(`most events to return (1..${MAX_PAGE}, default 256)`)

/** The proof of holding a lease: its lease id, answered to the holder with the grant. */
export const leaseId = z.string({ error: 'must be a lease id of 1..128 characters' }).min(1, { error: 'must be a lease id of 1..128 characters' })
  .max(128, { error: 'must be a lease id of 1..128 characters' })
  .describe("the lease id the grant answered (proof of holding); only for a lease your agent does not hold through this daemon")

/** A process of the daemon's machine whose life keeps a hold renewed. */
export const pid = intIn(1).describe('keep this renewed while the process with this pid lives (the daemon watches it; not with an embedded runtime)')

/** Why, for a record people read: one line. */
export const reason = text(1024, false).refine((v) => !CONTROL.test(v), { error: 'must be one line without control characters' })
