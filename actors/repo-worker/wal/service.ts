/**
 * When the WAL drain runs: after every commit that added local events
 * (coalesced: a kick during a run schedules one more run, paced), on
 * demand (`wal.flush`: at once, and it returns once what was acknowledged
 * before it is in git, while writers go on), and at boot before serving.
 * Rounds run one at a time, in one loop. Git failures never fail the
 * RepoWorker: the events stay in the outbox, the error is kept for status
 * and the drain retries with exponential backoff on the runtime clock.
 */
import type { RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'
import type { GitWal } from '../../../lib/kernel/ports/git-wal.ts'
import type { ThreadClock } from '../../../lib/kernel/ports/clock.ts'
import { CHANNELS } from '../../../lib/kernel/diagnostics.ts'
import type { ActorContext } from '../../../lib/kernel/actor-module.ts'
import { lastKey, type RepoDbs } from '../store/dbs.ts'
import { WalDrain, type DrainReport } from './drain.ts'

const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 30_000
const STOP_FLUSH_MS = 5_000
/**
 * A flush gives up (BUSY) after this many rounds that could not finish:
 * only another drain moving the same ref under every round does that.
 */
const MAX_FLUSH_ROUNDS = 32
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

/**
 * What one flush caused. `rounds` counts the rounds it needed after the one
 * in progress when it was called: 1, unless more was waiting than a round
 * holds (DRAIN_BATCH events or ROUND_BYTES of records) or another drain
 * kept moving the ref.
 */
export interface FlushReport { commits: number; events: number; adopted: number; rounds: number }

/** A flush waiting for the outbox up to `upTo` to be in git. */
interface Waiter { upTo: number; report: FlushReport; resolve(r: FlushReport): void; reject(err: unknown): void }

/**
 * One drain loop per repository, by construction: every round, paced
 * (kick) or at once (flush), runs in #loop, one after another, so no two
 * rounds of this thread ever list the same outbox entries. (Drains of other
 * threads or processes on the same clone are kept apart by the ref's
 * compare-and-swap and the re-read outbox, drain.ts.)
 */
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
  /** Flushes waiting; they make the loop skip its pace and ignore the backoff. */
  #waiters: Waiter[] = []
  /** Ends the pace wait early (a flush arrived). */
  #wake: (() => void) | null = null
  #status: WalStatus = { pending: 0, drainedEvents: 0, commits: 0, lastError: null, retryAt: null }
  readonly #report: ActorContext['report']

  /** `report` publishes each round that moved events (`cairn:wal:drained`) and each failed one (`cairn:wal:failed`). */
  constructor(env: RootDatabase, dbs: RepoDbs, open: () => Promise<GitWal>, clock: ThreadClock, report: ActorContext['report'] = () => {}) {
    this.#env = env
    this.#dbs = dbs
    this.#open = open
    this.#clock = clock
    this.#report = report
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
    this.#running = this.#loop().finally(() => {
      this.#running = null
      // A flush that came in as the loop was ending is not left behind.
      if (this.#waiters.length > 0 && !this.#stopped) this.kick()
    })
  }

  /**
   * Resolves once every event acknowledged before the call is in git:
   * after the round in progress (if any) and the next one, not when
   * writers pause. Throws the git error of a failing round.
   */
  flush(): Promise<FlushReport> {
    if (this.#stopped) return Promise.reject(new CairnError('STOPPED', 'the WAL drain is stopped'))
    // Every acknowledged event is in the outbox (same transaction) until a round puts it in git.
    const last = lastKey(this.#dbs.outbox)
    const report: FlushReport = { commits: 0, events: 0, adopted: 0, rounds: 0 }
    if (last === 0) return Promise.resolve(report)
    return new Promise<FlushReport>((resolve, reject) => {
      this.#waiters.push({ upTo: last, report, resolve, reject })
      this.#again = true
      this.#wake?.()
      this.kick()
    })
  }

  /**
   * Stops draining; once it resolves, nothing of this service touches the
   * store again. A clean stop first drains what is pending (bounded by
   * STOP_FLUSH_MS, and skipped while git is failing), so events do not wait
   * for the next boot to reach git. `flush: false` skips that: a failed
   * actor's successor drains the outbox itself.
   */
  async stop({ flush = true }: { flush?: boolean } = {}): Promise<void> {
    this.#disarm()
    if (flush && !this.#stopped && this.#status.lastError === null && this.#dbs.outbox.getCount() > 0) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, STOP_FLUSH_MS) })
      await Promise.race([this.flush().catch(() => undefined), timeout])
      clearTimeout(timer)
    }
    this.#stopped = true
    this.#wake?.()
    if (this.#running) await this.#running.catch(() => undefined)
    this.#disarm()
    this.#settle(new CairnError('STOPPED', 'the WAL drain is stopped'))
    if (this.#git) await (await this.#git.catch(() => null))?.close()
  }

  #disarm(): void {
    this.#cancelRetry?.()
    this.#cancelRetry = null
  }

  async #loop(): Promise<void> {
    do {
      if (this.#waiters.length === 0) await this.#pace()
      if (this.#stopped && this.#waiters.length === 0) return
      this.#lastRoundAt = performance.now()
      this.#again = false
      // Nothing to write: do not open git (loading nodegit blocks this thread ~100 ms).
      if (this.#dbs.outbox.getCount() === 0) {
        this.#settle(null)
        return
      }
      // The waiters this round can answer: those registered before it listed the outbox.
      const riding = [...this.#waiters]
      try {
        const drain = await this.#drainer()
        // One round per pace: drain() would go on while writes keep coming,
        // back to back, and the pacing would never apply under load.
        const report = await drain.round()
        this.#succeeded(report)
        this.#answer(riding, report)
        if (report.commits + report.adopted > 0 && this.#dbs.outbox.getCount() > 0) {
          this.#again = true
          // A full round means the writes outpace one round per pace: keep up.
          if (report.coveredSeq !== Infinity) this.#lastRoundAt = -Infinity
        }
      } catch (err) {
        this.#failed(err)
        for (const w of riding) this.#drop(w).reject(err)
        if (this.#waiters.length === 0) return
      }
    } while ((this.#again || this.#waiters.length > 0) && !this.#stopped)
  }

  /** Waits out the pace since the last round; a flush ends the wait. Plain real time: pacing is throughput, not semantics. */
  async #pace(): Promise<void> {
    const wait = this.#lastRoundAt + DRAIN_PACE_MS - performance.now()
    if (wait <= 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait)
      function done(): void { clearTimeout(timer); resolve() }
      this.#wake = done
    })
    this.#wake = null
  }

  /** Answers the waiters whose part of the outbox the round put into git. */
  #answer(riding: Waiter[], r: DrainReport): void {
    for (const w of riding) {
      w.report.rounds++
      w.report.commits += r.commits
      w.report.events += r.events
      w.report.adopted += r.adopted
      if (r.complete && r.coveredSeq >= w.upTo) this.#drop(w).resolve(w.report)
      else if (w.report.rounds >= MAX_FLUSH_ROUNDS) {
        this.#drop(w).reject(new CairnError('BUSY', `the WAL refs kept moving under ${w.report.rounds} drain rounds; retry`, { rounds: w.report.rounds }))
      }
    }
  }

  #drop(w: Waiter): Waiter {
    const i = this.#waiters.indexOf(w)
    if (i >= 0) this.#waiters.splice(i, 1)
    return w
  }

  /** Ends every waiting flush: resolved when the outbox is empty (null), else rejected with `err`. */
  #settle(err: CairnError | null): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) {
      if (err === null) w.resolve(w.report)
      else w.reject(err)
    }
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
    if (r.events + r.commits + r.adopted > 0) {
      this.#report(CHANNELS.walDrained, { events: r.events, commits: r.commits, adopted: r.adopted, pending: this.#dbs.outbox.getCount() })
    }
  }

  #failed(err: unknown): void {
    this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.#backoff * 2))
    const at = this.#clock.now() + this.#backoff
    this.#status.lastError = err instanceof Error ? err.message : String(err)
    this.#status.retryAt = at
    const failure = CairnError.from(err)
    this.#report(CHANNELS.walFailed, { code: failure.code, message: failure.message, retryAt: at, pending: this.#dbs.outbox.getCount() })
    if (this.#stopped) return
    this.#cancelRetry?.()
    this.#cancelRetry = this.#clock.at(at, () => {
      this.#cancelRetry = null
      this.kick()
    })
  }
}
