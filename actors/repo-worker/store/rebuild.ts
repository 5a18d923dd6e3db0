/**
 * Opening a repository with its projection snapshot, or rebuilding it.
 *
 * The `issues` database is the snapshot: every batch rewrites the touched
 * projections and the checkpoint `{ version, seq }` in the transaction that
 * appends the events, so on open a checkpoint that names the current
 * projection version and the log's last seq proves the snapshot is exact and
 * nothing is replayed. Otherwise (first open after an upgrade that changed
 * the fold, a store from before projections existed, a deleted database) the
 * projections are folded again from the per-issue index, whose key order is
 * already the projection order, one issue at a time.
 *
 * A store of schema 1 indexed every event by its seq alone; its comments
 * were a table of their own. The rebuild that its checkpoint (projection
 * version 2) triggers first puts each comment's body into its index entry
 * and marks the store schema 2, in the same transaction.
 */
import type { RootDatabase } from 'lmdb'
import type { RepoReconciliation } from '../../../protocol/messages.ts'
import { applyEvent, emptyIssue, isIssueEvent, type IssueProjection } from '../projection/index.ts'
import { markSchemaCurrent, schemaVersionOf, STORE_SCHEMA_VERSIONS } from '../../../lib/kernel/store/open-store.ts'
import { eventKey } from './batch.ts'
import { lastKey, seqOf, type IssueEventKey, type RepoDbs } from './dbs.ts'
import { CHECKPOINT_KEY, PROJECTION_VERSION } from './event-store.ts'
import { clearProjections, DIRECT, writeProjection } from './projections.ts'
import { writeListing } from './listing-keys.ts'

export type ProjectionReport = RepoReconciliation['projections']

/** Why the snapshot cannot be used, or null when it can. */
export function staleReason(dbs: RepoDbs): string | null {
  const last = lastKey(dbs.log)
  const cp = dbs.eventMeta.get(CHECKPOINT_KEY)
  if (!cp) return last === 0 ? null : 'no projection checkpoint'
  if (cp.version !== PROJECTION_VERSION) return `projection version ${cp.version}, code has ${PROJECTION_VERSION}`
  if (cp.seq !== last) return `checkpoint at seq ${cp.seq}, log at ${last}`
  return null
}

/**
 * Makes the projections current before the RepoWorker serves.
 * @example const report = await prepareProjections(env, dbs)
 */
export async function prepareProjections(env: RootDatabase, dbs: RepoDbs): Promise<ProjectionReport> {
  const schema = schemaVersionOf(env, 'repo')
  const reason = staleReason(dbs)
  if (reason === null) {
    // Only an empty store of schema 1 gets here (any other has a version 2 checkpoint):
    // nothing to convert, but it must say schema 2 before this Cairn writes to it.
    if (schema < STORE_SCHEMA_VERSIONS.repo) await env.transaction(() => markSchemaCurrent(env, 'repo'))
    return { rebuilt: false, reason: null, events: 0, ms: 0 }
  }
  const started = performance.now()
  // Cleared first and written with the checkpoint after: a crash in between
  // leaves the checkpoint stale, so the next open simply rebuilds again.
  await clearProjections(dbs)
  let events = 0
  await env.transaction(() => {
    if (schema < 2) indexComments(dbs)
    markSchemaCurrent(env, 'repo')
    let current: IssueProjection | null = null
    const flush = (): void => {
      if (current !== null && current.lastEvent !== null) {
        writeProjection(dbs, current)
        writeListing(dbs, null, current, DIRECT)
      }
    }
    for (const { key, value } of dbs.byIssue.getRange({})) {
      const issueId = (key as IssueEventKey)[0]
      const event = dbs.log.get(seqOf(value))
      if (!event) continue
      events++
      if (current === null || current.id !== issueId) {
        flush()
        current = emptyIssue(issueId)
      }
      if (isIssueEvent(event)) current = applyEvent(current, event, { consume: true })
    }
    flush()
    dbs.eventMeta.put(CHECKPOINT_KEY, { version: PROJECTION_VERSION, seq: lastKey(dbs.log) })
  })
  await env.flushed
  return { rebuilt: true, reason, events, ms: Math.round(performance.now() - started) }
}

/** Schema 1 -> 2: each comment's index entry gets its body (walks the log, so the index is not written while it is read). */
function indexComments(dbs: RepoDbs): void {
  for (const { key, value: event } of dbs.log.getRange({})) {
    if (event.kind.type !== 'CommentAdded') continue
    const k = eventKey(event)
    if (typeof dbs.byIssue.get(k) === 'number') void dbs.byIssue.put(k, [key as number, event.kind.body])
  }
}
