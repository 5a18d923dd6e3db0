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

// Plain copying loops here and in assemble: object rest/spread was the top cost of a read and a write.
function head(p: IssueProjection): StoredIssue {
  const out: Record<string, unknown> = {}
  for (const k in p) if (k !== 'comments') out[k] = (p as unknown as Record<string, unknown>)[k]
  out.commentCount = p.comments.length
  return out as unknown as StoredIssue
}

function assemble(stored: StoredIssue, comments: IssueComment[]): IssueProjection {
  const out: Record<string, unknown> = {}
  for (const k in stored) if (k !== 'commentCount') out[k] = (stored as Record<string, unknown>)[k]
  out.comments = comments
  return out as unknown as IssueProjection
}

/** Where a projection's records go: straight into the current transaction, or into a batch's recorded writes. */
export interface Writes {
  put(db: Database<any, any>, key: unknown, value: unknown): void
  remove(db: Database<any, any>, key: unknown): void
}

export const DIRECT: Writes = {
  put: (db, key, value) => { void db.put(key, value) },
  remove: (db, key) => { void db.remove(key) },
}

/**
 * Writes `next` over the stored projection that had `storedComments`
 * comments (0 for none). `appendOnly` promises that next's comments extend
 * the stored ones (true for an in-order fold step); otherwise every comment
 * record is written again.
 */
export function writeProjection(dbs: RepoDbs, storedComments: number, next: IssueProjection, appendOnly: boolean, w: Writes = DIRECT): void {
  const id = next.id
  const n = next.comments.length
  // Comments only accumulate, so this is a safety net: no index may outlive the new count.
  for (let i = n; i < storedComments; i++) w.remove(dbs.issueComments, [id, i])
  for (let i = appendOnly ? storedComments : 0; i < n; i++) w.put(dbs.issueComments, [id, i], next.comments[i])
  w.put(dbs.issues, id, head(next))
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
