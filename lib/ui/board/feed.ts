/**
 * The live feed of one repository's board, shared by every page watching it:
 * one poll loop per repository however many tabs are open, and nothing at
 * all while none is.
 *
 * Each tick (every `tickMs`, 250 ms by default) reads the event log past its
 * cursor from the store (a read on this thread, no hop to the repository's
 * thread, and it also sees what other processes wrote to the repository).
 * New events become activity lines and mark the board dirty. Leases are
 * asked for on a dirty tick and at least every `slowMs`, since they change
 * without events (acquire, renew, lapse); the store's WAL stats and the sync
 * status every `slowMs`. A dirty board is rebuilt at most every
 * `boardMinMs` and only the cards that changed are sent: however fast
 * agents write, the cost is bounded by the tick rate and the board size,
 * not by the write rate. Far behind (a page of the log full), the cursor
 * jumps to the end: the board is rebuilt from state, and activity shows
 * only the newest lines.
 *
 * A failing read (a repository restarting) is reported once as `health`
 * and retried next tick; the feed never throws into the server.
 */
import type { Clock } from '../../kernel/ports/clock.ts'
import type { Repo } from '../../api/repo.ts'
import { CairnError } from '../../../protocol/errors.ts'
import { activityOf, type ActivityItem } from './activity.ts'
import { buildBoard, diffBoard, type Board } from './model.ts'

export type FeedRepo = Pick<Repo, 'events' | 'issues' | 'locks' | 'syncStatus' | 'agents'>

export interface FeedMessage { event: 'board' | 'activity' | 'leases' | 'stats' | 'sync' | 'agents' | 'health'; data: unknown }
export type FeedListener = (m: FeedMessage) => void

export interface FeedOptions { tickMs?: number; slowMs?: number; boardMinMs?: number; activityKept?: number }

const PAGE = 256

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
  #prints = new Map<string, string>()
  #activity: ActivityItem[] = []
  #json: Partial<Record<FeedMessage['event'], string>> = {}
  #values: Partial<Record<FeedMessage['event'], unknown>> = {}
  #agentsAt = 0
  #knownActors = new Set<string>()

  constructor(repo: FeedRepo, clock: Clock, opts: FeedOptions = {}) {
    this.#repo = repo
    this.#clock = clock
    this.#tickMs = opts.tickMs ?? 250
    this.#slowMs = opts.slowMs ?? 1000
    this.#boardMinMs = opts.boardMinMs ?? 400
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
    this.#prints = new Map()
    this.#json = {}
    this.#values = {}
    this.#activity = []
    this.#dirty = true
    this.#agentsAt = 0
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
      await this.#readLog(first)
      const now = this.#clock.now()
      const slow = first || now - this.#lastSlowAt >= this.#slowMs
      if (slow || this.#dirty) {
        const leases = await this.#repo.locks.list()
        if (this.#publish('leases', leases)) this.#dirty = true
      }
      if (slow) {
        this.#lastSlowAt = now
        this.#publish('stats', await this.#repo.events.stats())
        this.#publish('sync', await this.#repo.syncStatus())
      }
      if (this.#dirty && (first || now - this.#lastBoardAt >= this.#boardMinMs)) await this.#rebuild()
      await this.#refreshAgents(false)
      this.#publish('health', { ok: true })
    } catch (err) {
      const e = CairnError.from(err)
      this.#publish('health', { ok: false, code: e.code, message: e.message })
    }
  }

  async #readLog(first: boolean): Promise<void> {
    let page = await this.#repo.events.read({ fromSeq: this.#cursor, limit: PAGE })
    if (page.length === PAGE) {
      // Far behind: skip to the newest lines; the board is rebuilt from state anyway.
      const { lastSeq } = await this.#repo.events.stats()
      page = await this.#repo.events.read({ fromSeq: Math.max(this.#cursor, lastSeq - this.#kept + 1), limit: this.#kept })
    }
    if (page.length === 0) return
    this.#cursor = page[page.length - 1]!.seq + 1
    this.#dirty = true
    const items = page.slice(-this.#kept).map(activityOf)
    this.#activity = [...this.#activity, ...items].slice(-this.#kept)
    for (const i of items) if (!this.#knownActors.has(i.actor)) this.#agentsAt = 0
    if (this.#live) this.#emit({ event: 'activity', data: { items, replay: false } })
  }

  async #rebuild(): Promise<void> {
    const [issues, ready] = await Promise.all([this.#repo.issues.list({}), this.#repo.issues.ready({})])
    const leases = (this.#values.leases ?? []) as Parameters<typeof buildBoard>[0]['leases']
    const board = buildBoard({ issues, readyIds: new Set(ready.map((i) => i.id)), leases })
    const full = this.#board === null
    const { diff, prints } = diffBoard(this.#prints, board.cards)
    this.#board = board
    this.#prints = prints
    this.#dirty = false
    this.#lastBoardAt = this.#clock.now()
    for (const c of board.cards) if (!this.#knownActors.has(c.createdBy)) this.#agentsAt = 0
    if (!full && this.#live && (diff.upserts.length > 0 || diff.removes.length > 0)) {
      this.#emit({ event: 'board', data: { full: false, cards: diff.upserts, removes: diff.removes, counts: board.counts } })
    }
  }

  /** Agent names change rarely: asked for when an unknown actor shows up, else every 10 s. */
  async #refreshAgents(force: boolean): Promise<void> {
    const now = this.#clock.now()
    if (!force && now - this.#agentsAt < 10_000) return
    this.#agentsAt = now
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
