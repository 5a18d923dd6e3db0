/**
 * How issue projections sit in LMDB. The `issues` record of an issue holds
 * its projection without the comments, plus their count. The comments are
 * not stored a second time: the per-issue index holds every event of the
 * issue in projection order, a comment's key `[issue, ts, actor, id]` and
 * value `[seq, body]` are the whole comment, so reading an issue's comments
 * is one range over its index entries, and a late event (a re-projection)
 * rewrites nothing but the head.
 */
import type { Database } from 'lmdb'
import type { IssueComment, IssueProjection } from '../projection/index.ts'
import type { IssueEventKey, IssueIndexValue, RepoDbs } from './dbs.ts'

/** The stored form: the projection without its comments, plus their count. */
export type StoredIssue = Omit<IssueProjection, 'comments'> & { commentCount: number }

export type { CommentKey, CommentsDb } from './dbs.ts'

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

/** The comment an index entry holds, or null for any other event. Same fields, in the same order, as the fold makes. */
function commentOf(key: IssueEventKey, value: IssueIndexValue): IssueComment | null {
  if (typeof value === 'number') return null
  return { eventId: key[3], actor: key[2], tsUnixMs: key[1], body: value[1] }
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

/** Writes `next`'s head; its comments are in the index already (written with their events). */
export function writeProjection(dbs: RepoDbs, next: IssueProjection, w: Writes = DIRECT): void {
  w.put(dbs.issues, next.id, head(next))
}

function commentsOf(dbs: RepoDbs, id: string): IssueComment[] {
  const comments: IssueComment[] = []
  for (const { key, value } of dbs.byIssue.getRange({ start: [id], end: [id, Number.MAX_SAFE_INTEGER] })) {
    const c = commentOf(key as IssueEventKey, value)
    if (c !== null) comments.push(c)
  }
  return comments
}

export function readProjection(dbs: RepoDbs, id: string): IssueProjection | undefined {
  const stored = dbs.issues.get(id) as unknown as StoredIssue | undefined
  if (!stored) return undefined
  return assemble(stored, stored.commentCount > 0 ? commentsOf(dbs, id) : [])
}

/** Every projection, in id order: one pass over projections, one over the index. */
export function readAllProjections(dbs: RepoDbs): Map<string, IssueProjection> {
  const byIssue = new Map<string, IssueComment[]>()
  for (const { key, value } of dbs.byIssue.getRange({})) {
    const c = commentOf(key as IssueEventKey, value)
    if (c === null) continue
    const id = (key as IssueEventKey)[0]
    const list = byIssue.get(id)
    if (list) list.push(c)
    else byIssue.set(id, [c])
  }
  const out = new Map<string, IssueProjection>()
  for (const { key, value } of dbs.issues.getRange({})) {
    out.set(key as string, assemble(value as unknown as StoredIssue, byIssue.get(key as string) ?? []))
  }
  return out
}

/** Removes every stored projection and the listing index (before a rebuild), and schema 1's comment table. */
export async function clearProjections(dbs: RepoDbs): Promise<void> {
  await dbs.issues.clearAsync()
  await dbs.listing.clearAsync()
  await dbs.issueComments.clearAsync()
}
