/**
 * What the CLI prints. With `--json`, exactly one line on stdout per command
 * (streams: one per item, then one for the end), each a stable envelope:
 *
 *   { "ok": true,  "data": <result> }
 *   { "ok": false, "error": { "code": "NOT_FOUND", "message": "..." } }
 *
 * Without it, results are formatted for people on stdout and errors go to
 * stderr as `cairn: CODE: message`. Either way the exit code is the one of
 * the error code (exit-codes.ts).
 */
import { CairnError } from '../../protocol/errors.ts'
import { exitCodeOf, EXIT_OK } from './exit-codes.ts'

export interface Io {
  out(text: string): void
  err(text: string): void
  isTTY: boolean
}

export type Human = (data: never) => string

export function okEnvelope(data: unknown): string {
  return JSON.stringify({ ok: true, data: data === undefined ? null : data })
}

export function errorEnvelope(err: CairnError): string {
  return JSON.stringify({ ok: false, error: { code: err.code, message: err.message } })
}

/** Prints a result; returns the exit code. */
export function printResult(io: Io, json: boolean, data: unknown, human?: Human): number {
  if (json) io.out(`${okEnvelope(data)}\n`)
  else {
    const text = human ? human(data as never) : defaultHuman(data)
    if (text !== '') io.out(text.endsWith('\n') ? text : `${text}\n`)
  }
  return EXIT_OK
}

/** Prints an error; returns its exit code. */
export function printError(io: Io, json: boolean, error: unknown): number {
  const err = CairnError.from(error)
  if (json) io.out(`${errorEnvelope(err)}\n`)
  else io.err(`cairn: ${err.code}: ${err.message}\n`)
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
const tags = (labels?: string[]): string => (labels && labels.length > 0 ? `  [${labels.join(', ')}]` : '')

export function issueLine(i: IssueLike): string {
  return `${short(i.id)}  ${i.state.padEnd(6)}  ${i.title}${tags(i.labels)}`
}

export function issueList(list: IssueLike[]): string {
  if (list.length === 0) return '(no issues)'
  return list.map(issueLine).join('\n')
}

export function issueDetail(i: IssueLike): string {
  const lines = [`${i.id}  ${i.state}`, `title:     ${i.title}`]
  if (i.labels?.length) lines.push(`labels:    ${i.labels.join(', ')}`)
  if (i.assignees?.length) lines.push(`assignees: ${i.assignees.join(', ')}`)
  if (i.body) lines.push('', i.body)
  for (const d of i.dependencies ?? []) lines.push(`${d.depType}: ${short(d.target)}`)
  for (const l of i.links ?? []) lines.push(`link: ${l.url}${l.note ? ` (${l.note})` : ''}`)
  for (const c of Array.isArray(i.comments) ? i.comments : []) lines.push('', `--- ${short(c.actor)}`, c.body)
  return lines.join('\n')
}

export function writeLine(verb: string) {
  return (r: { issueId: string; seq: number; duplicate: boolean }): string =>
    `${verb} ${short(r.issueId)} (seq ${r.seq}${r.duplicate ? ', already applied' : ''})`
}

export function leaseLine(l: { resource: string; token: number; expiresAt: number }): string {
  return `${l.resource}  token ${l.token}  expires ${new Date(l.expiresAt).toISOString()}`
}

export function eventLine(e: { seq: number; event: { issueId: string; actor: string; kind: { type: string } } }): string {
  return `${String(e.seq).padStart(6)}  ${short(e.event.issueId)}  ${e.event.kind.type}  by ${short(e.event.actor)}`
}
