/**
 * The Supervisor's engine (main thread): the Piscina pool, the placement
 * table, routing, restarts and the watchdog, driven by the pure lifecycle
 * machine in actors/supervisor/machine.ts.
 */
import { createHash, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { createActor, fromPromise, type ActorRefFrom } from 'xstate'
import { decode, encode } from '../../protocol/codec.ts'
import { CairnError } from '../../protocol/errors.ts'
import { envelope, REPLY, type Envelope, type ReplyBody } from '../../protocol/envelope.ts'
import {
  ACTOR_KINDS, hostAddress, MESSAGE_TYPES as M, SUPERVISOR,
  type ActorFailedBody, type ActorKind, type EventsAppendedBody, type ActorStats, type HostReady, type PongBody, type RepoReconciliation,
} from '../../protocol/messages.ts'
import type { ReconciliationReport } from '../../protocol/results.ts'
import { supervisorMachine } from './machine.ts'
import { StoreReader } from '../repo-worker/store/reader.ts'
import { CHANNELS, publish } from '../../lib/kernel/diagnostics.ts'
import { gitCommonDir } from '../../lib/kernel/store/common-dir.ts'
import { decideRestart } from './restart-policy.ts'
import type { HostTask } from '../../lib/kernel/host-task.ts'
import { FramePort, framesIn } from '../../lib/kernel/frame-port.ts'
import { HomeStore, type SessionRecord } from './home-store.ts'
import { markReady, newHostRecord, type HostRecord } from './hosts.ts'
import type { SupervisorOptions } from './options.ts'
import { Router, type RequestOptions } from './router.ts'
import { Watchdog } from './watchdog.ts'

/** How long stop() waits for a stopped host task to close its store before the pool is destroyed. */
const HOST_END_GRACE_MS = 10_000

export type { ReconciliationReport }

export class Supervisor {
  readonly options: SupervisorOptions
  readonly router: Router
  readonly hosts = new Map<string, HostRecord>()
  report: ReconciliationReport = { previousSessions: [], repos: [] }
  #pool!: Piscina
  #home!: HomeStore
  readonly #readers = new Map<string, StoreReader>()
  #session!: SessionRecord
  #watchdog: Watchdog | null = null
  #machine: ActorRefFrom<typeof supervisorMachine>
  #unsubscribeClock: (() => void) | null = null
  readonly #stopHooks = new Set<() => void>()

  constructor(options: SupervisorOptions) {
    this.options = options
    this.router = new Router(options.clock, options.requestTimeoutMs)
    this.#machine = createActor(supervisorMachine.provide({
      actors: {
        boot: fromPromise(() => this.#boot()),
        reconcile: fromPromise(() => this.#reconcile()),
        drain: fromPromise(() => this.#drain()),
      },
    }))
  }

  /** This runtime process's session id: the `session` half of every lease holder. */
  get sessionId(): string { return this.#session?.id ?? '' }

  get state(): string { return String(this.#machine.getSnapshot().value) }

  /** Resolves once serving; rejects with the boot error after cleaning up. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sub = this.#machine.subscribe((snap) => {
        if (snap.value === 'serving') { sub.unsubscribe(); resolve() }
        if (snap.value === 'stopped') { sub.unsubscribe(); reject(this.#bootError ?? new CairnError('INTERNAL', snap.context.error ?? 'boot failed')) }
      })
      this.#machine.start()
    })
  }

  #bootError: unknown = null

  async #boot(): Promise<void> {
    try {
      const o = this.options
      this.#home = await HomeStore.open(o.home)
      this.#pool = new Piscina({
        filename: o.hostEntry,
        minThreads: o.threads,
        maxThreads: o.threads,
        idleTimeout: Infinity,
        concurrentTasksPerWorker: o.reposPerThread,
        maxQueue: o.threads * o.reposPerThread,
        // 'sync' parks idle threads in Atomics.wait and freezes their timers.
        atomics: 'disabled',
      })
      // Piscina emits 'error' for worker errors outside tasks; tasks reject too.
      this.#pool.on('error', () => undefined)
      const clock = o.clock as { onAdvance?: (fn: () => Promise<void>) => () => void }
      if (clock.onAdvance) this.#unsubscribeClock = clock.onAdvance(() => this.#broadcastTick())
      this.#session = { id: randomUUID(), pid: process.pid, startedAt: Date.now(), repos: [], clean: false }
      await this.#home.put(this.#session)
    } catch (err) {
      this.#bootError = err
      throw err
    }
  }

  async #reconcile(): Promise<void> {
    try {
      const crashed = this.#home.crashedSessions(this.#session.id)
      const repoIds = new Set(crashed.flatMap((s) => s.repos))
      for (const repoId of repoIds) {
        const known = this.#home.repos.get(repoId)
        if (!known) continue
        try {
          await this.#place(known.repoId, known.path, known.storeDir)
        } catch {
          // A repository that cannot reopen (deleted, foreign) is reported by
          // openRepo when someone asks for it; it must not block boot.
        }
      }
      this.report.previousSessions = crashed.map((s) => ({ id: s.id, pid: s.pid, startedAt: s.startedAt, outcome: 'crashed' as const }))
      await this.#home.sessions.transaction(() => { for (const s of crashed) this.#home.sessions.remove(s.id) })
      if (this.options.watchdog) this.#watchdog = new Watchdog(this, this.options.watchdog)
      publish(CHANNELS.reconciled, { report: this.report })
      publish(CHANNELS.runtimeServing, { session: this.#session.id })
    } catch (err) {
      this.#bootError = err
      throw err
    }
  }

  /**
   * Opens (placing if needed) the repository containing `path`.
   * @example const rec = await supervisor.openRepo('/src/app')
   */
  async openRepo(path: string): Promise<HostRecord> {
    if (this.state !== 'serving') throw new CairnError('STOPPED', 'runtime is not serving')
    const { commonDir } = gitCommonDir(path)
    const repoId = createHash('sha256').update(commonDir).digest('hex').slice(0, 16)
    return this.#place(repoId, commonDir, join(commonDir, 'cairn'))
  }

  async #place(repoId: string, path: string, storeDir: string): Promise<HostRecord> {
    let rec = this.hosts.get(repoId)
    if (!rec) {
      if (this.hosts.size >= this.options.threads * this.options.reposPerThread) {
        throw new CairnError('BUSY', `this runtime hosts at most ${this.options.threads * this.options.reposPerThread} repositories (threads × reposPerThread)`)
      }
      rec = newHostRecord(repoId, path, storeDir, ACTOR_KINDS)
      this.hosts.set(repoId, rec)
      this.#launch(rec)
      await this.#home.repos.put(repoId, { repoId, path, storeDir, lastOpenedAt: Date.now() })
      this.#session.repos.push(repoId)
      await this.#home.put(this.#session)
    }
    await rec.ready
    if (rec.state === 'failed') {
      throw rec.failure instanceof CairnError ? rec.failure : new CairnError('UNAVAILABLE', `repository ${path} failed to start`)
    }
    return rec
  }

  /** Starts one generation of a repository's host task on the pool. */
  #launch(rec: HostRecord): void {
    const generation = ++rec.generation
    rec.state = rec.generation === 1 ? 'starting' : 'restarting'
    const { port1, port2 } = new MessageChannel()
    rec.port = new FramePort(port1, { coalesce: this.options.coalesceRequests })
    let settleReady!: () => void
    rec.ready = new Promise((resolve) => { settleReady = resolve })
    const current = (): boolean => rec.generation === generation
    port1.on('message', (data: unknown) => {
      if (!current()) return
      // Whatever the thread reports (a reply, new events) was committed before it was sent.
      this.#readers.get(rec.repoId)?.refresh()
      for (const frame of framesIn(data) ?? []) this.#fromHost(rec, generation, frame, settleReady)
    })
    const task: HostTask = {
      port: port2, repoId: rec.repoId, storeDir: rec.storeDir, clock: this.options.clock.describe(),
      mailboxCapacity: this.options.mailboxCapacity, faultInjection: this.options.faultInjection,
    }
    rec.ended = this.#pool.run(task, { transferList: [port2] }).then(
      () => { if (current() && rec.state !== 'stopping' && rec.state !== 'failed') this.#onHostDown(rec, new Error('host task ended unexpectedly')) },
      (err: unknown) => { if (current()) this.#onHostDown(rec, err) },
    ).finally(() => settleReady())
  }

  /** One frame from a host thread (current generation). */
  #fromHost(rec: HostRecord, generation: number, data: Uint8Array, settleReady: () => void): void {
    let msg: Envelope
    try { msg = decode(data) } catch { return }
    if (msg.type === REPLY) {
      const body = msg.body as ReplyBody
      if (!body.ok && body.error.code === 'MAILBOX_FULL') publish(CHANNELS.mailboxFull, { actor: msg.from })
      this.router.deliver(msg)
    } else if (msg.type === M.hostReady) {
      markReady(rec, msg.body as HostReady, generation, this.report.repos)
      settleReady()
    } else if (msg.type === M.hostFailed) {
      rec.failure = CairnError.fromWire((msg.body as { error: unknown }).error)
      if (rec.state !== 'ready') { rec.state = 'failed'; settleReady() }
    } else if (msg.type === M.actorFailed) {
      this.#onActorFailed(rec, msg.body as ActorFailedBody)
    } else if (msg.type === M.eventsAppended) {
      rec.feed.advance((msg.body as EventsAppendedBody).lastSeq)
    } else if (msg.type === M.syncProgress) {
      const { corr, ...progress } = msg.body as { corr: number }
      this.router.progress(corr, progress)
    }
  }

  /** A thread died (throw, exit, termination): fail its requests, restart its repos. */
  #onHostDown(rec: HostRecord, err: unknown): void {
    if (rec.state === 'stopping' || rec.state === 'stopped') return
    rec.port?.close()
    rec.port = null
    const message = err instanceof Error ? err.message : String(err)
    this.router.rejectGroup(rec.repoId, () => new CairnError('UNAVAILABLE', `thread hosting ${rec.path} died: ${message}`, { repo: rec.path }))
    publish(CHANNELS.threadDied, { repo: rec.repoId, thread: rec.threadId, error: message })
    let failed = false
    // The three actors restart together; wait for the longest backoff any of them asks for.
    let delay = 0
    for (const [kind, a] of rec.actors) {
      const d = decideRestart(this.options.restart, a.history, this.options.clock.now(), Math.random)
      a.history = d.history
      a.lastError = message
      if (d.action === 'fail') { a.state = 'failed'; failed = true; publish(CHANNELS.actorFailed, { actor: `${kind}:${rec.repoId}`, reason: d.reason }) }
      else { a.state = 'restarting'; delay = Math.max(delay, d.delayMs) }
    }
    if (failed) {
      rec.state = 'failed'
      rec.failure = new CairnError('ACTOR_FAILED', `actors of ${rec.path} exceeded their restart intensity: ${message}`)
      return
    }
    rec.state = 'restarting'
    rec.cancelRestart = this.options.clock.at(this.options.clock.now() + delay, () => {
      rec.cancelRestart = null
      if (this.state === 'serving' && rec.state === 'restarting') this.#launch(rec)
    })
  }

  #onActorFailed(rec: HostRecord, body: ActorFailedBody): void {
    const a = rec.actors.get(body.kind)
    if (!a) return
    a.lastError = body.error.message
    const d = decideRestart(this.options.restart, a.history, this.options.clock.now(), Math.random)
    a.history = d.history
    if (d.action === 'fail') {
      a.state = 'failed'
      publish(CHANNELS.actorFailed, { actor: body.actor, reason: d.reason, error: body.error })
      return
    }
    a.state = 'restarting'
    const generation = rec.generation
    this.options.clock.at(this.options.clock.now() + d.delayMs, () => {
      if (rec.generation !== generation || rec.state !== 'ready' || this.state !== 'serving') return
      this.#send(rec, hostAddress(rec.repoId), M.actorRestart, { kind: body.kind }, { timeoutMs: 30_000 })
        .then(() => { a.state = 'running'; publish(CHANNELS.actorRestarted, { actor: body.actor }) })
        .catch(() => undefined)
    })
  }

  /**
   * Sends a request to an actor of `rec` and awaits its reply.
   * Refuses at once when the actor is down (UNAVAILABLE) or failed (ACTOR_FAILED).
   */
  request(rec: HostRecord, kind: ActorKind | 'host', type: string, body: unknown, opts?: RequestOptions): Promise<unknown> {
    const refused = this.#refusal(rec, kind)
    return refused ? Promise.reject(refused) : this.#send(rec, kind === 'host' ? hostAddress(rec.repoId) : `${kind}:${rec.repoId}`, type, body, opts)
  }

  /** Why `kind` of `rec` cannot take a request now (the runtime, the actor), or null. */
  #refusal(rec: HostRecord, kind: ActorKind | 'host'): CairnError | null {
    if (this.state !== 'serving') return new CairnError('STOPPED', 'runtime is not serving')
    if (kind === 'host') return null
    const a = rec.actors.get(kind)!
    if (a.state === 'failed') return new CairnError('ACTOR_FAILED', `${kind}:${rec.repoId} exceeded its restart intensity: ${a.lastError}`)
    if (a.state === 'restarting') return new CairnError('UNAVAILABLE', `${kind}:${rec.repoId} is restarting`, { retryable: true })
    return null
  }

  /** Why the repository's host cannot take a message now, or null. */
  #hostDown(rec: HostRecord): CairnError | null {
    return rec.state === 'ready' && rec.port ? null
      : new CairnError(rec.state === 'failed' ? 'ACTOR_FAILED' : 'UNAVAILABLE', `repository ${rec.path} is ${rec.state}`, { retryable: rec.state !== 'failed' })
  }

  #send(rec: HostRecord, to: string, type: string, body: unknown, opts?: RequestOptions): Promise<unknown> {
    const down = this.#hostDown(rec)
    if (down) return Promise.reject(down)
    const port = rec.port!
    const id = this.router.nextId()
    let frame: Uint8Array
    try {
      frame = encode(envelope(id, type, SUPERVISOR, to, body))
    } catch (err) {
      return Promise.reject(new CairnError('INVALID_ARGUMENT', `arguments cannot be encoded: ${(err as Error).message}`, { field: 'arguments' }))
    }
    return this.router.request(rec.repoId, id, () => port.post(frame), opts)
  }

  /**
   * Answers a query of the RepoWorker here, from the repository's store
   * (actors/repo-worker/store/reader.ts); refuses exactly as {@link request}.
   */
  read(rec: HostRecord, type: string, body: Record<string, unknown>, shared = false): unknown {
    const refused = this.#refusal(rec, 'repo-worker') ?? this.#hostDown(rec)
    if (refused) throw refused
    let reader = this.#readers.get(rec.repoId)
    if (!reader) this.#readers.set(rec.repoId, reader = new StoreReader(rec.storeDir))
    return reader.query(type, body, shared)
  }

  /** Live liveness probe of one host (used by the watchdog and status()). */
  ping(rec: HostRecord, timeoutMs: number): Promise<PongBody> {
    return this.#send(rec, hostAddress(rec.repoId), M.ping, { at: Date.now() }, { timeoutMs }) as Promise<PongBody>
  }

  /** Terminates the thread hosting `rec` (the watchdog's last resort). */
  async terminateThread(threadId: number): Promise<boolean> {
    const worker = this.#pool.threads.find((w: { threadId: number }) => w.threadId === threadId)
    if (!worker) return false
    publish(CHANNELS.threadUnresponsive, { thread: threadId })
    await worker.terminate()
    return true
  }

  async #broadcastTick(): Promise<void> {
    await Promise.all([...this.hosts.values()].filter((r) => r.state === 'ready')
      .map((r) => this.#send(r, hostAddress(r.repoId), M.clockTick, {}, { timeoutMs: 60_000 }).catch(() => undefined)))
  }

  async status(): Promise<{ actors: (ActorStats & { repo: string; thread: number | null; restarts: number; supervision: string })[] }> {
    const actors = []
    for (const rec of this.hosts.values()) {
      let live: ActorStats[] = []
      if (rec.state === 'ready') live = (await this.ping(rec, 2000).catch(() => null))?.actors ?? []
      for (const [kind, a] of rec.actors) {
        const s = live.find((x) => x.kind === kind)
        actors.push({
          actor: `${kind}:${rec.repoId}`, kind, repo: rec.path, thread: rec.threadId,
          state: s?.state ?? a.state, mailbox: s?.mailbox ?? 0, capacity: s?.capacity ?? this.options.mailboxCapacity,
          restarts: a.history.total, supervision: a.state,
        })
      }
    }
    return { actors }
  }

  /** Work the runtime must end when it stops (lease heartbeats); returns an unregister function. */
  onStop(fn: () => void): () => void {
    this.#stopHooks.add(fn)
    return () => { this.#stopHooks.delete(fn) }
  }

  stop(): Promise<void> {
    for (const fn of [...this.#stopHooks]) fn()
    this.#stopHooks.clear()
    return new Promise((resolve) => {
      const sub = this.#machine.subscribe((snap) => { if (snap.value === 'stopped') { sub.unsubscribe(); resolve() } })
      if (this.#machine.getSnapshot().value === 'stopped') { sub.unsubscribe(); resolve(); return }
      this.#machine.send({ type: 'STOP' })
    })
  }

  async #drain(): Promise<void> {
    this.#watchdog?.stop()
    this.#unsubscribeClock?.()
    const stops = [...this.hosts.values()].map(async (rec) => {
      rec.cancelRestart?.()
      rec.feed.close()
      if (rec.state === 'ready' && rec.port) {
        // Sent while still 'ready' (#send posts at once), then no new request goes in.
        const stopped = this.#send(rec, hostAddress(rec.repoId), M.hostStop, {}, { timeoutMs: 30_000 })
        rec.state = 'stopping'
        await stopped.catch(() => undefined)
        // The host closes its LMDB env after replying; terminating its thread
        // during that close aborts the whole process, so wait (bounded).
        await Promise.race([rec.ended, new Promise((resolve) => setTimeout(resolve, HOST_END_GRACE_MS).unref())])
      }
      rec.state = 'stopped'
      rec.port?.close()
    })
    await Promise.all(stops)
    await Promise.all([...this.#readers.values()].map((r) => r.close()))
    this.#readers.clear()
    this.router.rejectGroup(null, () => new CairnError('STOPPED', 'runtime stopped'))
    this.router.close()
    if (this.#pool) await this.#pool.destroy()
    if (this.#home) {
      if (this.#session) await this.#home.put({ ...this.#session, clean: true })
      await this.#home.env.close()
    }
    publish(CHANNELS.runtimeStopped, {})
  }
}
