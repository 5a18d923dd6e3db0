/**
 * The placement table: which thread hosts each open repository, and the
 * hand-offs that change it: open, close (passivate), move and restart.
 *
 * Each hand-off runs inside its repository's `exclusive` (repo-entry.ts), so
 * requests that arrive meanwhile wait and then go to the host it leaves.
 * Taking a repository off a thread is always the same graceful stop: the
 * host answers what it accepted, drains its WAL, persists its actors and
 * closes its store (lib/host/serve.ts `host.stop`); only then does another
 * host open the store, on whichever thread.
 *
 * New repositories go to the thread with room and the lowest load, counted as
 * its recent requests per second plus one per repository it hosts (so idle
 * repositories spread evenly and a hot one weighs as much as its traffic).
 */
import { CairnError } from '../../protocol/errors.ts'
import type { RepoReconciliation } from '../../protocol/messages.ts'
import { RepoEntry } from './repo-entry.ts'
import { RepoHost, type HostServices } from './repo-host.ts'
import type { SupervisionLog } from './supervision-log.ts'
import type { SupervisorOptions } from './options.ts'
import type { Router } from './router.ts'
import type { ThreadSlot } from './thread-slot.ts'

export interface PlacementDeps {
  options: SupervisorOptions
  router: Router
  log: SupervisionLog
  serving(): boolean
  firstReady(report: RepoReconciliation): void
  /** Bookkeeping of what this runtime has open (the session record boot reconciliation reads after a crash). */
  opened(entry: RepoEntry): Promise<void>
  closed(entry: RepoEntry): Promise<void>
}

/** What a hand-off reports: the threads before and after, and how long requests were held. */
export interface HandOff { repo: string; from: number | null; to: number | null; ms: number }

export class Placement {
  readonly slots: readonly ThreadSlot[]
  readonly entries = new Map<string, RepoEntry>()
  readonly #slotOf = new Map<string, ThreadSlot>()
  readonly #d: PlacementDeps

  constructor(slots: readonly ThreadSlot[], deps: PlacementDeps) {
    this.slots = slots
    this.#d = deps
  }

  /** The entry of a repository, created the first time it is named. */
  entry(repoId: string, path: string, storeDir: string): RepoEntry {
    let entry = this.entries.get(repoId)
    if (!entry) this.entries.set(repoId, entry = new RepoEntry(repoId, path, storeDir, this.#d.options.clock, (e) => this.open(e)))
    return entry
  }

  /** Open entries: those with a host. */
  *openEntries(): Iterable<RepoEntry> {
    for (const e of this.entries.values()) if (e.host !== null) yield e
  }

  /**
   * Opens `entry` (placing it on a thread) unless it is open; resolves once it
   * serves, rejects with why it cannot. A host that never started is replaced:
   * each open tries again and fails fast with its cause.
   */
  open(entry: RepoEntry): Promise<void> {
    const host = entry.host
    if (host !== null && !host.failedToStart && !entry.busy) return host.whenOpen()
    return entry.exclusive(async () => {
      let h = entry.host
      if (h?.failedToStart) {
        await this.#retire(entry)
        h = null
      }
      if (h === null) {
        h = this.#place(entry, this.pickSlot(), true)
        this.#d.log.publish({ type: 'placed', repo: entry.path, repoId: entry.id, thread: this.#slotOf.get(entry.id)!.threadId })
        entry.openSince ??= this.#d.options.clock.now()
        await this.#d.opened(entry)
      }
      await h.whenOpen()
    })
  }

  /**
   * Passivates `entry`: its host stops gracefully and its thread slot and
   * store handles are freed; the next request opens it again. With `ifIdle`,
   * a repository used since is left open (the idle policy's check, made
   * inside the hand-off so no request slips between check and close).
   */
  close(entry: RepoEntry, reason: 'request' | 'idle', ifIdle?: (e: RepoEntry) => boolean): Promise<HandOff | null> {
    return entry.exclusive(async () => {
      if (entry.host === null) throw notOpen(entry.path, 'closed')
      if (ifIdle && !ifIdle(entry)) return null
      const t0 = performance.now()
      const from = entry.host.threadId
      await this.#retire(entry)
      entry.openSince = null
      const ms = Math.round(performance.now() - t0)
      this.#d.log.publish({ type: 'closed', repo: entry.path, repoId: entry.id, reason, thread: from, ms })
      await this.#d.closed(entry)
      return { repo: entry.path, from, to: null, ms }
    })
  }

  /** Hands `entry` off to the thread `threadId`: drain and persist here, reopen there. */
  move(entry: RepoEntry, threadId: number): Promise<HandOff> {
    return entry.exclusive(async () => {
      const host = entry.host
      if (host === null) throw notOpen(entry.path, 'closed')
      const target = this.#slotByThread(threadId)
      const from = host.threadId
      if (this.#slotOf.get(entry.id) === target) return { repo: entry.path, from, to: threadId, ms: 0 }
      if (target.repos.size >= this.#d.options.reposPerThread) {
        throw new CairnError('BUSY', `thread ${threadId} hosts ${target.repos.size} repositories already (reposPerThread)`, { thread: threadId })
      }
      const t0 = performance.now()
      await this.#retire(entry)
      const next = this.#place(entry, target, false)
      await next.whenOpen()
      const ms = Math.round(performance.now() - t0)
      this.#d.log.publish({ type: 'moved', repo: entry.path, repoId: entry.id, from, to: next.threadId, ms })
      return { repo: entry.path, from, to: next.threadId, ms }
    })
  }

  /**
   * Restarts `entry` on its thread with a fresh restart history: brings back
   * a repository that gave up (ACTOR_FAILED), or restarts a live one.
   */
  restart(entry: RepoEntry): Promise<HandOff> {
    return entry.exclusive(async () => {
      if (entry.host === null) throw notOpen(entry.path, 'closed')
      const t0 = performance.now()
      const from = entry.host.threadId
      const slot = this.#slotOf.get(entry.id)!
      await this.#retire(entry)
      const next = this.#place(entry, slot, false)
      await next.whenOpen()
      const ms = Math.round(performance.now() - t0)
      this.#d.log.publish({ type: 'restarted', repo: entry.path, repoId: entry.id, reason: 'operator', thread: next.threadId, ms })
      return { repo: entry.path, from, to: next.threadId, ms }
    })
  }

  /**
   * The thread with room and the lowest load (recent requests per second +
   * repositories hosted). A recycled thread (none running) counts as empty:
   * placing on it starts a fresh one.
   */
  pickSlot(): ThreadSlot {
    let best: ThreadSlot | null = null
    let bestScore = Infinity
    for (const slot of this.slots) {
      if (slot.repos.size >= this.#d.options.reposPerThread) continue
      const score = slot.load() + slot.repos.size
      if (score < bestScore) { best = slot; bestScore = score }
    }
    if (!best) {
      const max = this.slots.length * this.#d.options.reposPerThread
      throw new CairnError('BUSY', `this runtime hosts at most ${max} repositories (threads × reposPerThread); close some or raise reposPerThread`, { max })
    }
    return best
  }

  /** The slot whose thread is `threadId`. */
  #slotByThread(threadId: number): ThreadSlot {
    const slot = this.slots.find((s) => s.threadId === threadId)
    if (!slot) {
      throw new CairnError('NOT_FOUND', `no thread ${threadId} in this runtime (threads: ${this.slots.map((s) => s.threadId).join(', ')})`, { field: 'thread', thread: threadId })
    }
    return slot
  }

  /** Checks that `threadId` is one of this runtime's threads (before any hand-off waits). */
  checkThread(threadId: number): void {
    this.#slotByThread(threadId)
  }

  #place(entry: RepoEntry, slot: ThreadSlot, announce: boolean): RepoHost {
    // A draining runtime places nothing: its hosts are being stopped.
    if (!this.#d.serving()) throw new CairnError('STOPPED', 'runtime is not serving')
    slot.repos.add(entry.id)
    this.#slotOf.set(entry.id, slot)
    const host = new RepoHost(entry.id, entry.path, entry.storeDir, entry.feed, this.#services(entry.id), announce)
    entry.host = host
    return host
  }

  /**
   * Where a host launches: its own thread, unless that thread died and its
   * replacement is not up yet; then the live thread with room and the lowest
   * load (a relaunch need not wait for a new thread to start and load the
   * host module, seconds on a busy machine).
   */
  #launchSlot(repoId: string): ThreadSlot {
    const current = this.#slotOf.get(repoId)!
    if (!current.replacing) return current
    let best: ThreadSlot | null = null
    for (const slot of this.slots) {
      if (slot === current || !slot.alive || slot.repos.size >= this.#d.options.reposPerThread) continue
      if (!best || slot.load() + slot.repos.size < best.load() + best.repos.size) best = slot
    }
    if (!best) return current
    current.repos.delete(repoId)
    best.repos.add(repoId)
    this.#slotOf.set(repoId, best)
    return best
  }

  /** Stops the entry's host gracefully and frees its slot. */
  async #retire(entry: RepoEntry): Promise<void> {
    const host = entry.host
    if (host === null) return
    await host.stop()
    this.#slotOf.get(entry.id)?.repos.delete(entry.id)
    this.#slotOf.delete(entry.id)
    entry.host = null
  }

  #services(repoId: string): HostServices {
    const o = this.#d.options
    return {
      launchSlot: () => this.#launchSlot(repoId), router: this.#d.router, clock: o.clock, restart: o.restart, mailboxCapacity: o.mailboxCapacity,
      faultInjection: o.faultInjection, coalesceRequests: o.coalesceRequests,
      serving: this.#d.serving, firstReady: this.#d.firstReady,
      report: (e) => { this.#d.log.publish(e) },
    }
  }

  /** Every live thread and the repositories it serves now (a thread being replaced is left out). */
  threads(): { threadId: number; repos: string[] }[] {
    const threads = new Map<number, string[]>()
    for (const slot of this.slots) if (slot.threadId !== null) threads.set(slot.threadId, [])
    for (const e of this.openEntries()) {
      const threadId = e.host!.threadId
      if (threadId === null || e.host!.state !== 'ready') continue
      threads.set(threadId, [...(threads.get(threadId) ?? []), e.path])
    }
    return [...threads].map(([threadId, repos]) => ({ threadId, repos }))
  }

  /**
   * Stops every host (the runtime drains; nothing is placed any more). Hosts
   * stop first, so hand-offs waiting on one end; then those hand-offs settle.
   */
  async stopAll(): Promise<void> {
    await Promise.all([...this.openEntries()].map((e) => e.host!.stop()))
    await Promise.all([...this.entries.values()].map((e) => e.settled()))
    await Promise.all([...this.openEntries()].map((e) => e.host!.stop()))
  }
}

/** A repository this runtime does not have open. */
export function notOpen(path: string, state: 'closed' | 'unknown'): CairnError {
  return new CairnError('NOT_FOUND', `repository ${path} is not open in this runtime${state === 'closed' ? ' (it was closed)' : ''}`, { repo: path, state })
}
