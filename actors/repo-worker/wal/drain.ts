/**
 * Drains the outbox into the git WAL: one commit per actor per round on
 * `refs/cairn/wal/<actor>` (more when its events pass CHUNK_TARGET_BYTES),
 * holding one grite chunk of that actor's events in local order.
 *
 * Crash safety comes from ordering plus reconciliation, not from a
 * transaction spanning git and LMDB (there is none): the commit is written
 * and its ref moved first, then the drained events leave the outbox and the
 * new tip is recorded. A crash in between leaves the ref ahead of the
 * recorded tip; the next round (at boot or later) reads the commits it does
 * not know, removes their events from the outbox and adopts the tip, so an
 * event is written to git once, and an acknowledged event is never lost:
 * it stays in the outbox until a commit holding it is on the ref.
 */
import type { Database, RootDatabase } from 'lmdb'
import { encodeCbor } from '../../../protocol/events/cbor.ts'
import { chunkHashOf, chunkRecordOf, decodeChunk, encodeChunkFromEncoded } from '../../../protocol/events/chunk.ts'
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { GitWal, WalMeta } from '../../../lib/kernel/ports/git-wal.ts'
import { outboxEventId, seqOf, type OutboxEntry, type RepoDbs } from '../store/dbs.ts'
import { eventKey } from '../store/batch.ts'
import { CHUNK_TARGET_BYTES } from '../../../protocol/limits.ts'

export interface WalState { tip: string | null; events: number; commits: number }
export type WalStateDb = Database<WalState, string>

export const walRef = (actor: string): string => `refs/cairn/wal/${actor}`
/** Events per drain round (all actors together): bounds one chunk and one transaction. */
export const DRAIN_BATCH = 5_000
/** Record bytes per drain round: large comments make fewer events per round. */
const ROUND_BYTES = 4 * CHUNK_TARGET_BYTES
const CAS_RETRIES = 5
/**
 * A round reads and encodes this many events, then lets the thread's other
 * work (commands, commit callbacks) run: a round of thousands of events in
 * one go held the RepoWorker for tens of milliseconds.
 */
const SLICE = 256
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export function openWalState(env: RootDatabase): WalStateDb {
  return env.openDB({ name: 'wal-state' }) as unknown as WalStateDb
}

/** `events/YYYY/MM/DD/<hash>.bin`, dated by the first event (UTC), as grite does. */
export function chunkPath(firstTsMs: number, hash: string): string {
  const d = new Date(firstTsMs)
  const p = (n: number) => String(n).padStart(2, '0')
  return `events/${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${hash}.bin`
}

export interface DrainReport {
  commits: number
  events: number
  adopted: number
  /** Every event the round listed is in git (false: the ref kept moving under it; the events wait for the next round). */
  complete: boolean
  /** The outbox up to this seq was listed (Infinity: all of it). */
  coveredSeq: number
}

/** One outbox event, ready for a chunk. */
interface Drained { seq: number; eventId: string; actor: string; tsUnixMs: number; record: Uint8Array }

export class WalDrain {
  readonly #env: RootDatabase
  readonly #dbs: RepoDbs
  readonly #state: WalStateDb
  readonly #git: GitWal
  readonly #now: () => number

  constructor(env: RootDatabase, dbs: RepoDbs, git: GitWal, now: () => number) {
    this.#env = env
    this.#dbs = dbs
    this.#state = openWalState(env)
    this.#git = git
    this.#now = now
  }

  pending(): number {
    return this.#dbs.outbox.getCount()
  }

  /** Drains until the outbox is empty (bounded by `maxRounds`). */
  async drain(maxRounds = 1_000): Promise<DrainReport> {
    const total: DrainReport = { commits: 0, events: 0, adopted: 0, complete: true, coveredSeq: Infinity }
    for (let i = 0; i < maxRounds; i++) {
      const r = await this.round()
      total.commits += r.commits
      total.events += r.events
      total.adopted += r.adopted
      total.complete = r.complete && r.coveredSeq === Infinity
      if (r.commits === 0 && r.adopted === 0) break
    }
    return total
  }

  /** One round: up to DRAIN_BATCH outbox events, one commit per actor. */
  async round(): Promise<DrainReport> {
    // Listed in one go (a range must not span a yield); the log entries are immutable.
    // Bounded by bytes too: a round of large comments holds at most ROUND_BYTES of records.
    const listed: { key: unknown; value: OutboxEntry }[] = []
    let full = false
    let bytes = 0
    for (const entry of this.#dbs.outbox.getRange({ limit: DRAIN_BATCH })) {
      listed.push(entry)
      bytes += typeof entry.value === 'string' ? 256 : entry.value[3].length
      if (bytes >= ROUND_BYTES) { full = true; break }
    }
    if (listed.length >= DRAIN_BATCH) full = true
    // The recorded states in the same read as the listing: while an actor's
    // state is still the one read here, nothing listed of it has left the
    // outbox (see #stillPending), and the listing need not be checked again.
    const listedStates = new Map<string, WalState>()
    for (const { key, value } of this.#state.getRange()) listedStates.set(key, value)
    const coveredSeq = full ? listed[listed.length - 1]!.key as number : Infinity
    const report: DrainReport = { commits: 0, events: 0, adopted: 0, complete: true, coveredSeq }
    const byActor = new Map<string, Drained[]>()
    for (let i = 0; i < listed.length; i++) {
      if (i > 0 && i % SLICE === 0) await yieldTurn()
      const d = this.#drained(listed[i]!.key as number, listed[i]!.value, i)
      if (d === null) continue
      const list = byActor.get(d.actor)
      if (list) list.push(d)
      else byActor.set(d.actor, [d])
    }
    for (const [actor, list] of byActor) {
      let pending = list
      /** The state `pending` is known to be in the outbox under (undefined: none recorded). */
      let checked = listedStates.get(actor)
      for (let failures = 0; failures < CAS_RETRIES && pending.length > 0;) {
        // State first, then the outbox, in one synchronous step (one LMDB
        // snapshot): the outbox is never older than the tip it goes with.
        // Another drain (a thread or process on this clone) may have written
        // and recorded some of what this round listed since: only what is
        // still in the outbox goes on top of the recorded tip.
        const recorded = this.#state.get(actor)
        const state = recorded ?? { tip: null, events: 0, commits: 0 }
        if (!sameState(recorded, checked)) {
          pending = pending.filter((p) => this.#stillPending(p))
          checked = recorded
        }
        if (pending.length === 0) break
        const actual = await this.#git.readRef(walRef(actor))
        if (actual !== state.tip) {
          const adopted = await this.#adopt(actor, state, actual)
          report.adopted += adopted.size
          pending = pending.filter((p) => !adopted.has(p.eventId))
          failures++
          continue
        }
        // A chunk ends at CHUNK_TARGET_BYTES (with at least one event): every chunk reads back (MAX_CHUNK_BYTES).
        let take = 0
        for (let bytes = 0; take < pending.length && (take === 0 || bytes + pending[take]!.record.length <= CHUNK_TARGET_BYTES); take++) bytes += pending[take]!.record.length
        const batch = pending.slice(0, take)
        const chunk = encodeChunkFromEncoded(batch.map((p) => p.record))
        const hash = chunkHashOf(chunk)
        const meta: WalMeta = { schema_version: 1, actor_id: actor, chunk_hash: hash, prev_wal: state.tip }
        // The ref moves only if it still holds the tip the outbox was read
        // with: a drain that wrote in between makes this one lose, adopt what
        // the new tip holds, and append only what is missing.
        const res = await this.#git.appendWal({
          ref: walRef(actor), expectedTip: state.tip, meta, chunkPath: chunkPath(batch[0]!.tsUnixMs, hash), chunk,
          message: `cairn wal: ${batch.length} event(s)`,
          author: { name: 'cairn', email: `${actor}@cairn.invalid`, timeMs: this.#now() },
        })
        if (!res.ok) {
          failures++
          continue
        }
        const next = { tip: res.commit, events: state.events + batch.length, commits: state.commits + 1 }
        await this.#record(actor, next, batch.map((p) => p.seq))
        // What is left of `pending` stays in the outbox under the state this drain just recorded.
        checked = next
        report.commits++
        report.events += batch.length
        pending = pending.slice(take)
      }
      if (pending.length > 0) report.complete = false
    }
    return report
  }

  /** An outbox entry as the drain writes it; null for an entry whose event is not (or no longer) the logged one. */
  #drained(seq: number, entry: OutboxEntry, i: number): Drained | null {
    if (typeof entry !== 'string') return { seq, eventId: entry[0], actor: entry[1], tsUnixMs: entry[2], record: entry[3] }
    // An entry from before records were kept: read the event and encode it (re-deriving its id).
    const event = this.#dbs.log.get(seq)
    if (!event || event.eventId !== entry) return null
    return { seq, eventId: entry, actor: event.actor, tsUnixMs: event.tsUnixMs, record: encodeCbor(chunkRecordOf(event, i)) }
  }

  /**
   * Whether `d`'s outbox entry is still there (no drain has put it into git
   * since it was listed). Entries of an actor leave the outbox only in the
   * transaction that records a new state for that actor (#record), with a
   * new tip or more events: an unchanged state means none left.
   */
  #stillPending(d: Drained): boolean {
    const entry = this.#dbs.outbox.get(d.seq)
    return entry !== undefined && outboxEventId(entry) === d.eventId
  }

  /**
   * The ref is not where we recorded it (we crashed after moving it, or
   * another process on this clone drained): take the commits we do not know,
   * drop their events from the outbox, record the tip.
   */
  async #adopt(actor: string, state: WalState, actual: string | null): Promise<Set<string>> {
    const events = new Map<string, CairnEvent>()
    if (actual === null) {
      // The ref vanished (deleted by hand): start a fresh chain; nothing to adopt.
      await this.#record(actor, { ...state, tip: null }, [])
      return new Set()
    }
    const entries = await this.#git.readWal(actual, { stopAt: state.tip })
    for (const e of entries) for (const ev of decodeChunk(e.chunk)) events.set(ev.eventId, ev)
    const seqs: number[] = []
    for (const ev of events.values()) {
      const indexed = this.#dbs.byIssue.get(eventKey(ev))
      const seq = indexed === undefined ? undefined : seqOf(indexed)
      const entry = seq === undefined ? undefined : this.#dbs.outbox.get(seq)
      if (entry !== undefined && outboxEventId(entry) === ev.eventId) seqs.push(seq!)
    }
    await this.#record(actor, { tip: actual, events: state.events + events.size, commits: state.commits + entries.length }, seqs)
    return new Set(events.keys())
  }

  async #record(actor: string, state: WalState, drainedSeqs: number[]): Promise<void> {
    await this.#env.transaction(() => {
      for (const seq of drainedSeqs) this.#dbs.outbox.remove(seq)
      this.#state.put(actor, state)
    })
  }
}

function sameState(a: WalState | undefined, b: WalState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.tip === b.tip && a.events === b.events && a.commits === b.commits
}
