/**
 * The Sync actor's records in the repository's `sync` database (DESIGN §6).
 *
 *   anchor:<key>  what the last completed run against that source ingested, per actor ref
 *   run:<key>     the run in progress: pinned targets and banked progress per actor ref
 *
 * The RepoWorker writes `run:<key>` in the same transaction as the events it
 * banks (commands/ingest.ts), so the bank never claims an event the store
 * does not hold. The Sync actor writes the run's start and its completion.
 */
import type { Database, RootDatabase } from 'lmdb'

export type SyncDb = Database<unknown, string>

/** Opens the `sync` database (the RepoWorker opens the same one to bank ingests: actors/repo-worker/store/dbs.ts). */
export function openSyncDb(env: RootDatabase): SyncDb {
  return env.openDB({ name: 'sync' }) as unknown as SyncDb
}

/** Per actor ref: the commit ingested through, and how many events that run ingested from it. */
export interface RefProgress { commit: string; events: number }

export interface RunBank {
  version: 1
  /** The source: a remote URL, or `grite:<ref>` for an import. */
  url: string
  startedAt: number
  /** Actor ref name (`wal/<actor>`) → the commit this run ingests up to. */
  targets: Record<string, string>
  progress: Record<string, RefProgress>
}

export interface Anchor {
  version: 1
  url: string
  completedAt: number
  /** Actor ref name → commit ingested through. */
  refs: Record<string, string>
}

export const runKey = (key: string): string => `run:${key}`
export const anchorKey = (key: string): string => `anchor:${key}`

function versioned<T extends { version: number }>(v: unknown): T | null {
  return typeof v === 'object' && v !== null && (v as { version?: unknown }).version === 1 ? (v as T) : null
}

export function readBank(db: SyncDb, key: string): RunBank | null {
  return versioned<RunBank>(db.get(runKey(key)))
}

export function readAnchor(db: SyncDb, key: string): Anchor | null {
  return versioned<Anchor>(db.get(anchorKey(key)))
}

/** Events a previous, interrupted run banked (what a resumed run does not redo). */
export function bankedEvents(bank: RunBank | null): number {
  if (!bank) return 0
  let n = 0
  for (const p of Object.values(bank.progress)) n += p.events
  return n
}

/** Completing a run: the anchor takes every target, the bank goes. One transaction. */
export async function completeRun(db: SyncDb, key: string, anchor: Anchor): Promise<void> {
  await db.transaction(() => {
    db.put(anchorKey(key), anchor)
    db.remove(runKey(key))
  })
}
