/**
 * The short text form of each tool's result, next to its structured
 * content: what a model reads when its client shows it text only. Full
 * issue ids throughout (an agent acts on them), one line per item.
 */
import type { LoggedEvent, WriteResult } from '../../protocol/messages.ts'
import type { IssueProjection, IssueSummary } from '../../protocol/results.ts'

type Lease = { resource: string; token: number; expiresAt: number }

const tags = (labels: string[]): string => (labels.length > 0 ? ` [${labels.join(', ')}]` : '')
const who = (assignees: string[]): string => (assignees.length > 0 ? ` (assigned: ${assignees.join(', ')})` : '')

export function summaryLine(i: IssueSummary | IssueProjection): string {
  return `${i.id}  ${i.state}  ${i.title}${tags(i.labels)}${who(i.assignees)}`
}

export function summaries(list: (IssueSummary | IssueProjection)[], none: string): string {
  return list.length === 0 ? none : list.map(summaryLine).join('\n')
}

export function issueText(i: IssueProjection): string {
  const lines = [summaryLine(i)]
  if (i.body) lines.push('', i.body)
  for (const d of i.dependencies) lines.push(`${d.depType}: ${d.target}`)
  for (const l of i.links) lines.push(`link: ${l.url}${l.note ? ` (${l.note})` : ''}`)
  for (const a of i.attachments) lines.push(`attachment: ${a.name} ${a.mime} sha256 ${a.sha256}`)
  for (const c of i.comments) lines.push('', `--- comment by ${c.actor} at ${new Date(c.tsUnixMs).toISOString()}`, c.body)
  return lines.join('\n')
}

export function writeText(verb: string, r: WriteResult): string {
  const warn = r.warnings?.length ? `; warning: ${r.warnings.map((w) => `${w.resource} is leased by ${w.heldBy}`).join(', ')}` : ''
  return `${verb} ${r.issueId} (seq ${r.seq}${r.duplicate ? ', already applied by this opId' : ''})${warn}`
}

export function leaseText(l: Lease): string {
  return `${l.resource}  token ${l.token}  expires ${new Date(l.expiresAt).toISOString()}`
}

export function eventText(e: LoggedEvent): string {
  const k = e.event.kind as { type: string } & Record<string, unknown>
  const detail = ['title', 'label', 'state', 'user', 'target', 'url', 'name'].map((f) => k[f]).find((v) => typeof v === 'string')
  return `${e.seq}  ${e.event.issueId}  ${k.type}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}  by ${e.event.actor}`
}

export function eventsText(events: LoggedEvent[], none: string): string {
  return events.length === 0 ? none : events.map(eventText).join('\n')
}
