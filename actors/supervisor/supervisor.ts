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
import { CairnError } from '../../protocol/errors.ts'
import { type ActorKind, type ActorStats } from '../../protocol/messages.ts'
import type { ReconciliationReport } from '../../protocol/results.ts'
import { supervisorMachine } from './machine.ts'
import { CHANNELS, publish } from '../../lib/kernel/diagnostics.ts'
import { gitCommonDir } from '../../lib/kernel/store/common-dir.ts'
import type { Clock } from '../../lib/kernel/ports/clock.ts'
import { HomeStore, type SessionRecord } from './home-store.ts'
import { EventFeed } from './event-feed.ts'
import type { SupervisorOptions } from './options.ts'
import { RepoHost, type HostServices } from './repo-host.ts'
import type { RepoLink } from './repo-link.ts'
import { Router } from './router.ts'
import { ThreadSlot } from './thread-slot.ts'
import { Watchdog } from './watchdog.ts'
import { causeOf } from './host-restarts.ts'

export type { ReconciliationReport, RepoLink }

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
  readonly #hosts = new Map<string, RepoHost>()
  readonly #feeds = new Map<string, EventFeed>()
  readonly #report: ReconciliationReport = { previousSessions: [], repos: [] }
  #slots: ThreadSlot[] = []
  #home!: HomeStore
  #session!: SessionRecord
  #watchdog: Watchdog | null = null
  #machine: ActorRefFrom<typeof supervisorMachine>
  #unsubscribeClock: (() => void) | null = null
  #bootError: unknown = null
  readonly #stopHooks = new Set<() => void>()

  constructor(options: SupervisorOptions) {
    this.#options = options
    this.#router = new Router(options.clock, options.requestTimeoutMs)
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
    this.#slots = Array.from({ length: o.threads }, (_, i) => new ThreadSlot(i, o.hostEntry, o.reposPerThread))
    // A host module that does not load fails the runtime now, with its cause,
    // not each repository later. The first thread to answer proves the module
    // loads; the others keep loading meanwhile (a launch on a thread that
    // cannot load fails with the cause too: thread-slot.ts).
    const probes = this.#slots.map((slot) => slot.probe())
    for (const p of probes) p.catch(() => undefined)
    await Promise.race(probes).catch((err: unknown) => {
      const cause = causeOf(err)
      throw new CairnError('UNAVAILABLE', `repository threads cannot start: ${cause.message}`, { cause, hostEntry: o.hostEntry })
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
        await this.#place(known.repoId, known.path, known.storeDir)
      } catch {
        // A repository that cannot reopen (deleted, foreign) is reported by
        // openRepo when someone asks for it; it must not block boot.
      }
    }
    this.#report.previousSessions = crashed.map((s) => ({ id: s.id, pid: s.pid, startedAt: s.startedAt, outcome: 'crashed' as const }))
    await this.#home.sessions.transaction(() => { for (const s of crashed) this.#home.sessions.remove(s.id) })
    if (this.#options.watchdog) this.#watchdog = new Watchdog(this.#watched(), this.#options.watchdog)
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
    const { commonDir } = gitCommonDir(path)
    const repoId = createHash('sha256').update(commonDir).digest('hex').slice(0, 16)
    return this.#place(repoId, commonDir, join(commonDir, 'cairn'))
  }

  async #place(repoId: string, path: string, storeDir: string): Promise<RepoHost> {
    let host = this.#hosts.get(repoId)
    if (host?.failedToStart) {
      // Nothing runs and nothing loops: each open tries again, and fails fast with the cause.
      await host.stop()
      for (const s of this.#slots) s.repos.delete(repoId)
      if (this.#hosts.get(repoId) === host) this.#hosts.delete(repoId)
      host = this.#hosts.get(repoId)
    }
    if (!host) {
      const slot = this.#pickSlot()
      let feed = this.#feeds.get(repoId)
      if (!feed) this.#feeds.set(repoId, feed = new EventFeed())
      const slots = new Map([[repoId, slot]])
      slot.repos.add(repoId)
      host = new RepoHost(repoId, path, storeDir, feed, this.#services(() => this.#launchSlot(slots, repoId)))
      this.#hosts.set(repoId, host)
      await this.#home.repos.put(repoId, { repoId, path, storeDir, lastOpenedAt: Date.now() })
      this.#session.repos.push(repoId)
      await this.#home.put(this.#session)
    }
    await host.whenOpen()
    return host
  }

  /** The thread with room that carries the fewest repositories, then the least recent load; live threads first. */
  #pickSlot(): ThreadSlot {
    let best: ThreadSlot | null = null
    const better = (a: ThreadSlot, b: ThreadSlot): boolean => a.alive !== b.alive ? a.alive
      : a.repos.size !== b.repos.size ? a.repos.size < b.repos.size : a.load() < b.load()
    for (const slot of this.#slots) {
      if (slot.repos.size >= this.#options.reposPerThread) continue
      if (!best || better(slot, best)) best = slot
    }
    if (!best) {
      const max = this.#options.threads * this.#options.reposPerThread
      throw new CairnError('BUSY', `this runtime hosts at most ${max} repositories (threads × reposPerThread)`, { max })
    }
    return best
  }

  /**
   * Where a host launches: its own thread, unless that thread died and its
   * replacement is not up yet; then the live thread with room carrying the
   * fewest repositories (a relaunch need not wait for a new thread to start
   * and load the host module, seconds on a busy machine).
   */
  #launchSlot(slotOf: Map<string, ThreadSlot>, repoId: string): ThreadSlot {
    const current = slotOf.get(repoId)!
    if (current.alive) return current
    let best: ThreadSlot | null = null
    for (const slot of this.#slots) {
      if (slot === current || !slot.alive || slot.repos.size >= this.#options.reposPerThread) continue
      if (!best || slot.repos.size < best.repos.size) best = slot
    }
    if (!best) return current
    current.repos.delete(repoId)
    best.repos.add(repoId)
    slotOf.set(repoId, best)
    return best
  }

  #services(launchSlot: () => ThreadSlot): HostServices {
    const o = this.#options
    return {
      launchSlot, router: this.#router, clock: o.clock, restart: o.restart, mailboxCapacity: o.mailboxCapacity,
      faultInjection: o.faultInjection, coalesceRequests: o.coalesceRequests,
      serving: () => this.#serving(),
      firstReady: (report) => { this.#report.repos.push(report) },
    }
  }

  /** What the watchdog may see and do: probe live hosts, terminate a silent thread. */
  #watched(): ConstructorParameters<typeof Watchdog>[0] {
    return {
      live: () => [...this.#hosts.values()].filter((h) => h.state === 'ready' && h.threadId !== null)
        .map((h) => ({ threadId: h.threadId!, ping: (timeoutMs: number) => h.ping(timeoutMs) })),
      terminateThread: async (threadId) => {
        const slot = this.#slots.find((s) => s.threadId === threadId)
        if (!slot) return false
        publish(CHANNELS.threadUnresponsive, { thread: threadId })
        return slot.terminate()
      },
    }
  }

  async #broadcastTick(): Promise<void> {
    await Promise.all([...this.#hosts.values()].map((h) => h.tick()))
  }

  /** Threads and the repositories they serve now. */
  threads(): { threadId: number; repos: string[] }[] {
    const threads = new Map<number, string[]>()
    for (const h of this.#hosts.values()) {
      const threadId = h.threadId
      if (threadId === null || h.state !== 'ready') continue
      threads.set(threadId, [...(threads.get(threadId) ?? []), h.path])
    }
    return [...threads].map(([threadId, repos]) => ({ threadId, repos }))
  }

  /** Every actor of every repository: its thread's live report where it answers, and its supervision. */
  async status(): Promise<{ actors: ActorStatus[] }> {
    const actors: ActorStatus[] = []
    for (const host of this.#hosts.values()) {
      let live: ActorStats[] = []
      if (host.state === 'ready') live = (await host.ping(2000).catch(() => null))?.actors ?? []
      for (const { kind, supervision } of host.actors()) {
        const s = live.find((x) => x.kind === kind)
        actors.push({
          actor: `${kind}:${host.repoId}`, kind: kind as ActorKind, repo: host.path, thread: host.threadId,
          state: s?.state ?? supervision.state, mailbox: s?.mailbox ?? 0, capacity: s?.capacity ?? this.#options.mailboxCapacity,
          restarts: supervision.history.total, supervision: host.state === 'failed' ? 'failed' : supervision.state,
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
    for (const feed of this.#feeds.values()) feed.close()
    await Promise.all([...this.#hosts.values()].map((h) => h.stop()))
    this.#router.rejectGroup(null, () => new CairnError('STOPPED', 'runtime stopped'))
    this.#router.close()
    await Promise.all(this.#slots.map((s) => s.destroy()))
    if (this.#home) {
      if (this.#session) await this.#home.put({ ...this.#session, clean: true })
      await this.#home.env.close()
    }
    publish(CHANNELS.runtimeStopped, {})
  }
}
