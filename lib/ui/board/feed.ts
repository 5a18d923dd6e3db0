/**
 * The live feed of one repository's board, shared by every page watching it:
 * one poll loop per repository however many tabs are open, and nothing at
 * all while none is.
 *
 * Each tick (every `tickMs`, 250 ms by default) reads the event log past its
 * cursor from the store (a read on this thread, no hop to the repository's
 * thread, and it also sees what other processes wrote to the repository).
 * New events become activity lines and name the issues they touched. Leases
 * are asked for when something changed (at most every `leasesMinMs`) and at
 * least every `slowMs`, since they change without events (acquire, renew,
 * lapse); the store's WAL stats and the sync status every `slowMs`.
 *
 * The board is kept, not re-read: a rebuild (at most every `boardMinMs`)
 * reads only the issues the log says changed (one `show` each) into the
 * summaries it holds, derives the columns from them, and sends only the
 * cards that differ from the ones sent. The whole list is read once at
 * start, and again only when more than FULL_READ_AFTER issues changed at
 * once or the cursor had to jump (a page of the log full: far behind, the
 * board is read from state, and activity shows only the newest lines). So
 * however fast agents write, the cost follows the tick rate and the issues
 * that changed, not the write rate or the size of the board.
 *
 * A failing read (a repository restarting) is reported once as `health`
 * and retried next tick; the feed never throws into the server.
 */
import type { Clock } from '../../kernel/ports/clock.ts'
import type { Repo } from '../../api/repo.ts'
import { CairnError } from '../../../protocol/errors.ts'
import type { LeaseView } from '../../../protocol/messages.ts'
import type { IssueSummary } from '../../../protocol/results.ts'
import { summary } from '../../../actors/repo-worker/queries.ts'
import { activityOf, type ActivityItem } from './activity.ts'
import { buildBoard, diffBoard, type Board, type Card } from './model.ts'

export type FeedRepo = Pick<Repo, 'events' | 'issues' | 'locks' | 'syncStatus' | 'agents'>

export interface FeedMessage { event: 'board' | 'activity' | 'leases' | 'stats' | 'sync' | 'agents' | 'health'; data: unknown }
export type FeedListener = (m: FeedMessage) => void

export interface FeedOptions { tickMs?: number; slowMs?: number; boardMinMs?: number; leasesMinMs?: number; activityKept?: number }

const PAGE = 256
/** Past this many changed issues in one rebuild, one list beats that many reads. */
const FULL_READ_AFTER = 128

export class BoardFeed {
  readonly #repo: FeedRepo
  readonly #clock: Clock
  readonly #tickMs: number
  readonly #slowMs: number
  readonly #boardMinMs: number
  readonly #kept: number
  readonly #listeners = new Set<FeedListener>()
  #cancel: (() => void) | null = null
  #started: Promise<void> | null = null
  /** Bumped by every start and stop: a timer of an older generation does not re-arm. */
  #gen = 0
  #ticking: Promise<void> = Promise.resolve()
  /** False while a start builds the first state: nothing is sent to watchers until then. */
  #live = false
  #cursor = 1
  #dirty = true
  #lastSlowAt = 0
  #lastBoardAt = 0
  #board: Board | null = null
  #sent = new Map<string, Card>()
  /** Every listed issue's summary, kept current from the log. */
  #summaries: Map<string, IssueSummary> | null = null
  /** Issues the log touched since the last rebuild. */
  #touched = new Set<string>()
  #lastLeasesAt = 0
  readonly #leasesMinMs: number
  #activity: ActivityItem[] = []
  #json: Partial<Record<FeedMessage['event'], string>> = {}
  #values: Partial<Record<FeedMessage['event'], unknown>> = {}
  #agentsAt = 0
  #agentsWanted = true
  #knownActors = new Set<string>()

  constructor(repo: FeedRepo, clock: Clock, opts: FeedOptions = {}) {
    this.#repo = repo
    this.#clock = clock
    this.#tickMs = opts.tickMs ?? 250
    this.#slowMs = opts.slowMs ?? 1000
    this.#boardMinMs = opts.boardMinMs ?? 400
    this.#leasesMinMs = opts.leasesMinMs ?? 500
    this.#kept = opts.activityKept ?? 40
  }

  get watchers(): number { return this.#listeners.size }

  /**
   * Adds a watcher: resolves with the messages that bring a new page up to
   * date (the whole board, leases, stats, sync, agents, recent activity);
   * later changes go to `listener`. Call `leave` when the page goes.
   */
  async join(listener: FeedListener): Promise<{ initial: FeedMessage[]; leave: () => void }> {
    // A placeholder keeps the feed counted as watched while it starts; the listener
    // itself is added in the same step that takes the snapshot, so it misses
    // nothing and sees nothing twice.
    const hold: FeedListener = () => undefined
    this.#listeners.add(hold)
    try {
      this.#started ??= this.#start()
      await this.#started
    } catch (err) {
      this.#listeners.delete(hold)
      // A failed start is not kept: the next page tries again.
      if (this.#listeners.size === 0) this.#stop()
      throw err
    }
    this.#listeners.delete(hold)
    this.#listeners.add(listener)
    const leave = (): void => {
      if (!this.#listeners.delete(listener)) return
      if (this.#listeners.size === 0) this.#stop()
    }
    const initial: FeedMessage[] = []
    for (const event of ['agents', 'leases', 'stats', 'sync', 'health'] as const) {
      if (this.#values[event] !== undefined) initial.push({ event, data: this.#values[event] })
    }
    if (this.#board) initial.push({ event: 'board', data: { full: true, cards: this.#board.cards, counts: this.#board.counts, removes: [] } })
    initial.push({ event: 'activity', data: { items: this.#activity, replay: true } })
    return { initial, leave }
  }

  async #start(): Promise<void> {
    const gen = ++this.#gen
    // A tick of an earlier generation may still run: let it end before the state is reset.
    await this.#ticking
    this.#live = false
    this.#board = null
    this.#sent = new Map()
    this.#summaries = null
    this.#touched = new Set()
    this.#json = {}
    this.#values = {}
    this.#activity = []
    this.#dirty = true
    this.#agentsAt = 0
    this.#agentsWanted = true
    const stats = await this.#repo.events.stats()
    this.#cursor = Math.max(1, stats.lastSeq - this.#kept + 1)
    this.#publish('stats', stats)
    await this.#run(true)
    this.#live = true
    this.#arm(gen)
  }

  #arm(gen: number): void {
    if (gen !== this.#gen || this.#listeners.size === 0) return
    this.#cancel = this.#clock.at(this.#clock.now() + this.#tickMs, () => {
      this.#cancel = null
      void this.#run(false).then(() => this.#arm(gen))
    })
  }

  #run(first: boolean): Promise<void> {
    this.#ticking = this.#tick(first)
    return this.#ticking
  }

  #stop(): void {
    this.#gen++
    this.#cancel?.()
    this.#cancel = null
    this.#started = null
  }

  async #tick(first: boolean): Promise<void> {
    try {
      await this.#readLog()
      const now = this.#clock.now()
      const slow = first || now - this.#lastSlowAt >= this.#slowMs
      if (slow || (this.#dirty && now - this.#lastLeasesAt >= this.#leasesMinMs)) {
        this.#lastLeasesAt = now
        const leases = await this.#repo.locks.list()
        if (this.#publish('leases', leases)) this.#dirty = true
      }
      if (slow) {
        this.#lastSlowAt = now
        this.#publish('stats', await this.#repo.events.stats())
        this.#publish('sync', await this.#repo.syncStatus())
      }
      if (this.#dirty && (first || now - this.#lastBoardAt >= this.#boardMinMs)) await this.#rebuild()
      await this.#refreshAgents()
      this.#publish('health', { ok: true })
    } catch (err) {
      const e = CairnError.from(err)
      this.#publish('health', { ok: false, code: e.code, message: e.message })
    }
  }

  async #readLog(): Promise<void> {
    let page = await this.#repo.events.read({ fromSeq: this.#cursor, limit: PAGE })
    if (page.length === PAGE) {
      // Far behind: skip to the newest lines, and read the whole board again.
      this.#summaries = null
      const { lastSeq } = await this.#repo.events.stats()
      page = await this.#repo.events.read({ fromSeq: Math.max(this.#cursor, lastSeq - this.#kept + 1), limit: this.#kept })
    }
    if (page.length === 0) return
    this.#cursor = page[page.length - 1]!.seq + 1
    this.#dirty = true
    for (const e of page) this.#touched.add(e.event.issueId)
    const items = page.slice(-this.#kept).map(activityOf)
    this.#activity = [...this.#activity, ...items].slice(-this.#kept)
    if (items.some((i) => !this.#knownActors.has(i.actor))) this.#agentsWanted = true
    if (this.#live) this.#emit({ event: 'activity', data: { items, replay: false } })
  }

  async #rebuild(): Promise<void> {
    const summaries = await this.#currentSummaries()
    const leases = (this.#values.leases ?? []) as LeaseView[]
    const board = buildBoard({ issues: summaries.values(), leases })
    const full = this.#board === null
    const { diff, cards } = diffBoard(this.#sent, board.cards)
    this.#board = board
    this.#sent = cards
    this.#dirty = false
    this.#lastBoardAt = this.#clock.now()
    if (diff.upserts.some((c) => !this.#knownActors.has(c.createdBy) || (c.holder !== null && !this.#knownActors.has(c.holder.actor)))) this.#agentsWanted = true
    if (!full && this.#live && (diff.upserts.length > 0 || diff.removes.length > 0)) {
      this.#emit({ event: 'board', data: { full: false, cards: diff.upserts, removes: diff.removes, counts: board.counts } })
    }
  }

  /** The summaries, brought up to date: the issues the log touched, or all of them (see the header). */
  async #currentSummaries(): Promise<Map<string, IssueSummary>> {
    const touched = this.#touched
    this.#touched = new Set()
    if (this.#summaries === null || touched.size > FULL_READ_AFTER) {
      const all = await this.#repo.issues.list({})
      this.#summaries = new Map(all.map((i) => [i.id, i]))
      return this.#summaries
    }
    const summaries = this.#summaries
    for (const id of touched) {
      try {
        const p = await this.#repo.issues.show(id)
        // Listed issues only, as `list()` has them: one known only in part waits for its creation.
        if (p.incomplete) summaries.delete(id)
        else summaries.set(id, summary(p))
      } catch (err) {
        if (!(err instanceof CairnError && err.code === 'NOT_FOUND')) {
          this.#touched = new Set([...touched, ...this.#touched])
          throw err
        }
        summaries.delete(id)
      }
    }
    return summaries
  }

  /**
   * Agent names change rarely: asked for every 10 s, or within half a second when
   * an actor without a name shows up (one from another replica may never get
   * one here, so not on every tick).
   */
  async #refreshAgents(): Promise<void> {
    const now = this.#clock.now()
    if (now - this.#agentsAt < (this.#agentsWanted ? 500 : 10_000)) return
    this.#agentsAt = now
    this.#agentsWanted = false
    const agents = await this.#repo.agents()
    this.#knownActors = new Set(agents.map((a) => a.actor))
    this.#publish('agents', agents)
  }

  /** Keeps `value` as the latest of its kind; tells watchers only when it changed. */
  #publish(event: FeedMessage['event'], value: unknown): boolean {
    const json = JSON.stringify(value)
    if (this.#json[event] === json) return false
    this.#json[event] = json
    this.#values[event] = value
    if (this.#live) this.#emit({ event, data: value })
    return true
  }

  #emit(m: FeedMessage): void {
    for (const l of [...this.#listeners]) {
      try { l(m) } catch { /* a watcher's failure is its own; see the stream's bound */ }
    }
  }
}
