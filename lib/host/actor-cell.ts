/**
 * One actor inside a thread host: its bounded mailbox, its durable timers and
 * its failure handling. The mailbox counts requests accepted and not yet
 * answered; beyond `capacity` a request is refused at once with MAILBOX_FULL
 * (backpressure the caller sees), so nothing is ever dropped silently.
 */
import { CairnError } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import type { ActorKind, ActorStats } from '../../protocol/messages.ts'
import type { RootDatabase } from 'lmdb'
import type { ThreadClock } from '../kernel/ports/clock.ts'
import type { GitOpeners } from '../kernel/ports/git.ts'
import type { ThreadPorts } from '../kernel/ports/thread-ports.ts'
import type { ActorInstance, ActorModule, TimerService } from '../kernel/actor-module.ts'
import { CHANNELS, type ChannelName } from '../kernel/diagnostics.ts'
import type { JournalEntry } from '../kernel/store/journal.ts'
import { loadSnapshot, loadTimers, snapshotKey, type ActorsDb, type DurableTimer } from '../kernel/store/snapshots.ts'

export interface CellHooks {
  reply(req: Envelope, ok: boolean, value: unknown): void
  failed(cell: ActorCell, error: CairnError): void
  notify(cell: ActorCell, type: string, body: unknown): void
  report(cell: ActorCell, channel: ChannelName, message: Record<string, unknown>): void
  ask(cell: ActorCell, kind: ActorKind, type: string, body: unknown): Promise<unknown>
}

export class ActorCell {
  readonly kind: ActorKind
  readonly address: string
  readonly capacity: number
  #module: ActorModule
  #env: RootDatabase
  #actors: ActorsDb
  #clock: ThreadClock
  #hooks: CellHooks
  #repoId: string
  #instance: ActorInstance | undefined
  #generation = 0
  #outstanding = new Map<string, Envelope>()
  #timers = new Map<string, { timer: DurableTimer; cancel: () => void }>()
  /** Settles once a failed instance stopped touching the store. */
  #released: Promise<void> = Promise.resolve()
  /** Requests answered since the last start (runtime.actors()). */
  #handled = 0
  status: 'running' | 'stopping' | 'failed' | 'stopped' = 'stopped'

  readonly #repo: { gitDir: string; git: GitOpeners; readOnly: boolean; ports: ThreadPorts }

  constructor(module: ActorModule, repoId: string, address: string, env: RootDatabase, actors: ActorsDb,
    clock: ThreadClock, capacity: number, hooks: CellHooks, repo: { gitDir: string; git: GitOpeners; readOnly: boolean; ports: ThreadPorts }) {
    this.#repo = repo
    this.kind = module.kind
    this.address = address
    this.capacity = capacity
    this.#module = module
    this.#repoId = repoId
    this.#env = env
    this.#actors = actors
    this.#clock = clock
    this.#hooks = hooks
  }

  /** Starts (or restarts) from the last persisted snapshot and durable timers. */
  start(resume: JournalEntry[] = []): { discardedVersion?: number; restored: boolean; timers: number; overdue: number } {
    const generation = ++this.#generation
    this.#handled = 0
    const loaded = loadSnapshot(this.#actors, this.address, this.#module.snapshotVersion)
    const live = (): boolean => generation === this.#generation
    const timers: TimerService = {
      arm: (timer) => { if (live()) this.#arm(timer) },
      fired: (timer) => { if (live()) this.#timers.delete(timer.id) },
      list: () => [...this.#timers.values()].map(({ timer }) => ({ id: timer.id, at: timer.deadline, payload: timer.payload })),
    }
    this.#instance = this.#module.start({
      address: this.address,
      kind: this.kind,
      repoId: this.#repoId,
      env: this.#env,
      readOnly: this.#repo.readOnly,
      gitDir: this.#repo.gitDir,
      git: this.#repo.git,
      ports: this.#repo.ports,
      clock: this.#clock,
      timers,
      replyOk: (req, value) => { if (live()) this.#answer(req, true, value) },
      replyError: (req, error) => { if (live()) this.#answer(req, false, error.toWire()) },
      notify: (type, body) => { if (live()) this.#hooks.notify(this, type, body) },
      report: (channel, message) => { if (live()) this.#hooks.report(this, channel, message) },
      ask: (kind, type, body) => (live() ? this.#hooks.ask(this, kind, type, body)
        : Promise.reject(new CairnError('STOPPED', `${this.address} was restarted`))),
    }, { snapshot: loaded.snapshot, resume })
    this.status = 'running'
    this.#instance.failure.catch((err) => { if (live()) this.#fail(CairnError.from(err)) })
    // A timer's firing is a write: a read-only store keeps its timers for a writable open.
    const stored = this.#repo.readOnly ? [] : loadTimers(this.#actors, this.address)
    let overdue = 0
    for (const t of stored) {
      if (t.deadline <= this.#clock.now()) overdue++
      this.#arm(t)
    }
    return { restored: loaded.snapshot !== undefined, discardedVersion: 'discarded' in loaded ? loaded.discarded : undefined, timers: stored.length, overdue }
  }

  #arm(timer: DurableTimer): void {
    this.#timers.get(timer.id)?.cancel()
    const generation = this.#generation
    const cancel = this.#clock.at(timer.deadline, () => {
      if (generation !== this.#generation || this.status !== 'running') return
      this.#hooks.report(this, CHANNELS.timerFired, { timer: timer.id, deadline: timer.deadline })
      this.#instance!.timerDue(timer)
    })
    this.#timers.set(timer.id, { timer, cancel })
  }

  deliver(req: Envelope): void {
    if (this.status !== 'running') {
      const code = this.status === 'stopping' || this.status === 'stopped' ? 'STOPPED' : 'UNAVAILABLE'
      this.#hooks.reply(req, false, new CairnError(code, `${this.address} is ${this.status}`, { actor: this.address }).toWire())
      return
    }
    if (this.#repo.readOnly && !this.#module.readOnlyTypes?.has(req.type)) {
      this.#hooks.reply(req, false, new CairnError('STORE_READ_ONLY', `the store of this repository is read-only: ${req.type} would write to it`,
        { actor: this.address, type: req.type }).toWire())
      return
    }
    if (this.#outstanding.size >= this.capacity) {
      this.#hooks.reply(req, false, new CairnError('MAILBOX_FULL', `${this.address} mailbox is full (${this.capacity})`,
        { actor: this.address, capacity: this.capacity }).toWire())
      return
    }
    this.#outstanding.set(`${req.from}:${req.id}`, req)
    this.#instance!.deliver(req)
  }

  #answer(req: Envelope, ok: boolean, value: unknown): void {
    // Only the first answer to a request counts.
    if (!this.#outstanding.delete(`${req.from}:${req.id}`)) return
    this.#handled++
    this.#hooks.reply(req, ok, value)
  }

  #fail(error: CairnError): void {
    if (this.status !== 'running') return
    this.status = 'failed'
    const previous = this.#released
    const released = this.#instance?.released ?? Promise.resolve()
    this.#released = Promise.all([previous.catch(() => undefined), released.catch(() => undefined)]).then(() => undefined)
    this.#generation++
    this.#disarmAll()
    const lost = [...this.#outstanding.values()]
    this.#outstanding.clear()
    const unavailable = new CairnError('UNAVAILABLE', `${this.address} failed: ${error.message}`, { actor: this.address }).toWire()
    for (const req of lost) this.#hooks.reply(req, false, unavailable)
    this.#hooks.failed(this, error)
  }

  injectFailure(): void {
    this.#instance?.injectFailure()
  }

  /**
   * Settles once every failed instance of this cell stopped touching the
   * store: a successor must not start beside its background work (two WAL
   * drains on one outbox), and the store must not close under it.
   */
  released(): Promise<void> {
    return this.#released.catch(() => undefined)
  }

  /** Drains, persists the snapshot durably, disarms timers. */
  async stop(): Promise<void> {
    // A failed instance's background work ends before the host closes the
    // store under it, also when a successor has been started since.
    await this.released()
    if (this.status !== 'running') return
    // Accepted work drains; anything arriving from now on is refused at once.
    this.status = 'stopping'
    const snapshot = await this.#instance!.stop()
    this.status = 'stopped'
    this.#generation++
    this.#disarmAll()
    if (this.#repo.readOnly) return
    await this.#actors.put(snapshotKey(this.address), { version: this.#module.snapshotVersion, savedAt: this.#clock.now(), snapshot })
  }

  #disarmAll(): void {
    for (const { cancel } of this.#timers.values()) cancel()
    this.#timers.clear()
  }

  stats(): ActorStats {
    return {
      actor: this.address,
      kind: this.kind,
      state: this.status === 'running' ? this.#instance!.state() : this.status,
      mailbox: this.#outstanding.size,
      capacity: this.capacity,
      handled: this.#handled,
    }
  }
}
