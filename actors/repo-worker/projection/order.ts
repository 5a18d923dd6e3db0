/**
 * The one total order of events inside an issue (and inside a context key):
 * `(tsUnixMs, actor, eventId)`. Every replica sorts by the same key, so every
 * replica folds the same sequence and reaches the same projection, whatever
 * order git delivered the events in.
 *
 * Ids are lowercase hex of fixed width, so a plain code-unit comparison equals
 * a comparison of the underlying bytes. `localeCompare` is deliberately not
 * used: its result depends on the ICU build and locale of the process.
 */
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { EventKey } from '../../../protocol/results.ts'
export type { EventKey }


function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Orders two events (or keys) by `(tsUnixMs, actor, eventId)`; returns -1, 0 or 1.
 * 0 means the same event id at the same position, i.e. a duplicate.
 * @example events.sort(compareEvents)
 */
export function compareEvents(a: EventKey, b: EventKey): number {
  if (a.tsUnixMs !== b.tsUnixMs) return a.tsUnixMs < b.tsUnixMs ? -1 : 1
  return compareStrings(a.actor, b.actor) || compareStrings(a.eventId, b.eventId)
}

/**
 * The position of an event as a plain value, detached from the event itself,
 * so a projection can remember where it stands without holding the event.
 * @example const k = eventKey(e) // { tsUnixMs, actor, eventId }
 */
export function eventKey(e: EventKey): EventKey {
  return { tsUnixMs: e.tsUnixMs, actor: e.actor, eventId: e.eventId }
}

/**
 * Sorts events into projection order and drops duplicates by event id.
 * Event ids are content hashes, so two events with one id are the same
 * event; the copy that sorts first is kept, which makes the choice
 * independent of input order even for a corrupt replica.
 * Returns a new array; the input is not modified.
 * @example sortUnique([e2, e1, e2]) // [e1, e2]
 */
export function sortUnique<E extends EventKey>(events: readonly E[]): E[] {
  const sorted = [...events].sort(compareEvents)
  const seen = new Set<string>()
  const out: E[] = []
  for (const e of sorted) {
    if (seen.has(e.eventId)) continue
    seen.add(e.eventId)
    out.push(e)
  }
  return out
}
