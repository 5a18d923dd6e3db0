/**
 * What one sync run (run.ts) needs of its actor: the git port, the sync
 * store, the RepoWorker's ingest and WAL flush, and the run's clock, and
 * where it keeps what it tracks of one remote.
 */
import { createHash } from 'node:crypto'
import type { CairnEvent } from '../../protocol/events/types.ts'
import type { IngestResult } from '../../protocol/messages.ts'
import type { SyncProgress } from '../../protocol/results.ts'
import type { GitSync } from '../../lib/kernel/ports/git-sync.ts'
import type { RunBank, SyncDb } from './store.ts'

export interface RunDeps {
  git(): Promise<GitSync>
  db: SyncDb
  ingest(events: CairnEvent[], bank: { key: string; value: RunBank }): Promise<IngestResult>
  flushWal(): Promise<unknown>
  /** Actor ids of this clone's identities (refs we author and must be able to push). */
  ownActors(): Promise<ReadonlySet<string>>
  now(): number
  progress(p: SyncProgress): void
  /** Throws STOPPED once the actor is stopping; checked between steps. */
  checkAlive(): void
}

/** The tracking namespace for a remote URL: fetched refs never touch refs/cairn/. */
export function sourceKey(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16)
}
