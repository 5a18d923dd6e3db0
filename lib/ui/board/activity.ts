/**
 * One line of the board's activity strip per logged event: who did what to
 * which issue, when. Pure; long bodies are cut so a page of activity stays
 * small whatever agents write into comments.
 */
import type { LoggedEvent } from '../../../protocol/messages.ts'

export interface ActivityItem {
  seq: number
  issueId: string
  actor: string
  ts: number
  type: string
  /** A short, human summary of the change ("closed", "label +api", "comment: ..."). */
  text: string
  /** The other issue of a dependency change. */
  target?: string
}

const SNIPPET = 140
const DEP_WORDS = { depends_on: 'depends on', blocks: 'blocks', related_to: 'is related to' } as const

const cut = (s: string): string => (s.length > SNIPPET ? `${s.slice(0, SNIPPET - 1)}…` : s)

/** The summary line of one event kind. */
export function describe(kind: LoggedEvent['event']['kind']): string {
  switch (kind.type) {
    case 'IssueCreated': return `created “${cut(kind.title)}”`
    case 'IssueUpdated': return kind.title ? `retitled “${cut(kind.title)}”` : 'edited the description'
    case 'CommentAdded': return `commented: ${cut(kind.body.replace(/\s+/g, ' '))}`
    case 'LabelAdded': return `label +${cut(kind.label)}`
    case 'LabelRemoved': return `label −${cut(kind.label)}`
    case 'StateChanged': return kind.state === 'closed' ? 'closed' : 'reopened'
    case 'LinkAdded': return `linked ${cut(kind.url)}`
    case 'AssigneeAdded': return `assigned ${cut(kind.user)}`
    case 'AssigneeRemoved': return `unassigned ${cut(kind.user)}`
    case 'AttachmentAdded': return `attached ${cut(kind.name)}`
    case 'DependencyAdded': return `now ${DEP_WORDS[kind.depType]}`
    case 'DependencyRemoved': return `no longer ${DEP_WORDS[kind.depType]}`
    case 'ContextUpdated': return `context of ${cut(kind.path)}`
    case 'ProjectContextUpdated': return `project context ${cut(kind.key)}`
  }
}

/**
 * The activity line of a logged event; a dependency change names its other
 * issue in `target` (the text says "now depends on", the page links it).
 * @example activityOf({ seq: 3, event }) // { seq: 3, type: 'StateChanged', text: 'closed', ... }
 */
export function activityOf(e: LoggedEvent): ActivityItem {
  const k = e.event.kind
  const item: ActivityItem = { seq: e.seq, issueId: e.event.issueId, actor: e.event.actor, ts: e.event.tsUnixMs, type: k.type, text: describe(k) }
  if (k.type === 'DependencyAdded' || k.type === 'DependencyRemoved') item.target = k.target
  return item
}
