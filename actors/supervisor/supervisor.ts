/**
 * The Supervisor's engine (main thread): its lifecycle (the pure machine in
 * machine.ts: boot, reconcile, serve, drain), the threads (thread-slot.ts),
 * placement of repositories on them, and one RepoHost per open repository,
 * whose own machine (host-machine.ts) decides its restarts.
 *
 * The public API reaches it only through methods (openRepo, status, ...) and
 * the RepoLink each open repository is handed out as.
 */
import { createHash, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { createActor, fromPromise, type ActorRefFrom } from 'xstate'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { actorAddress, type ActorStats } from '../../protocol/messages.ts'
import type { ReconciliationReport } from '../../protocol/results.ts'
import type { ActorInfo, WatchItem } from '../../protocol/supervision.ts'
import { supervisorMachine } from './machine.ts'
import { CHANNELS, publish } from '../../lib/kernel/diagnostics.ts'
import { gitCommonDir } from '../../lib/kernel/store/common-dir.ts'
import { closeAndSeal } from '../../lib/kernel/store/seal.ts'
import { warnIfUnfixed } from '../../lib/kernel/store/lmdb-fix.ts'
import type { Clock } from '../../lib/kernel/ports/clock.ts'
import { HomeStore, type SessionRecord } from './home-store.ts'
import type { SupervisorOptions } from './options.ts'
import { notOpen, Placement, type HandOff } from './placement.ts'
import type { RepoEntry } from './repo-entry.ts'
import type { RepoLink } from './repo-link.ts'
import { Router } from './router.ts'
import { SupervisionLog } from './supervision-log.ts'
import { missingHostModule, startThreadSlots, type ThreadSlot } from './thread-slot.ts'
import { Watchdog } from './watchdog.ts'
import { causeOf, type FailureCause } from './host-restarts.ts'

export type { HandOff, ReconciliationReport, RepoLink }

/** One actor in status(): what its thread reports, and what supervision knows. */
export interface ActorStatus extends ActorStats {
  repo: string
  thread: number | null
  restarts: number
  supervision: string
}

export class Supervisor {
  readonly #options: SupervisorOptions
  readonly #router: Router
  readonly #log: SupervisionLog
  readonly #report: ReconciliationReport = { previousSessions: [], repos: [] }
  #placement: Placement | null = null
  #slots: ThreadSlot[] = []
  #cancelSweep: (() => void) | null = null
  #home!: HomeStore
  #session!: SessionRecord
  #watchdog: Watchdog | null = null
  #machine: ActorRefFrom<typeof supervisorMachine>
  #unsubscribeClock: (() => void) | null = null
  #bootError: unknown = null
  readonly #stopHooks = new Set<() => void>()

  constructor(options: SupervisorOptions) {
    this.#options = options
    // Owned from now on: a boot that fails destroys them with the rest (#drain).
    this.#slots = options.slots ?? []
    this.#router = new Router(options.clock, options.requestTimeoutMs)
    this.#log = new SupervisionLog(options.clock)
    this.#machine = createActor(supervisorMachine.provide({
      actors: {
        boot: fromPromise(() => this.#step(() => this.#boot())),
        reconcile: fromPromise(() => this.#step(() => this.#reconcile())),
        drain: fromPromise(() => this.#drain()),
      },
    }))
  }

  /** This runtime process's session id: the `session` half of every lease holder. */
  sessionId(): string { return this.#session?.id ?? '' }

  /** booting, reconciling, serving, draining or stopped. */
  lifecycle(): string { return String(this.#machine.getSnapshot().value) }

  /** What boot reconciliation found and did, and each repository's first open since. */
  reconciliation(): ReconciliationReport { return this.#report }

  /** The clock every deadline of this runtime reads. */
  clock(): Clock { return this.#options.clock }

  /** The default per-request timeout. */
  requestTimeoutMs(): number { return this.#options.requestTimeoutMs }

  #serving(): boolean { return this.lifecycle() === 'serving' }

  /** Resolves once serving; rejects with the boot error (or STOPPED) after cleaning up. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sub = this.#machine.subscribe((snap) => {
        if (snap.value === 'serving') { sub.unsubscribe(); resolve() }
        if (snap.value === 'stopped') {
          sub.unsubscribe()
          reject(this.#bootError ?? (snap.context.stopRequested ? new CairnError('STOPPED', 'the runtime was stopped before it was serving')
            : new CairnError('INTERNAL', snap.context.error ?? 'boot failed')))
        }
      })
      this.#machine.start()
    })
  }

  async #step(fn: () => Promise<void>): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.#bootError = err
      throw err
    }
  }

  async #boot(): Promise<void> {
    const o = this.#options
    this.#home = await HomeStore.open(o.home)
    // A host module file that is not there is told here, before any thread
    // starts and the same way every time: a thread's loader error reaches this
    // thread as a copy, and a copy made by structured clone (not Node's error
    // serializer) drops its code (seen in CI, never here).
    const cannotStart = (cause: FailureCause) => new CairnError('UNAVAILABLE', `repository threads cannot start: ${cause.message}`, { cause, hostEntry: o.hostEntry })
    const missing = missingHostModule(o.hostEntry)
    if (missing) throw cannotStart(missing)
    if (this.#slots.length === 0) this.#slots = startThreadSlots(o)
    // A host module that does not load fails the runtime now, with its cause,
    // not each repository later. The first thread proves it loads; the others
    // load the hosting code when a repository is first placed on them (a
    // launch on a thread that cannot load fails with the cause too:
    // thread-slot.ts), so an idle thread holds no more than a bare isolate.
    const probed = this.#slots[0]!.probe()
    // Here, while the first thread loads: this thread would otherwise only wait.
    warnIfUnfixed()
    await probed.catch((err: unknown) => { throw cannotStart(causeOf(err)) })
    this.#placement = new Placement(this.#slots, {
      options: o, router: this.#router, log: this.#log,
      serving: () => this.#serving(),
      firstReady: (report) => { this.#report.repos.push(report) },
      opened: async (entry) => {
        await this.#home.repos.put(entry.id, { repoId: entry.id, path: entry.path, storeDir: entry.storeDir, lastOpenedAt: Date.now() })
        if (!this.#session.repos.includes(entry.id)) this.#session.repos.push(entry.id)
        await this.#home.put(this.#session)
      },
      // A closed repository was stopped cleanly: a crash of this session leaves nothing of it to reconcile.
      closed: async (entry) => {
        this.#session.repos = this.#session.repos.filter((id) => id !== entry.id)
        await this.#home.put(this.#session)
      },
    })
    const clock = o.clock as { onAdvance?: (fn: () => Promise<void>) => () => void }
    if (clock.onAdvance) this.#unsubscribeClock = clock.onAdvance(() => this.#broadcastTick())
    this.#session = { id: randomUUID(), pid: process.pid, startedAt: Date.now(), repos: [], clean: false }
    await this.#home.put(this.#session)
  }

  async #reconcile(): Promise<void> {
    const crashed = this.#home.crashedSessions(this.#session.id)
    const repoIds = new Set(crashed.flatMap((s) => s.repos))
    for (const repoId of repoIds) {
      const known = this.#home.repos.get(repoId)
      if (!known) continue
      try {
        await this.#placement!.open(this.#placement!.entry(known.repoId, known.path, known.storeDir))
      } catch {
        // A repository that cannot reopen (deleted, foreign) is reported by
        // openRepo when someone asks for it; it must not block boot.
      }
    }
    this.#report.previousSessions = crashed.map((s) => ({ id: s.id, pid: s.pid, startedAt: s.startedAt, outcome: 'crashed' as const }))
    await this.#home.sessions.transaction(() => { for (const s of crashed) this.#home.sessions.remove(s.id) })
    if (this.#options.watchdog) this.#watchdog = new Watchdog(this.#watched(), this.#options.watchdog)
    if (this.#options.idleCloseMs > 0) this.#armSweep()
    publish(CHANNELS.reconciled, { report: this.#report })
    publish(CHANNELS.runtimeServing, { session: this.#session.id })
  }

  /**
   * Opens (placing if needed) the repository containing `path`; rejects with
   * why it cannot serve (FOREIGN_STORE, UNAVAILABLE with `details.cause`, ...).
   * @example const link = await supervisor.openRepo('/src/app')
   */
  async openRepo(path: string): Promise<RepoLink> {
    if (!this.#serving()) throw new CairnError('STOPPED', 'runtime is not serving')
    const { repoId, commonDir } = identify(path)
    const entry = this.#placement!.entry(repoId, commonDir, join(commonDir, 'cairn'))
    await this.#placement!.open(entry)
    return entry
  }

  /** The open repository containing `path` (NOT_FOUND when it is not open here). */
  #openEntry(path: unknown): RepoEntry {
    if (!this.#serving()) throw new CairnError('STOPPED', 'runtime is not serving')
    if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'must be a non-empty string')
    const { repoId, commonDir } = identify(path)
    const entry = this.#placement!.entries.get(repoId)
    if (!entry || entry.host === null) throw notOpen(commonDir, entry ? 'closed' : 'unknown')
    return entry
  }

  /** Passivates the repository containing `path`: its next use opens it again, nothing lost. */
  close(path: string): Promise<HandOff> {
    return this.#placement!.close(this.#openEntry(path), 'request') as Promise<HandOff>
  }

  /** Restarts the repository containing `path` on its thread, with a fresh restart history. */
  restart(path: string): Promise<HandOff> {
    return this.#placement!.restart(this.#openEntry(path))
  }

  /** Hands the repository containing `path` off to the thread `threadId`. */
  move(path: string, threadId: number): Promise<HandOff> {
    const entry = this.#openEntry(path)
    if (!Number.isSafeInteger(threadId) || threadId < 0) throw invalidArgument('thread', 'must be a thread id (a non-negative integer)')
    this.#placement!.checkThread(threadId)
    return this.#placement!.move(entry, threadId)
  }

  /** Supervision events from now on (protocol/supervision.ts). */
  watch(opts: { signal?: AbortSignal; buffer: number }): AsyncIterable<WatchItem> {
    return this.#log.watch(opts)
  }

  /** Closes the repositories nobody used for idleCloseMs, then looks again in a quarter of it. */
  #armSweep(): void {
    const idleMs = this.#options.idleCloseMs
    const clock = this.#options.clock
    this.#cancelSweep = clock.at(clock.now() + Math.max(10, Math.floor(idleMs / 4)), () => {
      this.#cancelSweep = null
      if (!this.#serving()) return
      const idle = (e: RepoEntry): boolean => e.host?.state === 'ready' && this.#router.inFlight(e.id) === 0
        && clock.now() - e.lastUsed >= idleMs
      for (const entry of this.#placement!.openEntries()) {
        if (!entry.busy && idle(entry)) this.#placement!.close(entry, 'idle', idle).catch(() => undefined)
      }
      this.#armSweep()
    })
  }

  /** What the watchdog may see and do: probe live hosts, terminate a silent thread. */
  #watched(): ConstructorParameters<typeof Watchdog>[0] {
    return {
      live: () => [...this.#placement!.openEntries()].map((e) => e.host!).filter((h) => h.state === 'ready' && h.threadId !== null)
        .map((h) => ({ threadId: h.threadId!, ping: (timeoutMs: number) => h.ping(timeoutMs) })),
      terminateThread: async (threadId, why) => {
        const slot = this.#slots.find((s) => s.threadId === threadId)
        if (!slot) return false
        publish(CHANNELS.threadUnresponsive, { thread: threadId })
        return slot.terminate(why)
      },
    }
  }

  async #broadcastTick(): Promise<void> {
    await Promise.all([...this.#placement!.openEntries()].map((e) => e.host!.tick()))
  }

  /** Threads and the repositories they serve now. */
  threads(): { threadId: number; repos: string[] }[] {
    return this.#placement?.threads() ?? []
  }

  /** Every actor of every open repository: its supervision, and what its thread reports where it answers. */
  async actors(): Promise<ActorInfo[]> {
    if (!this.#serving()) throw new CairnError('STOPPED', 'runtime is not serving')
    return this.#actorInfos()
  }

  async #actorInfos(): Promise<ActorInfo[]> {
    // The hosts as they are now: a repository closed while its thread answers is reported as it was.
    const entries = [...(this.#placement?.openEntries() ?? [])].map((entry) => ({ entry, host: entry.host!, openSince: entry.openSince ?? 0 }))
    const live = await Promise.all(entries.map(({ host }) => host.state === 'ready' ? host.ping(2000).then((p) => p.actors, () => null) : null))
    return entries.flatMap(({ entry, host, openSince }, i) => {
      const state = host.state
      return host.actors().map(({ kind, supervision }): ActorInfo => {
        const s: ActorStats | undefined = live[i]?.find((x) => x.kind === kind)
        return {
          repo: entry.path, repoId: entry.id, actor: actorAddress(kind, entry.id), kind, thread: host.threadId,
          state: state === 'ready' ? supervision.state : state === 'failed' ? 'failed' : state === 'restarting' ? 'restarting'
            : state === 'starting' ? 'starting' : 'stopping',
          machine: s?.state ?? null, mailbox: s?.mailbox ?? 0, capacity: s?.capacity ?? this.#options.mailboxCapacity,
          handled: s?.handled ?? 0, restarts: supervision.history.total, lastFailure: supervision.lastFailure,
          openSince,
        }
      })
    })
  }

  /** The older per-actor view of runtime.status(). */
  async status(): Promise<{ actors: ActorStatus[] }> {
    return {
      actors: (await this.#actorInfos()).map((a) => ({
        actor: a.actor, kind: a.kind, repo: a.repo, thread: a.thread, state: a.machine ?? a.state,
        mailbox: a.mailbox, capacity: a.capacity, handled: a.handled, restarts: a.restarts, supervision: a.state,
      })),
    }
  }

  /** Work the runtime must end when it stops (lease heartbeats); returns an unregister function. */
  onStop(fn: () => void): () => void {
    this.#stopHooks.add(fn)
    return () => { this.#stopHooks.delete(fn) }
  }

  /** Drains and stops; honoured in any state (a booting runtime stops once its boot step settles). */
  stop(): Promise<void> {
    for (const fn of [...this.#stopHooks]) fn()
    this.#stopHooks.clear()
    return new Promise((resolve) => {
      if (this.#machine.getSnapshot().value === 'stopped') { resolve(); return }
      const sub = this.#machine.subscribe((snap) => { if (snap.value === 'stopped') { sub.unsubscribe(); resolve() } })
      this.#machine.send({ type: 'STOP' })
    })
  }

  async #drain(): Promise<void> {
    this.#watchdog?.stop()
    this.#unsubscribeClock?.()
    this.#cancelSweep?.()
    this.#log.close()
    for (const entry of this.#placement?.entries.values() ?? []) entry.feed.close()
    await this.#placement?.stopAll()
    this.#router.rejectGroup(null, () => new CairnError('STOPPED', 'runtime stopped'))
    this.#router.close()
    await Promise.all(this.#slots.map((s) => s.destroy()))
    if (this.#home) {
      if (this.#session) await this.#home.put({ ...this.#session, clean: true })
      await closeAndSeal(this.#home.env, join(this.#options.home, 'store'))
    }
    publish(CHANNELS.runtimeStopped, {})
  }
}

/** A repository's id and git common dir, from any path inside it (NOT_FOUND outside a repository). */
function identify(path: string): { repoId: string; commonDir: string } {
  const { commonDir } = gitCommonDir(path)
  return { repoId: createHash('sha256').update(commonDir).digest('hex').slice(0, 16), commonDir }
}
