/**
 * The RepoWorker's imperative shell over the repository's LMDB environment:
 * it routes each message by its role (messages.ts) and makes the effects
 * the machine asks for.
 *
 * Its write path: issue commands run at once against the event store's
 * in-memory view, which already holds every earlier command's writes, and
 * their recorded writes go to lmdb-js as fenced blocks (blocks.ts,
 * lib/kernel/store/write-chain.ts) without waiting for earlier blocks to commit; replies
 * follow each block's flush, in order. The journaled record log and its
 * durable timers (journal/record-log.ts, reached through cairn/testing)
 * commit in the same turn, after the block.
 *
 * Durability contract: a reply is sent only after the transaction holding
 * the effect has committed and `env.flushed` resolved.
 */
import type { RootDatabase } from 'lmdb'
import { randomBytes } from 'node:crypto'
import { CairnError } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { JournalEntry } from '../../lib/kernel/store/journal.ts'
import type { DurableTimer } from '../../lib/kernel/store/snapshots.ts'
import type { ActorContext } from '../../lib/kernel/actor-module.ts'
import type { CommitOutput } from './machine.ts'
import type { RepoDbs } from './store/dbs.ts'
import type { Batch } from './store/event-store.ts'
import { CommandBlocks, type Answer, type Outcome, type PendingCommand } from './blocks.ts'
import { parseCommand, type Command } from './commands/parse.ts'
import { applyCommand } from './commands/apply.ts'
import { applyClaimNext } from './commands/claim.ts'
import { applyIngest } from './commands/ingest.ts'
import type { LeaseGate } from '../../lib/kernel/ports/lease-gate.ts'
import { query } from './queries.ts'
import { repoWorkerMessage } from './messages.ts'
import { RecordLog } from './journal/record-log.ts'
import { detachLists, type IssueProjection } from './projection/index.ts'
import type { WalService } from './wal/service.ts'

export { openRepoDbs } from './store/dbs.ts'

const FROM_DISK: ReadonlySet<string> = new Set([M.issueList, M.issueReady, M.issueTopo])

export class RepoWorkerShell {
  readonly #dbs: RepoDbs
  readonly #ctx: ActorContext
  /** Issue commands (not journaled: events are their own record) and the reads queued behind them. */
  #commands: PendingCommand[] = []
  #chain: Promise<unknown> = Promise.resolve()
  /** Set by fault injection: the next commit throws, as a broken disk would. */
  failNextCommit = false
  readonly #blocks: CommandBlocks
  readonly #log: RecordLog
  readonly #wal: WalService

  constructor(env: RootDatabase, dbs: RepoDbs, ctx: ActorContext, wal: WalService) {
    this.#wal = wal
    this.#dbs = dbs
    this.#ctx = ctx
    this.#log = new RecordLog(env, dbs, ctx)
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

  /** The actor stopped or failed: its commands refused by the store's write chain are not run again. */
  dispose(): void {
    this.#blocks.dispose()
  }

  /** A `command` or `journaled` message (messages.ts): validated now, run by the next commit. */
  enqueueWrite(req: Envelope): void {
    const broken = this.#blocks.broken
    if (broken) {
      this.#ctx.replyError(req, broken)
      return
    }
    if (repoWorkerMessage(req.type)?.role !== 'command') {
      this.#log.enqueue(req)
      return
    }
    try {
      const cmd = parseCommand(req)
      // A known agent needs no commit: answer from the store at once.
      const known = cmd.type === 'identity' ? this.#dbs.identities.get(cmd.agent) : undefined
      if (known && cmd.type === 'identity') this.#ctx.replyOk(req, { agent: cmd.agent, actor: known.actor, created: false })
      else if (this.#ctx.readOnly) this.#ctx.replyError(req, new CairnError('STORE_READ_ONLY', `the store is read-only: ${req.type} would write to it`))
      else this.#commands.push({ cmd, req })
    } catch (err) {
      this.#ctx.replyError(req, CairnError.from(err))
    }
  }

  enqueueTimerFire(timer: DurableTimer): void {
    this.#log.fire(timer)
  }

  /** Re-applies operations a crashed process journaled but never applied. */
  resume(entries: JournalEntry[]): void {
    this.#log.resume(entries)
  }

  /**
   * Answers a `query`, `flush`, `journal-read` or unknown message. A query
   * is answered in order with the writes before it: behind queued commands
   * it joins their queue, so it sees them. The answer comes from the
   * writer's view, which holds writes still in flight, so it is released
   * only once they are durable, as a command's answer is: no caller sees a
   * write that may yet fail (the read is then answered with the writer's
   * error).
   */
  answerRead(req: Envelope): void {
    const role = repoWorkerMessage(req.type)?.role
    if (role === 'flush') {
      this.#wal.flush().then((r) => this.#ctx.replyOk(req, { ...r, ...this.#wal.status() }), (err) => this.#ctx.replyError(req, CairnError.from(err)))
      return
    }
    if (role !== 'query') {
      try {
        if (role !== 'journal-read') throw new CairnError('UNKNOWN_MESSAGE', `repo-worker does not handle ${req.type}`)
        this.#ctx.replyOk(req, this.#log.read(req))
      } catch (err) {
        this.#ctx.replyError(req, CairnError.from(err))
      }
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
      // Listings come from the disk's listing index (store/listing.ts), which holds
      // no write in flight: read it when released, once the writes before are durable.
      if (FROM_DISK.has(req.type)) return { ok: true, late: () => this.#late(req) }
      const value = query(this.#blocks.events, req.type, req.body, this.#claims())
      // Held until durable: a later comment must not reach the shown projection's lists meanwhile.
      return { ok: true, value: req.type === M.issueShow ? detachLists(value as IssueProjection) : value }
    } catch (err) {
      return { ok: false, error: CairnError.from(err) }
    }
  }

  #late(req: Envelope): Answer {
    try {
      return { ok: true, value: query(this.#blocks.events, req.type, req.body, this.#claims()) }
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

  /** The LockKeeper's lease gate (thread ports); UNAVAILABLE while the LockKeeper is not running. */
  #gate(): LeaseGate {
    const gate = this.#ctx.ports.leaseGate
    if (gate === null) throw new CairnError('UNAVAILABLE', 'leases are not available: the lock keeper of this repository is starting or restarting', { retryable: true })
    return gate
  }

  /** Who holds the claim on an issue right now, for the ready query (null: nobody). */
  #claims(): (issueId: string) => ReturnType<LeaseGate['claimedBy']> {
    const now = this.#ctx.clock.now()
    const gate = this.#ctx.ports.leaseGate
    if (gate === null) return () => { throw new CairnError('UNAVAILABLE', 'leases are not available: the lock keeper of this repository is starting or restarting', { retryable: true }) }
    return (issueId) => gate.claimedBy(issueId, now)
  }

  /** Runs one command in its own batch; a refused command has written nothing (its writes were only recorded). */
  #runCommand(cmd: Command, batch: Batch): unknown {
    if (cmd.type === 'identity') return this.#identity(cmd.agent, batch)
    if (cmd.type === 'ingest') return applyIngest(cmd, batch)
    if (cmd.type === 'claim-next') return applyClaimNext(cmd, batch, this.#blocks.events.readySet(), this.#ctx.clock.now(), this.#gate())
    return applyCommand(cmd, batch, this.#ctx.clock.now(), this.#gate())
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
      } while (drain && (this.#log.pending || this.#commands.length > 0))
      if (drain) await this.settled()
      return { staged: this.#log.staged }
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
    const toRun = this.#commands
    this.#commands = []
    if (toRun.length > 0) await this.#blocks.run(toRun)
    await this.#log.commit()
  }

  /** Waits until every committed batch is flushed and answered. */
  async settled(): Promise<void> {
    await this.#log.settled()
    await this.#blocks.settled()
  }
}
