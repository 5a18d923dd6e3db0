/**
 * One thread of the runtime: a Piscina pool of exactly one worker, hosting
 * the long-lived host tasks of the repositories placed on it.
 *
 * Why a pool per thread: Piscina has no thread affinity (a task goes to
 * whichever worker its balancer picks, and the balancer sees neither the
 * task's payload nor a stable identity for a replaced worker), while the
 * Supervisor must choose the thread of each repository: to spread load, and
 * to move a repository to a named thread. A one-worker pool keeps Piscina's
 * part (creating the thread, replacing it when it dies, rejecting its tasks
 * then) and makes placement a plain choice of pool.
 *
 * A worker that cannot load the host module never gets ready: Piscina then
 * emits 'error' and, with no worker left, would keep the tasks queued for
 * ever. Such launches are aborted here with the load error as their cause,
 * so the host machine fails them instead of waiting.
 */
import { existsSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Transferable } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { HostTask, HostWorkerData } from '../../lib/kernel/host-task.ts'
import type { FailureCause } from '../../protocol/supervision.ts'

/**
 * The loader's own error for a host module file (a file: URL or an absolute
 * path) that does not exist, or null: other entries are left to the loader.
 */
export function missingHostModule(hostEntry: string): FailureCause | null {
  let path: string
  try {
    path = hostEntry.startsWith('file:') ? fileURLToPath(hostEntry) : hostEntry
  } catch {
    return null
  }
  if (!isAbsolute(path) || existsSync(path)) return null
  return { name: 'Error', code: 'ERR_MODULE_NOT_FOUND', message: `Cannot find module '${path}'` }
}

/**
 * The young generation of a repository thread's heap, in MB. V8's default
 * lets it grow to tens of MB that stay resident after a burst; at 8 a
 * process with one repository open idles ~10 MiB lower, and 50 writers
 * acknowledged as many comments per second (measured here, alternating
 * runs). Objects that outlive it are promoted; nothing is refused.
 */
const HOST_YOUNG_GENERATION_MB = 8

/** A host task launched on a slot: its end, and a way to say it runs (it spoke). */
export interface Launch {
  /** Settles when the task returns or its thread dies. */
  ended: Promise<unknown>
  /** The task is running (its host posted a frame): it no longer waits in the queue. */
  running(): void
}

export class ThreadSlot {
  /** Stable name of the slot: 0 .. threads - 1. */
  readonly index: number
  /** Repositories placed on this slot (their ids). */
  readonly repos = new Set<string>()
  readonly #pool: Piscina
  readonly #queued = new Set<(err: unknown) => void>()
  /** Requests routed to this slot's repositories recently, decayed (placement by load). */
  #load = 0
  #loadAt = 0
  /** A worker is ready: Piscina says so when one starts ('workerCreate') and when it goes ('workerDestroy'). */
  #alive = false
  /** Its thread died while hosting repositories, and no replacement is ready yet. */
  #replacing = false

  /** Why this slot's thread was just terminated, while its tasks fail. */
  #terminatedFor: string | null = null

  /**
   * `recycleMs`: a thread that has hosted nothing for this long ends, and the
   * slot starts a fresh one when a repository is placed on it again. Closing
   * repositories frees their stores, but the memory their thread's heap grew
   * to stays with the thread until it ends. Infinity keeps threads for ever.
   */
  constructor(index: number, hostEntry: string, reposPerThread: number, recycleMs = Infinity) {
    // The first thread loads the hosting code as soon as it starts (the
    // Supervisor's probe and the first repository wait for it; its load
    // overlaps the caller's). The others load it on their first task.
    const workerData: HostWorkerData = { loadNow: index === 0 }
    this.index = index
    const capacity = reposPerThread + 2 // room for a probe and a repository handed off while its old task still ends
    this.#pool = new Piscina({
      filename: hostEntry,
      minThreads: recycleMs === Infinity ? 1 : 0,
      maxThreads: 1,
      idleTimeout: recycleMs,
      concurrentTasksPerWorker: capacity,
      maxQueue: capacity,
      recordTiming: false,
      // 'sync' parks idle threads in Atomics.wait and freezes their timers.
      atomics: 'disabled',
      resourceLimits: { maxYoungGenerationSizeMb: HOST_YOUNG_GENERATION_MB },
      workerData,
    })
    this.#pool.on('error', (err: unknown) => this.#onPoolError(err))
    this.#pool.on('workerCreate', () => { this.#alive = true; this.#replacing = false })
    // A thread that ends with nothing placed on it was recycled (idle), not lost.
    this.#pool.on('workerDestroy', () => { this.#alive = false; if (this.repos.size > 0) this.#replacing = true })
  }

  /** The slot has a worker ready to run a task now (false while one boots, after one died, and while a recycled slot waits). */
  get alive(): boolean {
    return this.#alive
  }

  /**
   * Its thread died while hosting repositories and Piscina's replacement has
   * not started (and loaded the host module) yet: a repository that must
   * relaunch meanwhile goes to a live slot. A slot still booting its first
   * thread, or one whose idle thread ended, is not replacing: a launch there
   * starts its thread.
   */
  get replacing(): boolean {
    return this.#replacing
  }

  /** The thread id of the slot's live worker, or null while there is none. */
  get threadId(): number | null {
    return this.#pool.threads[0]?.threadId ?? null
  }

  /**
   * Recent requests to this slot's repositories, decayed with a 1 s time
   * constant (about the requests of the last second). Real time on purpose:
   * it measures work done, it sets no deadline.
   */
  load(): number {
    return this.#load * Math.exp(-(performance.now() - this.#loadAt) / 1000)
  }

  /** Counts one request toward the slot's load. */
  touch(): void {
    this.#load = this.load() + 1
    this.#loadAt = performance.now()
  }

  /**
   * Loads the host module and its hosting code in the slot's thread and
   * answers its thread id: code that does not load rejects here, with its
   * own error.
   */
  async probe(): Promise<number> {
    return await this.#ask('probe') as number
  }

  /** Whether the slot's thread has loaded the hosting code ('idle', 'loading', 'loaded'): a diagnostic that loads nothing. */
  async hostingState(): Promise<string> {
    return await this.#ask('hostingState') as string
  }

  /** Runs the host module's export `name` (no task) on the slot's thread and answers what it returns. */
  async #ask(name: string): Promise<unknown> {
    const launch = this.#run(undefined, [], name)
    const answer = await launch.ended
    launch.running()
    return answer
  }

  run(task: HostTask, transferList: Transferable[]): Launch {
    return this.#run(task, transferList)
  }

  #run(task: unknown, transferList: Transferable[], name?: string): Launch {
    // No AbortSignal on purpose: Piscina gives an abortable task a worker of
    // its own and (measured) holds back the messages of a second abortable
    // task on a worker until the first ends. A queued launch is failed here instead.
    let fail!: (err: unknown) => void
    const failed = new Promise<never>((_, reject) => { fail = reject })
    this.#queued.add(fail)
    const ended = Promise.race([this.#pool.run(task, { transferList: transferList as never, ...(name ? { name } : {}) }), failed])
      .catch((err: unknown) => {
        // Piscina only says the worker exited: a termination by the watchdog is named as such.
        const why = this.#terminatedFor
        if (why !== null && err instanceof Error && /^worker exited/.test(err.message)) throw new Error(`terminated: ${why} (${err.message})`)
        throw err
      })
      .finally(() => this.#queued.delete(fail))
    return { ended, running: () => { this.#queued.delete(fail) } }
  }

  #onPoolError(err: unknown): void {
    // With a worker alive, queued launches will run on it; with none, they
    // would wait until the next launch starts a worker. Such a task may still
    // run later: its host then talks to a closed port, and ends with the pool.
    if (this.#pool.threads.length > 0) return
    for (const fail of [...this.#queued]) fail(err)
    this.#queued.clear()
  }

  /** Terminates the slot's thread (the watchdog's last resort, `why` its reason); Piscina starts a new one. */
  async terminate(why = 'by the supervisor'): Promise<boolean> {
    const worker = this.#pool.threads[0]
    if (!worker) return false
    this.#terminatedFor = why
    try {
      await worker.terminate()
    } finally {
      // The tasks of the terminated thread have been failed by now; later exits are not this one.
      setTimeout(() => { this.#terminatedFor = null }, 1_000).unref()
    }
    return true
  }

  destroy(): Promise<void> {
    return this.#pool.destroy()
  }
}

/**
 * The runtime's thread slots, their threads starting now: `threads` of
 * them, and with an idle policy (`idleCloseMs` > 0) a thread whose
 * repositories all idled out ends after as long again (its memory goes with it).
 */
export function startThreadSlots(o: { threads: number; hostEntry: string; reposPerThread: number; idleCloseMs: number }): ThreadSlot[] {
  const recycleMs = o.idleCloseMs > 0 ? o.idleCloseMs : Infinity
  return Array.from({ length: o.threads }, (_, i) => new ThreadSlot(i, o.hostEntry, o.reposPerThread, recycleMs))
}
