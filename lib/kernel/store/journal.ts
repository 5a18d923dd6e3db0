/**
 * The journal of operations in flight. An operation is written here (durably)
 * before its effect, and removed in the same transaction as its effect, so
 * after a crash every entry left is an operation that was accepted but not
 * applied. Boot reconciliation resumes the entries whose owner declared them
 * safe to resume and marks the rest `crashed`.
 */
import type { Database } from 'lmdb'

export interface JournalEntry {
  opId: string
  type: string
  actor: string
  startedAt: number
  /** True when replaying the operation is safe (idempotent by opId). */
  resumable: boolean
  body?: unknown
}

export type { ReconciledOutcome, ReconciledOperation } from '../../../protocol/messages.ts'

export type JournalDb = Database<JournalEntry, string>

/** Entries left by a previous process, oldest first. */
export function pendingEntries(db: JournalDb): JournalEntry[] {
  const out: JournalEntry[] = []
  for (const { value } of db.getRange({})) out.push(value)
  return out.sort((a, b) => a.startedAt - b.startedAt || (a.opId < b.opId ? -1 : 1))
}
