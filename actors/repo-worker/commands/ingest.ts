/**
 * `events.ingest`: events read from git (the Sync actor's fetched WAL refs, a
 * grite import) enter the store in one RepoWorker commit, together with the
 * sync progress to bank. Banking in the same commit as the events is
 * what makes a killed sync resume exactly where its last commit left off.
 *
 * The host accepts this request only from a sibling actor on its own thread
 * (lib/host/serve.ts); those events were decoded by decodeChunk, which
 * already checked every event id against its content.
 */
import { invalidArgument } from '../../../protocol/errors.ts'
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { EventsIngestBody, IngestResult } from '../../../protocol/messages.ts'
import type { Batch } from '../store/event-store.ts'

/** Events per ingest request: bounds one transaction. */
export const MAX_INGEST_EVENTS = 20_000

export interface IngestCommand extends EventsIngestBody {
  type: 'ingest'
  opId: null
}

export type { IngestResult }

export function parseIngest(b: Record<string, unknown>): IngestCommand {
  const events = b.events
  if (!Array.isArray(events) || events.length > MAX_INGEST_EVENTS) {
    throw invalidArgument('events', `must be an array of at most ${MAX_INGEST_EVENTS} events`)
  }
  events.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || typeof (e as CairnEvent).eventId !== 'string' || typeof (e as CairnEvent).issueId !== 'string') {
      throw invalidArgument(`events[${i}]`, 'must be a decoded event')
    }
  })
  const bank = b.bank ?? null
  if (bank !== null && (typeof bank !== 'object' || typeof (bank as { key?: unknown }).key !== 'string')) {
    throw invalidArgument('bank', 'must be null or { key, value }')
  }
  return { type: 'ingest', opId: null, events: events as CairnEvent[], bank: bank as IngestCommand['bank'] }
}

/** Records the events and the bank in one batch: they commit together. */
export function applyIngest(cmd: IngestCommand, batch: Batch): IngestResult {
  const duplicateAt: number[] = []
  cmd.events.forEach((e, i) => { if (batch.ingest(e, false).duplicate) duplicateAt.push(i) })
  if (cmd.bank) batch.put(batch.dbs.sync, cmd.bank.key, cmd.bank.value)
  return { ingested: cmd.events.length - duplicateAt.length, duplicates: duplicateAt.length, lastSeq: batch.seq, duplicateAt }
}
