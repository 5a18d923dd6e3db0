/**
 * The board of one repository, as the page shows it: every issue as a card
 * in one column. Pure: the same issues, ready set and leases give the same
 * board, so the feed can diff two boards and send only what changed.
 *
 * Columns, first match wins:
 * - `closed`: the issue is closed;
 * - `claimed`: a live lease on `issue:<id>` exists (holder and expiry shown);
 *   a claimed issue that became blocked meanwhile stays here, flagged by its
 *   blockers, because someone is still holding it;
 * - `blocked`: open with `blockers`, the prerequisites (in DESIGN's
 *   dependency direction) that are open or unknown;
 * - `ready`: open with none. That is the repository's own rule for
 *   `ready()` and claim-next (projection/graph.ts), applied to the listed
 *   issues: an issue the replica knows only in part (no IssueCreated yet) is
 *   not listed, so a `blocks` edge only it declares is not seen here until
 *   its creation arrives.
 *
 * Closed issues are many and old: only the `closedLimit` most recently
 * updated are carded; `counts.closed` still counts them all.
 */
import type { LeaseView } from '../../../protocol/messages.ts'
import type { IssueSummary } from '../../../protocol/results.ts'
import { edgeOf } from '../../../actors/repo-worker/projection/index.ts'

export type Column = 'ready' | 'claimed' | 'blocked' | 'closed'

export interface CardHolder {
  actor: string
  session: string
  expiresAt: number
  takeoverAt: number
  grantedAt: number
}

export interface Card {
  id: string
  title: string
  column: Column
  labels: string[]
  assignees: string[]
  /** Open (or unknown) issues that must close before this one; sorted. */
  blockers: string[]
  /** Open issues this one keeps waiting; sorted. */
  blocking: string[]
  holder: CardHolder | null
  comments: number
  createdAt: number
  createdBy: string
  updatedAt: number
}

export interface BoardCounts { ready: number; claimed: number; blocked: number; closed: number; open: number; total: number }

export interface Board { cards: Card[]; counts: BoardCounts }

export interface BoardInput {
  issues: Iterable<IssueSummary>
  leases: readonly LeaseView[]
  closedLimit?: number
}

export const DEFAULT_CLOSED_LIMIT = 200
const ISSUE_PREFIX = 'issue:'

/** The `issue:<id>` leases that are live now, by issue id. */
export function issueHolders(leases: readonly LeaseView[]): Map<string, CardHolder> {
  const out = new Map<string, CardHolder>()
  for (const l of leases) {
    if (!l.live || !l.resource.startsWith(ISSUE_PREFIX)) continue
    out.set(l.resource.slice(ISSUE_PREFIX.length), {
      actor: l.holder.actor, session: l.holder.session, expiresAt: l.expiresAt, takeoverAt: l.takeoverAt, grantedAt: l.grantedAt,
    })
  }
  return out
}

/**
 * The prerequisite edges among `issues`: before -> afters and after -> befores
 * (`related_to` adds none). Targets that are not listed are kept: an unknown
 * prerequisite blocks, as in the repository's own readiness rule.
 */
export function dependencyEdges(issues: Iterable<IssueSummary>): { next: Map<string, string[]>; prev: Map<string, string[]> } {
  const next = new Map<string, string[]>()
  const prev = new Map<string, string[]>()
  const add = (m: Map<string, string[]>, k: string, v: string): void => {
    const l = m.get(k)
    if (l === undefined) m.set(k, [v])
    else if (!l.includes(v)) l.push(v)
  }
  for (const i of issues) {
    for (const d of i.dependencies) {
      const edge = edgeOf(i.id, d.target, d.depType)
      if (edge === null || edge[0] === edge[1]) continue
      add(next, edge[0], edge[1])
      add(prev, edge[1], edge[0])
    }
  }
  for (const m of [next, prev]) for (const l of m.values()) l.sort()
  return { next, prev }
}

/**
 * Builds the board.
 * @example const { cards, counts } = buildBoard({ issues, leases })
 */
export function buildBoard(input: BoardInput): Board {
  const closedLimit = input.closedLimit ?? DEFAULT_CLOSED_LIMIT
  const issues = [...input.issues]
  const holders = issueHolders(input.leases)
  const state = new Map(issues.map((i) => [i.id, i.state]))
  const isOpen = (id: string): boolean => state.get(id) !== 'closed'
  const { next, prev } = dependencyEdges(issues)
  const counts: BoardCounts = { ready: 0, claimed: 0, blocked: 0, closed: 0, open: 0, total: issues.length }
  const open: Card[] = []
  const closed: Card[] = []
  for (const i of issues) {
    const holder = i.state === 'open' ? holders.get(i.id) ?? null : null
    const blockers = i.state === 'open' ? (prev.get(i.id) ?? []).filter(isOpen) : []
    const column: Column = i.state === 'closed' ? 'closed' : holder !== null ? 'claimed' : blockers.length === 0 ? 'ready' : 'blocked'
    counts[column]++
    const card: Card = {
      id: i.id,
      title: i.title,
      column,
      labels: i.labels,
      assignees: i.assignees,
      blockers,
      blocking: i.state === 'open' ? (next.get(i.id) ?? []).filter((id) => state.get(id) === 'open') : [],
      holder,
      comments: i.comments,
      createdAt: i.createdAt,
      createdBy: i.createdBy,
      updatedAt: i.updatedAt,
    }
    if (column === 'closed') closed.push(card)
    else open.push(card)
  }
  counts.open = counts.total - counts.closed
  closed.sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : 1))
  return { cards: [...open, ...closed.slice(0, closedLimit)], counts }
}

/** What changed between two boards, by card id: the cards to (re)place and the ids to drop. */
export interface BoardDiff { upserts: Card[]; removes: string[] }

const sameList = (a: readonly string[], b: readonly string[]): boolean => a === b || (a.length === b.length && a.every((x, i) => x === b[i]))

const sameHolder = (a: CardHolder | null, b: CardHolder | null): boolean => a === b || (a !== null && b !== null
  && a.actor === b.actor && a.session === b.session && a.expiresAt === b.expiresAt && a.takeoverAt === b.takeoverAt && a.grantedAt === b.grantedAt)

/** Whether two cards show the same thing (field by field; a board of thousands is diffed without serialising it). */
export function sameCard(a: Card, b: Card): boolean {
  return a.id === b.id && a.title === b.title && a.column === b.column && a.comments === b.comments && a.createdAt === b.createdAt
    && a.createdBy === b.createdBy && a.updatedAt === b.updatedAt && sameList(a.labels, b.labels) && sameList(a.assignees, b.assignees)
    && sameList(a.blockers, b.blockers) && sameList(a.blocking, b.blocking) && sameHolder(a.holder, b.holder)
}

/**
 * Diffs `next` against the cards last sent (by id), and returns the cards
 * of `next` by id for the following call.
 * @example const { diff, cards } = diffBoard(lastSent, board.cards)
 */
export function diffBoard(last: ReadonlyMap<string, Card>, next: readonly Card[]): { diff: BoardDiff; cards: Map<string, Card> } {
  const cards = new Map<string, Card>()
  const upserts: Card[] = []
  for (const c of next) {
    cards.set(c.id, c)
    const before = last.get(c.id)
    if (before === undefined || !sameCard(before, c)) upserts.push(c)
  }
  const removes: string[] = []
  for (const id of last.keys()) if (!cards.has(id)) removes.push(id)
  return { diff: { upserts, removes }, cards }
}
