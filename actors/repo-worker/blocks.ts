/**
 * The RepoWorker's issue commands, run as they arrive and committed as
 * pipelined fenced blocks on the store's write chain
 * (lib/kernel/store/write-chain.ts): each command runs against an
 * in-memory view holding every earlier command's writes, its writes join
 * the turn's block, and its answer goes out once that block (and so every
 * block before it) is durable.
 *
 * Another writer on the same store (a second runtime, with another home,
 * on the same repository) makes the view stale: the next block is refused
 * (`store-changed`) and, the chain being fenced, so is every block issued
 * after it. Nothing of them applied, so their commands are simply run
 * again: once the chain has every refused block back and re-read its
 * fence, it tells this writer to re-read its view from the disk, and the
 * refused commands (reads included) go out as a new block, in their
 * arrival order. Their callers see an ordinary, later answer. Only after
 * MAX_TRIES refusals in a row does a command get the error, so two
 * runtimes writing at once slow each other down but never restart each
 * other. The LockKeeper shares the chain: a refusal of either re-reads
 * both.
 *
 * A failed commit (`commit-failed`: the disk, not another writer) still
 * breaks the writer: its view may be ahead of a disk in an unknown state,
 * and the actor restarts. A full disk does not: its block's commands are
 * answered STORAGE_FULL, the view is reloaded from the disk like after a
 * refusal, and the next commands write as soon as space is freed.
 */
import type { RootDatabase } from 'lmdb'
import { CairnError } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import type { RepoDbs } from './store/dbs.ts'
import { EventStore, type Batch } from './store/event-store.ts'
import { checkpointWrite, type RecordedWrite } from './store/batch.ts'
import { WriteChain } from '../../lib/kernel/store/write-chain.ts'
import type { Command } from './commands/parse.ts'

/** An issue command, or (`cmd: null`) a read queued behind commands. */
export interface PendingCommand { cmd: Command | null; req: Envelope; tries?: number }
/**
 * A command's or read's answer. A `late` one is computed only when it is
 * released: for answers read from the disk alone, which then hold every
 * write before them.
 */
export type Answer = { ok: true; value: unknown } | { ok: false; error: CairnError }
export type Outcome = Answer | { ok: true; late: () => Answer }

/** Command blocks in flight before the worker waits for the oldest: bounds memory when the disk falls behind. */
const MAX_BLOCKS_IN_FLIGHT = 64
/** Refusals in a row after which a command is answered with the store-changed error. */
export const MAX_TRIES = 16

export interface BlockHooks {
  /** Runs one command in its batch (throws to refuse it). */
  run(cmd: Command, batch: Batch): unknown
  /** Answers a read from the current view. */
  read(req: Envelope): Outcome
  reply(req: Envelope, a: Answer): void
  /** A block that appended events is durable. */
  appended(lastSeq: number): void
}

export class CommandBlocks {
  readonly #dbs: RepoDbs
  readonly #hooks: BlockHooks
  #events: EventStore
  readonly #chain: WriteChain
  readonly #unlisten: () => void
  #gen = 0
  /** Blocks not yet answered, oldest first; each settles (never rejects) once answered. */
  #blocks: Promise<void>[] = []
  /** Commands of refused blocks, in arrival order, waiting for the chain to re-read the disk. */
  #refused: PendingCommand[] = []
  #rerunQueued = false
  #disposed = false
  /** Set when a block did not commit: the view is ahead of the disk, so no more writes. */
  #broken: CairnError | null = null
  /** Told once when the writer breaks (index.ts fails the machine, so the actor restarts from disk). */
  onBroken: (err: CairnError) => void = () => {}

  constructor(env: RootDatabase, dbs: RepoDbs, hooks: BlockHooks) {
    this.#dbs = dbs
    this.#hooks = hooks
    this.#events = new EventStore(dbs)
    this.#chain = WriteChain.of(env)
    this.#unlisten = this.#chain.listen({ reload: () => this.#reload(), rerun: () => this.#rerun() })
  }

  /** Stops listening to the chain: this writer's actor stopped or failed, its refused commands are not run again. */
  dispose(): void {
    this.#disposed = true
    this.#unlisten()
  }

  /** The writer's view: the disk plus every adopted write. */
  get events(): EventStore { return this.#events }
  get broken(): CairnError | null { return this.#broken }

  /**
   * Runs the commands now, each against everything adopted before it, and
   * queues their writes as one fenced block. Resolves at once, or when the
   * oldest block is answered if too many are in flight.
   */
  run(toRun: PendingCommand[]): Promise<void> {
    const gen = ++this.#gen
    const epoch = this.#chain.epoch
    const writes: RecordedWrite[] = []
    const outcomes: Outcome[] = []
    /** Lease writes staged through the gate: told whether their block applied. */
    const settles: Array<(applied: boolean) => void> = []
    let appended = false
    for (const p of toRun) {
      if (p.cmd === null) {
        outcomes.push(this.#hooks.read(p.req))
        continue
      }
      const batch = this.#events.batch()
      try {
        const value = this.#hooks.run(p.cmd, batch)
        this.#events.adopt(batch, gen)
        for (const w of batch.writes) writes.push(w)
        for (const settle of batch.settles) settles.push(settle)
        if (batch.appended.length > 0) appended = true
        outcomes.push({ ok: true, value })
      } catch (err) {
        batch.discard()
        outcomes.push({ ok: false, error: CairnError.from(err) })
      }
    }
    const lastSeq = this.#events.lastSeq
    if (appended) writes.push(checkpointWrite(this.#dbs, lastSeq))
    // A block that writes nothing (refusals, reads, retried opIds) still answers
    // after the blocks before it: a retry's answer may come from one in flight.
    const before = this.#blocks.at(-1) ?? Promise.resolve()
    const durable = writes.length > 0 ? this.#chain.write(writes) : before
    const answered = durable.then(() => {
      // Nothing written, computed on a view a refused block had already left behind: run again.
      if (writes.length === 0 && (this.#chain.refusing || this.#chain.epoch !== epoch)) return this.#refuse(toRun)
      for (const settle of settles) settle(true)
      this.#events.settle(gen)
      toRun.forEach((p, i) => this.#reply(p.req, outcomes[i] as Outcome))
      if (appended && !this.#broken) this.#hooks.appended(lastSeq)
    }, (err: unknown) => {
      for (const settle of settles) settle(false)
      const error = CairnError.from(err)
      if (!this.#broken && error.details?.reason === 'store-changed') return this.#refuse(toRun)
      if (!this.#broken && error.code === 'STORAGE_FULL') {
        // Nothing of the block applied; the chain's re-read reloads this view from the disk.
        toRun.forEach((p, i) => {
          const o = outcomes[i] as Outcome
          this.#hooks.reply(p.req, o.ok ? { ok: false, error } : o)
        })
        return
      }
      const broken = this.#break(error)
      toRun.forEach((p, i) => {
        const o = outcomes[i] as Outcome
        this.#hooks.reply(p.req, o.ok ? { ok: false, error: broken } : o)
      })
    })
    this.#blocks.push(answered)
    void answered.then(() => { this.#blocks.shift() })
    return this.#blocks.length > MAX_BLOCKS_IN_FLIGHT ? (this.#blocks[0] as Promise<void>) : Promise.resolve()
  }

  /**
   * Answers a read computed now (not queued behind commands) once the
   * blocks in flight are durable; if one of them was refused meanwhile, the
   * view it came from was wrong, so it is read again.
   */
  answerAfterBlocks(req: Envelope, outcome: Outcome, tries = 0): void {
    const last = this.#blocks.at(-1)
    if (!last) return this.#reply(req, outcome)
    const epoch = this.#chain.epoch
    void last.then(() => {
      const stale = this.#chain.epoch !== epoch || this.#chain.refusing
      if (!stale || this.#broken) return this.#reply(req, outcome)
      if (tries >= MAX_TRIES) return this.#hooks.reply(req, { ok: false, error: storeChanged() })
      this.answerAfterBlocks(req, this.#hooks.read(req), tries + 1)
    })
  }

  /** Every block answered (successful, refused and run again, or failed). */
  async settled(): Promise<void> {
    while (this.#blocks.length > 0) await Promise.all(this.#blocks)
  }

  /** Keeps a refused block's commands for the chain's re-read (or runs them now if it already happened). */
  #refuse(toRun: PendingCommand[]): void {
    for (const p of toRun) this.#refused.push(p)
    if (!this.#chain.refusing && !this.#rerunQueued) {
      // The chain re-read the disk before this block (one that wrote nothing) came back: the view is fresh.
      this.#rerunQueued = true
      queueMicrotask(() => { this.#rerunQueued = false; this.#rerun() })
    }
  }

  #reload(): void {
    if (this.#disposed) return
    this.#events = new EventStore(this.#dbs)
  }

  #rerun(): void {
    if (this.#disposed || this.#refused.length === 0) return
    const again = this.#refused
    this.#refused = []
    const retry: PendingCommand[] = []
    for (const p of again) {
      const tries = (p.tries ?? 0) + 1
      if (tries >= MAX_TRIES) this.#hooks.reply(p.req, { ok: false, error: storeChanged() })
      else retry.push({ ...p, tries })
    }
    if (retry.length > 0) void this.run(retry)
  }

  /** A broken writer turns a success into its error. */
  #reply(req: Envelope, o: Outcome): void {
    if (o.ok && this.#broken) return this.#hooks.reply(req, { ok: false, error: this.#broken })
    this.#hooks.reply(req, 'late' in o ? o.late() : o)
  }

  #break(err: CairnError): CairnError {
    if (!this.#broken) {
      this.#broken = err
      this.onBroken(err)
    }
    return this.#broken
  }
}

function storeChanged(): CairnError {
  return new CairnError('UNAVAILABLE', `the event store kept changing under this writer (another writer on the same store); refused ${MAX_TRIES} times`,
    { reason: 'store-changed', retryable: true })
}
