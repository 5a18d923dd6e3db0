/**
 * When the WAL drain runs: after every commit that added local events
 * (coalesced: a kick during a run schedules one more run), on demand
 * (`wal.flush`), and at boot before serving. Git failures never fail the
 * RepoWorker: the events stay in the outbox, the error is kept for status
 * and the drain retries with exponential backoff on the runtime clock.
 */
import type { RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'
import type { GitWal } from '../../../lib/kernel/ports/git-wal.ts'
import type { ThreadClock } from '../../../lib/kernel/ports/clock.ts'
import type { RepoDbs } from '../store/dbs.ts'
import { DRAIN_BATCH, WalDrain, type DrainReport } from './drain.ts'

const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 30_000
const STOP_FLUSH_MS = 5_000
/**
 * Rounds under a steady stream of writes start at most this often, one
 * round per pace. Each WAL commit costs nodegit calls on this thread and
 * about 18 fsyncs (blob, five trees, commit, ref, with their directories)
 * whatever its size, and those compete with LMDB's commits for the CPU and
 * the disk: at 50 ms the daemon spent ~150 µs of CPU per durable comment,
 * at 250 ms ~130 µs, and acknowledged ~15% more per second (bench:daemon).
 * An event still reaches git within one pace plus one round of its commit;
 * `wal.flush` (and so every sync) drains at once.
 */
export const DRAIN_PACE_MS = 250

export interface WalStatus { pending: number; drainedEvents: number; commits: number; lastError: string | null; retryAt: number | null }

export class WalService {
  readonly #env: RootDatabase
  readonly #dbs: RepoDbs
  readonly #open: () => Promise<GitWal>
  readonly #clock: ThreadClock
  #git: Promise<GitWal> | null = null
  #drain: WalDrain | null = null
  #running: Promise<void> | null = null
  #again = false
  #stopped = false
  #backoff = 0
  #cancelRetry: (() => void) | null = null
  #lastRoundAt = -Infinity
  #status: WalStatus = { pending: 0, drainedEvents: 0, commits: 0, lastError: null, retryAt: null }

  constructor(env: RootDatabase, dbs: RepoDbs, open: () => Promise<GitWal>, clock: ThreadClock) {
    this.#env = env
    this.#dbs = dbs
    this.#open = open
    this.#clock = clock
  }

  status(): WalStatus {
    return { ...this.#status, pending: this.#dbs.outbox.getCount() }
  }

  /** Asks for a drain soon; never throws, never waits. */
  kick(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = this.#loop().finally(() => { this.#running = null })
  }

  /** Drains now and reports (waits for a run in progress first). Throws the git error, if any. */
  async flush(): Promise<DrainReport> {
    if (this.#running) await this.#running
    if (this.#stopped) throw new CairnError('STOPPED', 'the WAL drain is stopped')
    const drain = await this.#drainer()
    const report = await drain.drain()
    this.#succeeded(report)
    return report
  }

  /**
   * Stops draining. A clean stop first drains what is pending (bounded by
   * STOP_FLUSH_MS, and skipped while git is failing), so events do not wait
   * for the next boot to reach git.
   */
  async stop(): Promise<void> {
    this.#disarm()
    if (this.#running) await this.#running.catch(() => undefined)
    if (!this.#stopped && this.#status.lastError === null && this.#dbs.outbox.getCount() > 0) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, STOP_FLUSH_MS) })
      await Promise.race([this.flush().catch(() => undefined), timeout])
      clearTimeout(timer)
      if (this.#running) await this.#running.catch(() => undefined)
    }
    this.#stopped = true
    this.#disarm()
    if (this.#git) await (await this.#git.catch(() => null))?.close()
  }

  #disarm(): void {
    this.#cancelRetry?.()
    this.#cancelRetry = null
  }

  async #loop(): Promise<void> {
    do {
      // Pacing is throughput, not semantics: plain real time, not the runtime clock.
      const wait = this.#lastRoundAt + DRAIN_PACE_MS - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      this.#lastRoundAt = performance.now()
      this.#again = false
      // Nothing to write: do not open git (loading nodegit blocks this thread ~100 ms).
      if (this.#dbs.outbox.getCount() === 0) return
      try {
        const drain = await this.#drainer()
        // One round per pace: drain() would go on while writes keep coming,
        // back to back, and the pacing would never apply under load.
        const report = await drain.round()
        this.#succeeded(report)
        if (report.commits + report.adopted > 0 && this.#dbs.outbox.getCount() > 0) {
          this.#again = true
          // A full round means the writes outpace one round per pace: keep up.
          if (report.events >= DRAIN_BATCH) this.#lastRoundAt = -Infinity
        }
      } catch (err) {
        this.#failed(err)
        return
      }
    } while (this.#again && !this.#stopped)
  }

  async #drainer(): Promise<WalDrain> {
    if (this.#drain) return this.#drain
    this.#git ??= this.#open()
    let git: GitWal
    try {
      git = await this.#git
    } catch (err) {
      this.#git = null // a later attempt may succeed (e.g. the repository was being created)
      throw err
    }
    this.#drain = new WalDrain(this.#env, this.#dbs, git, () => this.#clock.now())
    return this.#drain
  }

  #succeeded(r: DrainReport): void {
    this.#backoff = 0
    this.#status.drainedEvents += r.events
    this.#status.commits += r.commits
    this.#status.lastError = null
    this.#status.retryAt = null
  }

  #failed(err: unknown): void {
    this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.#backoff * 2))
    const at = this.#clock.now() + this.#backoff
    this.#status.lastError = err instanceof Error ? err.message : String(err)
    this.#status.retryAt = at
    if (this.#stopped) return
    this.#cancelRetry?.()
    this.#cancelRetry = this.#clock.at(at, () => {
      this.#cancelRetry = null
      this.kick()
    })
  }
}
