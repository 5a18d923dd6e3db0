/**
 * Versioned machine snapshots and durable timer deadlines, in the `actors`
 * database. XState does not restore `after` timers (xstate #5331), so actors
 * keep deadlines here as absolute times on the runtime clock and re-arm them
 * on restore; a deadline that passed while down fires once on restore.
 *
 * A snapshot saved by another machine version is not restored (a renamed
 * state would break it); the actor starts fresh and the report says so.
 */
import type { Database } from 'lmdb'

export interface StoredSnapshot {
  version: number
  savedAt: number
  snapshot: unknown
}

export interface DurableTimer {
  actor: string
  id: string
  deadline: number
  payload: unknown
}

export type ActorsDb = Database<StoredSnapshot | DurableTimer, string>

export const snapshotKey = (actor: string): string => `snapshot/${actor}`
export const timerKey = (actor: string, id: string): string => `timer/${actor}/${id}`

/** The stored snapshot of `actor` if it was saved by `version`, else why not. */
export function loadSnapshot(db: ActorsDb, actor: string, version: number):
  { snapshot: unknown } | { snapshot: undefined; discarded?: number } {
  const stored = db.get(snapshotKey(actor)) as StoredSnapshot | undefined
  if (!stored) return { snapshot: undefined }
  if (stored.version !== version) return { snapshot: undefined, discarded: stored.version }
  return { snapshot: stored.snapshot }
}

/** All durable timers of `actor`, earliest deadline first. */
export function loadTimers(db: ActorsDb, actor: string): DurableTimer[] {
  const prefix = `timer/${actor}/`
  const out: DurableTimer[] = []
  for (const { key, value } of db.getRange({ start: prefix, end: `${prefix}\uffff` })) {
    if (String(key).startsWith(prefix)) out.push(value as DurableTimer)
  }
  return out.sort((a, b) => a.deadline - b.deadline || (a.id < b.id ? -1 : 1))
}
