/**
 * The RepoWorker's journaled record log and durable timers: the runtime's
 * durability machinery exercised on its own, without the issue board.
 * Reached through `cairn/testing` (repoHooks), which the journal, timer
 * restore and `kill -9` recovery are tested with and bench:core measures.
 *
 * Invariants:
 * - An operation is journaled by one commit and applied by the next, so a
 *   crash between the two leaves a journal entry for exactly the operations
 *   in flight; boot reconciliation hands those back (`resume`).
 * - Applying is idempotent by opId: a resumed append that had landed
 *   answers `duplicate: true` and writes nothing.
 * - A reply is sent only after the transaction holding its effect has
 *   committed and `env.flushed` resolved. A timer fires once: its record and
 *   the removal of its deadline share one transaction.
 */
import { randomUUID } from 'node:crypto'
import type { RootDatabase } from 'lmdb'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { Envelope } from '../../../protocol/envelope.ts'
import { MESSAGE_TYPES as M, type AppendResult } from '../../../protocol/messages.ts'
import type { ActorContext } from '../../../lib/kernel/actor-module.ts'
import type { JournalEntry } from '../../../lib/kernel/store/journal.ts'
import { timerKey, type DurableTimer } from '../../../lib/kernel/store/snapshots.ts'
import { lastKey, type RepoDbs } from '../store/dbs.ts'

/** A write operation as journaled: plain data, replayable by opId. */
export type WriteOp =
  | { type: 'append'; opId: string; value: unknown }
  | { type: 'timer.schedule'; opId: string; timer: DurableTimer }
  | { type: 'timer.fire'; opId: string; timer: DurableTimer }

interface Pending { op: WriteOp; req?: Envelope; startedAt: number }

const MAX_SCAN = 10_000
const MAX_ID = 128

function fields(req: Envelope): Record<string, unknown> {
  const b = req.body ?? {}
  if (typeof b !== 'object' || Array.isArray(b)) throw invalidArgument('body', 'must be an object')
  return b as Record<string, unknown>
}

/** Validates a write of the record log and turns it into a journaled operation. */
export function toWriteOp(req: Envelope, actor: string): WriteOp {
  const b = fields(req)
  if (req.type === M.append) {
    if (b.value === undefined) throw invalidArgument('value', 'is required')
    if (b.opId !== undefined && (typeof b.opId !== 'string' || b.opId.length === 0 || b.opId.length > MAX_ID)) {
      throw invalidArgument('opId', `must be a string of 1..${MAX_ID} characters`)
    }
    return { type: 'append', opId: (b.opId as string | undefined) ?? randomUUID(), value: b.value }
  }
  if (req.type === M.scheduleTimer) {
    if (typeof b.id !== 'string' || b.id.length === 0 || b.id.length > MAX_ID || b.id.includes('/')) {
      throw invalidArgument('id', `must be 1..${MAX_ID} characters without "/"`)
    }
    if (!Number.isSafeInteger(b.at) || (b.at as number) < 0) throw invalidArgument('at', 'must be a non-negative integer (ms on the runtime clock)')
    return { type: 'timer.schedule', opId: randomUUID(), timer: { actor, id: b.id, deadline: b.at as number, payload: b.payload ?? null } }
  }
  throw new CairnError('UNKNOWN_MESSAGE', `the record log does not handle ${req.type}`)
}

export class RecordLog {
  readonly #env: RootDatabase
  readonly #dbs: RepoDbs
  readonly #ctx: ActorContext
  /** Enqueued, not yet journaled. */
  #queued: Pending[] = []
  /** Journaled by the last commit, applied by the next. */
  #staged: Pending[] = []
  /** The last commit whose flush (and replies) may still be pending. */
  #flushing: { done: Promise<void> } | null = null

  constructor(env: RootDatabase, dbs: RepoDbs, ctx: ActorContext) {
    this.#env = env
    this.#dbs = dbs
    this.#ctx = ctx
  }

  /** Operations a commit still has to journal or apply. */
  get pending(): boolean {
    return this.#queued.length > 0 || this.#staged.length > 0
  }

  /** Operations journaled and not yet applied (the machine's `staged`). */
  get staged(): number {
    return this.#staged.length
  }

  /** Queues a write (`records.append`, `timers.schedule`); a bad one is answered at once. */
  enqueue(req: Envelope): void {
    let op: WriteOp
    try {
      op = toWriteOp(req, this.#ctx.address)
    } catch (err) {
      this.#ctx.replyError(req, CairnError.from(err))
      return
    }
    this.#queued.push({ op, req, startedAt: this.#ctx.clock.now() })
  }

  /** Queues a due timer's firing; its opId makes a second firing a duplicate. */
  fire(timer: DurableTimer): void {
    this.#queued.push({ op: { type: 'timer.fire', opId: `timer:${timer.id}:${timer.deadline}`, timer }, startedAt: this.#ctx.clock.now() })
  }

  /** Re-applies operations a crashed process journaled but never applied (the next commit applies them). */
  resume(entries: JournalEntry[]): void {
    for (const e of entries) this.#staged.push({ op: e.body as WriteOp, startedAt: e.startedAt })
  }

  /** Answers a read of the log or of the timers (throws INVALID_ARGUMENT, NOT_FOUND). */
  read(req: Envelope): unknown {
    const body = fields(req)
    switch (req.type) {
      case M.get: {
        if (!Number.isSafeInteger(body.seq) || (body.seq as number) < 1) throw invalidArgument('seq', 'must be a positive integer')
        const rec = this.#dbs.records.get(body.seq as number)
        if (!rec) throw new CairnError('NOT_FOUND', `no record ${body.seq}`, { seq: body.seq })
        return rec
      }
      case M.scan: {
        const from = body.fromSeq ?? 1
        const limit = body.limit ?? 1000
        if (!Number.isSafeInteger(from) || (from as number) < 1) throw invalidArgument('fromSeq', 'must be a positive integer')
        if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_SCAN) throw invalidArgument('limit', `must be 1..${MAX_SCAN}`)
        return [...this.#dbs.records.getRange({ start: from as number, limit: limit as number }).map(({ value }) => value)]
      }
      case M.count:
        return { count: this.#dbs.records.getCount(), lastSeq: lastKey(this.#dbs.records) }
      case M.listTimers:
        return this.#ctx.timers.list()
      default:
        throw new CairnError('UNKNOWN_MESSAGE', `the record log does not handle ${req.type}`)
    }
  }

  /**
   * Journals the newly queued operations and applies the ones journaled by
   * the previous commit, in one transaction. Replies wait for this commit's
   * flush, but the next commit's transaction need not: it runs while this
   * fsync is in progress (LMDB syncs commits in order, so a durable later
   * commit implies the earlier ones). At most one flush is left outstanding.
   */
  async commit(): Promise<void> {
    const toApply = this.#staged
    const toJournal = this.#queued
    if (toApply.length + toJournal.length === 0) return
    this.#staged = []
    this.#queued = []
    const { records, opIds, journal, actors } = this.#dbs
    const results = await this.#env.transaction(() => {
      for (const p of toJournal) {
        journal.put(p.op.opId, { opId: p.op.opId, type: p.op.type, actor: this.#ctx.address, startedAt: p.startedAt, resumable: true, body: p.op } satisfies JournalEntry)
      }
      let seq = lastKey(records)
      const out: unknown[] = []
      for (const p of toApply) {
        const op = p.op
        journal.remove(op.opId)
        if (op.type === 'timer.schedule') {
          actors.put(timerKey(op.timer.actor, op.timer.id), op.timer)
          out.push({ id: op.timer.id, at: op.timer.deadline })
          continue
        }
        const existing = opIds.get(op.opId)
        if (existing !== undefined) {
          out.push({ seq: existing, opId: op.opId, duplicate: true } satisfies AppendResult)
          continue
        }
        const value = op.type === 'append' ? op.value : { timer: op.timer.id, deadline: op.timer.deadline, payload: op.timer.payload }
        if (op.type === 'timer.fire') actors.remove(timerKey(op.timer.actor, op.timer.id))
        seq += 1
        records.put(seq, { seq, opId: op.opId, at: p.startedAt, value })
        opIds.put(op.opId, seq)
        out.push({ seq, opId: op.opId, duplicate: false } satisfies AppendResult)
      }
      return out
    })
    this.#staged = toJournal
    const settle = (): void => {
      toApply.forEach((p, i) => {
        const op = p.op
        if (op.type === 'timer.schedule') this.#ctx.timers.arm(op.timer)
        if (op.type === 'timer.fire') this.#ctx.timers.fired(op.timer)
        if (p.req) this.#ctx.replyOk(p.req, results[i])
      })
    }
    const previous = this.#flushing
    this.#flushing = { done: this.#env.flushed.then(settle) }
    if (previous) await previous.done
  }

  /** Resolves once every commit made so far is flushed and answered. */
  async settled(): Promise<void> {
    await this.#flushing?.done
  }
}
