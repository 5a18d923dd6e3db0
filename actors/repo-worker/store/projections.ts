/**
 * How issue projections sit in LMDB. Comments are the one list that grows
 * without bound on a busy issue, so they are stored one record each under
 * `[issueId, index]` and the projection record holds only their count:
 * appending a comment writes one small record instead of re-encoding every
 * comment of the issue (that re-encoding was the worker's top cost once
 * issues had a few hundred comments). A re-projection (a late event) may
 * reorder comments, so it rewrites the issue's comment records.
 */
import type { Database } from 'lmdb'
import type { IssueComment, IssueProjection } from '../projection/index.ts'
import type { RepoDbs } from './dbs.ts'

/** The stored form: the projection without its comments, plus their count. */
export type StoredIssue = Omit<IssueProjection, 'comments'> & { commentCount: number }

export type CommentKey = [string, number]
export type CommentsDb = Database<IssueComment, CommentKey>

function head(p: IssueProjection): StoredIssue {
  const { comments, ...rest } = p
  return { ...rest, commentCount: comments.length }
}

// A plain copying loop: object rest/spread here was the top cost of a read.
function assemble(stored: StoredIssue, comments: IssueComment[]): IssueProjection {
  const out: Record<string, unknown> = {}
  for (const k in stored) if (k !== 'commentCount') out[k] = (stored as Record<string, unknown>)[k]
  out.comments = comments
  return out as unknown as IssueProjection
}

/**
 * Writes `next` over `prev` (the stored value it replaces, if any). Call
 * inside a write transaction. `appendOnly` promises that next's comments
 * extend prev's (true for an in-order fold step).
 */
export function writeProjection(dbs: RepoDbs, prev: IssueProjection | undefined, next: IssueProjection, appendOnly: boolean): void {
  const id = next.id
  const from = appendOnly && prev ? prev.comments.length : 0
  if (from === 0 && prev && prev.comments.length > 0) {
    for (const key of dbs.issueComments.getKeys({ start: [id], end: [id, Number.MAX_SAFE_INTEGER] })) dbs.issueComments.remove(key as CommentKey)
  }
  for (let i = from; i < next.comments.length; i++) dbs.issueComments.put([id, i], next.comments[i] as IssueComment)
  dbs.issues.put(id, head(next) as unknown as IssueProjection)
}

export function readProjection(dbs: RepoDbs, id: string): IssueProjection | undefined {
  const stored = dbs.issues.get(id) as unknown as StoredIssue | undefined
  if (!stored) return undefined
  const comments: IssueComment[] = []
  if (stored.commentCount > 0) {
    for (const { value } of dbs.issueComments.getRange({ start: [id], end: [id, Number.MAX_SAFE_INTEGER] })) comments.push(value)
  }
  return assemble(stored, comments)
}

/** Every projection, in id order: one pass over projections, one over comments. */
export function readAllProjections(dbs: RepoDbs): Map<string, IssueProjection> {
  const byIssue = new Map<string, IssueComment[]>()
  for (const { key, value } of dbs.issueComments.getRange({})) {
    const id = (key as CommentKey)[0]
    const list = byIssue.get(id)
    if (list) list.push(value)
    else byIssue.set(id, [value])
  }
  const out = new Map<string, IssueProjection>()
  for (const { key, value } of dbs.issues.getRange({})) {
    out.set(key as string, assemble(value as unknown as StoredIssue, byIssue.get(key as string) ?? []))
  }
  return out
}

/** Removes every stored projection (before a rebuild). */
export async function clearProjections(dbs: RepoDbs): Promise<void> {
  await dbs.issues.clearAsync()
  await dbs.issueComments.clearAsync()
}
