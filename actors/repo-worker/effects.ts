/**
 * The RepoWorker's imperative shell: the durable record log, the journal
 * pipeline and durable timers, over the repository's LMDB environment.
 *
 * Durability contract: a reply is sent only after the transaction holding the
 * effect has committed and `env.flushed` resolved.
 *
 * Two write paths. Journaled operations (append, durable timers) commit in
 * serialised transactions, each carrying all work queued since the previous
 * one (group commit). Issue commands run at once against the event store's
 * in-memory view, which already holds every earlier command's writes, and
 * their recorded writes go to lmdb-js as fenced blocks (blocks.ts, store/fence.ts)
 * without waiting for earlier blocks to commit; replies follow each block's
 * flush, in order.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { RootDatabase } from 'lmdb'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { MESSAGE_TYPES as M, type AppendBody, type AppendResult, type ScheduleTimerBody } from '../../protocol/messages.ts'
import type { JournalEntry } from '../../lib/kernel/store/journal.ts'
import { timerKey, type DurableTimer } from '../../lib/kernel/store/snapshots.ts'
import type { ActorContext } from '../../lib/kernel/actor-module.ts'
import type { CommitOutput } from './machine.ts'
import { lastKey, type RepoDbs } from './store/dbs.ts'
import type { Batch } from './store/event-store.ts'
import { CommandBlocks, type Answer, type Outcome, type PendingCommand } from './blocks.ts'
import { COMMAND_TYPES, parseCommand, type Command } from './commands/parse.ts'
import { applyCommand, type LeaseGate } from './commands/apply.ts'
import { applyIngest } from './commands/ingest.ts'
import { leasesCovering, openLeaseDbs, readPolicy } from '../lock-keeper/store.ts'
import { isLive } from '../lock-keeper/policy.ts'
import { query, QUERY_TYPES } from './queries.ts'
import { detachLists, type IssueProjection } from './projection/index.ts'
import type { WalService } from './wal/service.ts'

export { openRepoDbs } from './store/dbs.ts'

/** A write operation as journaled: plain data, replayable by opId. */
export type WriteOp =
  | { type: 'append'; opId: string; value: unknown }
  | { type: 'timer.schedule'; opId: string; timer: DurableTimer }
  | { type: 'timer.fire'; opId: string; timer: DurableTimer }

interface Pending { op: WriteOp; req?: Envelope; startedAt: number }

const MAX_SCAN = 10_000

/** Validates a request and turns it into a journaled operation. */
export function toWriteOp(req: Envelope, actor: string): WriteOp {
  const body = (req.body ?? {}) as Record<string, unknown>
  if (req.type === M.append) {
    const b = body as unknown as AppendBody
    if (b.value === undefined) throw invalidArgument('value', 'is required')
    if (b.opId !== undefined && (typeof b.opId !== 'string' || b.opId.length === 0 || b.opId.length > 128)) {
      throw invalidArgument('opId', 'must be a string of 1..128 characters')
    }
    return { type: 'append', opId: b.opId ?? randomUUID(), value: b.value }
  }
  if (req.type === M.scheduleTimer) {
    const b = body as unknown as ScheduleTimerBody
    if (typeof b.id !== 'string' || b.id.length === 0 || b.id.length > 128 || b.id.includes('/')) {
      throw invalidArgument('id', 'must be 1..128 characters without "/"')
    }
    if (!Number.isSafeInteger(b.at) || b.at < 0) throw invalidArgument('at', 'must be a non-negative integer (ms on the runtime clock)')
    return { type: 'timer.schedule', opId: randomUUID(), timer: { actor, id: b.id, deadline: b.at, payload: b.payload ?? null } }
  }
  throw new CairnError('UNKNOWN_MESSAGE', `repo-worker does not handle ${req.type}`)
}

export class RepoWorkerShell {
  readonly #env: RootDatabase
  readonly #dbs: RepoDbs
  readonly #ctx: ActorContext
  readonly #gate: LeaseGate
  #queued: Pending[] = []
  #staged: Pending[] = []
  /** Issue commands (not journaled: events are their own record) and the reads queued behind them. */
  #commands: PendingCommand[] = []
  /** The last committed batch whose flush (and replies) may still be pending. */
  #flushing: { done: Promise<void> } | null = null
  #chain: Promise<unknown> = Promise.resolve()
  /** Set by fault injection: the next commit throws, as a broken disk would. */
  failNextCommit = false
  readonly #blocks: CommandBlocks
  readonly #wal: WalService

  constructor(env: RootDatabase, dbs: RepoDbs, ctx: ActorContext, wal: WalService) {
    this.#wal = wal
    this.#env = env
    this.#dbs = dbs
    this.#ctx = ctx
    const leases = openLeaseDbs(env)
    this.#gate = { policy: () => readPolicy(leases), covering: (key) => leasesCovering(leases, key) }
    this.#blocks = new CommandBlocks(env, dbs, {
      run: (cmd, batch) => this.#runCommand(cmd, batch),
      read: (req) => this.#readOutcome(req),
      reply: (req, o) => { if (o.ok) ctx.replyOk(req, o.value); else ctx.replyError(req, o.error) },
      appended: (lastSeq) => {
        ctx.notify(M.eventsAppended, { lastSeq })
        wal.kick()
      },
    })
  }

  /** Told once when the writer breaks (index.ts fails the machine, so the actor restarts from disk). */
  set onBroken(fn: (err: CairnError) => void) { this.#blocks.onBroken = fn }

  enqueueWrite(req: Envelope): void {
    const broken = this.#blocks.broken
    if (broken) {
      this.#ctx.replyError(req, broken)
      return
    }
    if (COMMAND_TYPES.has(req.type)) {
      try {
        const cmd = parseCommand(req)
        // A known agent needs no commit: answer from the store at once.
        const known = cmd.type === 'identity' ? this.#dbs.identities.get(cmd.agent) : undefined
        if (known && cmd.type === 'identity') this.#ctx.replyOk(req, { agent: cmd.agent, actor: known.actor, created: false })
        else this.#commands.push({ cmd, req })
      } catch (err) {
        this.#ctx.replyError(req, CairnError.from(err))
      }
      return
    }
    let op: WriteOp
    try {
      op = toWriteOp(req, this.#ctx.address)
    } catch (err) {
      this.#ctx.replyError(req, CairnError.from(err))
      return
    }
    this.#queued.push({ op, req, startedAt: this.#ctx.clock.now() })
  }

  enqueueTimerFire(timer: DurableTimer): void {
    this.#queued.push({ op: { type: 'timer.fire', opId: `timer:${timer.id}:${timer.deadline}`, timer }, startedAt: this.#ctx.clock.now() })
  }

  /** Re-applies operations a crashed process journaled but never applied. */
  resume(entries: JournalEntry[]): void {
    for (const e of entries) this.#staged.push({ op: e.body as WriteOp, startedAt: e.startedAt })
  }

  /**
   * Answers a read in order with the writes before it. A read behind queued
   * commands joins their queue, so it sees them. The answer comes from the
   * writer's view, which holds writes still in flight, so it is released
   * only once they are durable, as a command's answer is: no caller sees a
   * write that may yet fail (the read is then answered with the writer's
   * error).
   */
  answerRead(req: Envelope): void {
    if (req.type === M.walFlush) {
      this.#wal.flush().then((r) => this.#ctx.replyOk(req, { ...r, ...this.#wal.status() }), (err) => this.#ctx.replyError(req, CairnError.from(err)))
      return
    }
    // Queued commands are run by a commit already scheduled for them; the read rides along.
    if (this.#commands.length > 0) {
      this.#commands.push({ cmd: null, req })
      return
    }
    this.#blocks.answerAfterBlocks(req, this.#readOutcome(req))
  }

  #readOutcome(req: Envelope): Outcome {
    try {
      // Read from the disk when released: it then holds every write sent before.
      if (req.type === M.eventsStats) return { ok: true, late: () => this.#stats(req) }
      if (!QUERY_TYPES.has(req.type)) return { ok: true, value: this.#read(req) }
      const value = query(this.#blocks.events, req.type, req.body, this.#leasedNow())
      // Held until durable: a later comment must not reach the shown projection's lists meanwhile.
      return { ok: true, value: req.type === M.issueShow ? detachLists(value as IssueProjection) : value }
    } catch (err) {
      return { ok: false, error: CairnError.from(err) }
    }
  }

  #stats(req: Envelope): Answer {
    try {
      return { ok: true, value: { ...(query(this.#blocks.events, req.type, req.body) as object), wal: this.#wal.status() } }
    } catch (err) {
      return { ok: false, error: CairnError.from(err) }
    }
  }

  #read(req: Envelope): unknown {
    const body = (req.body ?? {}) as Record<string, unknown>
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
        return { count: this.#dbs.records.getCount(), lastSeq: this.#lastSeq() }
      case M.listTimers:
        return this.#ctx.timers.list()
      default:
        throw new CairnError('UNKNOWN_MESSAGE', `repo-worker does not handle ${req.type}`)
    }
  }

  /** Whether an issue is under any live lease right now (issue: or repo:). */
  #leasedNow(): (issueId: string) => boolean {
    const now = this.#ctx.clock.now()
    return (issueId) => this.#gate.covering(`issue:${issueId}`).some((l) => isLive(l, now))
  }

  #lastSeq(): number {
    return lastKey(this.#dbs.records)
  }

  /** Runs one command in its own batch; a refused command has written nothing (its writes were only recorded). */
  #runCommand(cmd: Command, batch: Batch): unknown {
    if (cmd.type === 'identity') return this.#identity(cmd.agent, batch)
    if (cmd.type === 'ingest') return applyIngest(cmd, batch)
    return applyCommand(cmd, batch, this.#ctx.clock.now(), this.#gate)
  }

  #identity(agent: string, batch: Batch): { agent: string; actor: string; created: boolean } {
    const known = batch.get(this.#dbs.identities, agent)
    if (known) return { agent, actor: known.actor, created: false }
    const actor = randomBytes(16).toString('hex')
    batch.putKeyed(this.#dbs.identities, agent, { actor, createdAt: this.#ctx.clock.now() })
    return { agent, actor, created: true }
  }

  /** One pipelined commit (or, with drain, commits until nothing is left). */
  commitBatch(drain: boolean): Promise<CommitOutput> {
    const run = async (): Promise<CommitOutput> => {
      // Let the rest of this turn's messages join: one block per turn, as
      // lmdb-js batches a turn's writes into one transaction anyway.
      await new Promise<void>((resolve) => setImmediate(resolve))
      do {
        await this.#commitOnce()
      } while (drain && (this.#queued.length > 0 || this.#staged.length > 0 || this.#commands.length > 0))
      if (drain) await this.#flushAll()
      return { staged: this.#staged.length }
    }
    // Serialised: a commit abandoned by a state change still finishes first.
    const next = this.#chain.then(run, run)
    this.#chain = next.catch(() => undefined)
    return next
  }

  async #commitOnce(): Promise<void> {
    if (this.failNextCommit) {
      this.failNextCommit = false
      throw new CairnError('INTERNAL', 'injected commit failure')
    }
    const toApply = this.#staged
    const toJournal = this.#queued
    const toRun = this.#commands
    if (toApply.length + toJournal.length + toRun.length === 0) return
    this.#staged = []
    this.#queued = []
    this.#commands = []
    if (toRun.length > 0) await this.#blocks.run(toRun)
    if (toApply.length + toJournal.length > 0) await this.#commitJournal(toApply, toJournal)
  }

  /** Journals the newly queued operations and applies the ones journaled by the previous commit, in one transaction. */
  async #commitJournal(toApply: Pending[], toJournal: Pending[]): Promise<void> {
    const { records, opIds, journal, actors } = this.#dbs
    const results = await this.#env.transaction(() => {
      for (const p of toJournal) {
        journal.put(p.op.opId, { opId: p.op.opId, type: p.op.type, actor: this.#ctx.address, startedAt: p.startedAt, resumable: true, body: p.op } satisfies JournalEntry)
      }
      let seq = this.#lastSeq()
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
    // Replies wait for this commit's flush, but the next batch's transaction
    // need not: it runs while this fsync is in progress (LMDB syncs commits
    // in order, so a durable later commit implies the earlier ones). At most
    // one flush is left outstanding when a commit returns.
    const previous = this.#flushing
    this.#flushing = { done: this.#env.flushed.then(settle) }
    if (previous) await previous.done
  }

  /** Waits until every committed batch is flushed and answered. */
  settled(): Promise<void> {
    return this.#flushAll()
  }

  async #flushAll(): Promise<void> {
    const last = this.#flushing
    if (last) await last.done
    await this.#blocks.settled()
  }
}

