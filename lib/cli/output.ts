/**
 * What the CLI prints. With `--json`, exactly one line on stdout per command
 * (streams: one per item, then one for the end), each a stable envelope:
 *
 *   { "ok": true,  "data": <result> }
 *   { "ok": false, "error": { "code": "NOT_FOUND", "message": "..." } }
 *
 * Without it, results are formatted for people on stdout and errors go to
 * stderr as `cairn: CODE: message`. Either way the exit code is the one of
 * the error code (exit-codes.ts). Human output shows control characters of
 * stored text as visible escapes (safe-text.ts): it may come from any replica.
 */
import { CairnError } from '../../protocol/errors.ts'
import { exitCodeOf, EXIT_OK } from './exit-codes.ts'
import { oneLine, terminalText } from './safe-text.ts'

export interface Io {
  out(text: string): void
  err(text: string): void
  isTTY: boolean
}

/** Agent names by actor id, for people: `name(actor)` is the agent's name, or a short id for an actor of unknown name. */
export type Names = (actor: string) => string

export type Human = (data: never, names: Names) => string

/** A warning that rides with a result (`CLAIM_LAPSED`: a claim of the agent lapsed since its last command). */
export interface Warning { code: string; message: string; [k: string]: unknown }

export function okEnvelope(data: unknown, warnings?: readonly Warning[]): string {
  return JSON.stringify({ ok: true, data: data === undefined ? null : data, ...(warnings && warnings.length > 0 ? { warnings } : {}) })
}

export function errorEnvelope(err: CairnError, warnings?: readonly Warning[]): string {
  return JSON.stringify({ ok: false, error: { code: err.code, message: err.message }, ...(warnings && warnings.length > 0 ? { warnings } : {}) })
}

/** Prints a result (and its warnings: stderr for people, the envelope's `warnings` in JSON); returns EXIT_OK. */
export function printResult(io: Io, json: boolean, data: unknown, human?: Human, opts: { warnings?: readonly Warning[]; names?: Names } = {}): number {
  const warnings = opts.warnings ?? []
  if (json) io.out(`${okEnvelope(data, warnings)}\n`)
  else {
    for (const w of warnings) io.err(`cairn: warning: ${w.code}: ${terminalText(w.message)}\n`)
    const text = human ? human(data as never, opts.names ?? shortName) : defaultHuman(data)
    if (text !== '') io.out(terminalText(text.endsWith('\n') ? text : `${text}\n`))
  }
  return EXIT_OK
}

/** Names unknown: a short actor id. */
export const shortName: Names = (actor) => actor.slice(0, 8)

/**
 * How long until `at` (ms since the epoch), for people: `in 4m 59s`, or
 * `3s ago` once past.
 * @example timeLeft(Date.now() + 299_000) // 'in 4m 59s'
 */
export function timeLeft(at: number, now = Date.now()): string {
  const ms = at - now
  let s = Math.round(Math.abs(ms) / 1000)
  const parts: string[] = []
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`)
      s %= size
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`)
  const span = parts.slice(0, 2).join(' ')
  return ms >= 0 ? `in ${span}` : `${span} ago`
}

/** An instant for people: ISO time and how far away it is. */
export function when(at: number, now = Date.now()): string {
  return `${new Date(at).toISOString()} (${timeLeft(at, now)})`
}

/** Prints an error (after the warnings of the command); returns its exit code. */
export function printError(io: Io, json: boolean, error: unknown, warnings: readonly Warning[] = []): number {
  const err = CairnError.from(error)
  if (json) io.out(`${errorEnvelope(err, warnings)}\n`)
  else {
    for (const w of warnings) io.err(`cairn: warning: ${w.code}: ${terminalText(w.message)}\n`)
    io.err(`cairn: ${err.code}: ${terminalText(err.message)}\n`)
  }
  return exitCodeOf(err.code)
}

function defaultHuman(data: unknown): string {
  if (data === null || data === undefined) return ''
  if (typeof data !== 'object') return String(data)
  return JSON.stringify(data, null, 2)
}

// ---- people's formats -------------------------------------------------------

interface IssueLike {
  id: string; title: string; state: string; labels?: string[]; assignees?: string[]; body?: string
  comments?: { body: string; actor: string }[] | number
  links?: { url: string; note?: string | null }[]
  dependencies?: { target: string; depType: string }[]
  createdBy?: string; eventCount?: number
}

const short = (id: string): string => id.slice(0, 8)
const tags = (labels?: string[]): string => (labels && labels.length > 0 ? `  [${labels.map(oneLine).join(', ')}]` : '')
const list = (xs: string[]): string => xs.map(oneLine).join(', ')

export function issueLine(i: IssueLike): string {
  return `${oneLine(short(i.id))}  ${oneLine(i.state).padEnd(6)}  ${oneLine(i.title)}${tags(i.labels)}`
}

export function issueList(list: IssueLike[]): string {
  if (list.length === 0) return '(no issues)'
  return list.map(issueLine).join('\n')
}

export function issueDetail(i: IssueLike, names: Names = shortName): string {
  const lines = [`${oneLine(i.id)}  ${oneLine(i.state)}`, `title:     ${oneLine(i.title)}`]
  if (i.createdBy) lines.push(`author:    ${oneLine(names(i.createdBy))}`)
  if (i.labels?.length) lines.push(`labels:    ${list(i.labels)}`)
  if (i.assignees?.length) lines.push(`assignees: ${list(i.assignees)}`)
  if (i.body) lines.push('', terminalText(i.body))
  for (const d of i.dependencies ?? []) lines.push(`${oneLine(d.depType)}: ${oneLine(short(d.target))}`)
  for (const l of i.links ?? []) lines.push(`link: ${oneLine(l.url)}${l.note ? ` (${oneLine(l.note)})` : ''}`)
  for (const c of Array.isArray(i.comments) ? i.comments : []) lines.push('', `--- ${oneLine(names(c.actor))}`, terminalText(c.body))
  return lines.join('\n')
}

export function writeLine(verb: string) {
  return (r: { issueId: string; seq: number; duplicate: boolean; noop?: boolean; released?: boolean }): string =>
    r.noop ? `${short(r.issueId)} unchanged: nothing to do${r.released ? '; its claim is released' : ''}`
      : `${verb} ${short(r.issueId)} (seq ${r.seq}${r.duplicate ? ', already applied' : ''})${r.released ? '; its claim is released' : ''}`
}

/** A lease (or hold) for people: resource, fencing token, expiry as ISO time and time left. The lease id is never printed. */
export function leaseLine(l: { resource: string; token: number; expiresAt: number; holder?: { actor: string; agent?: string } }, names: Names = shortName): string {
  const who = l.holder ? `  held by ${oneLine(l.holder.agent ?? names(l.holder.actor))}` : ''
  return `${oneLine(l.resource)}  token ${l.token}${who}  expires ${when(l.expiresAt)}`
}

export function eventLine(e: { seq: number; event: { issueId: string; actor: string; kind: { type: string } } }, names: Names = shortName): string {
  return `${String(e.seq).padStart(6)}  ${oneLine(short(e.event.issueId))}  ${oneLine(e.event.kind.type)}  by ${oneLine(names(e.event.actor))}`
}
