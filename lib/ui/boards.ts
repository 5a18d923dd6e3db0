/**
 * The repositories the board shows, by repository id (16 hex, the
 * Supervisor's): the ones the runtime serves (any CLI call opened them) and
 * the ones `cairn ui` was started in. A page can only name a repository in
 * this list: a URL never makes the daemon open a path of its choosing.
 *
 * Each repository is opened twice, lazily: a reader bound to no agent (the
 * all-zero actor id, which authors nothing; resolving an agent name would
 * itself be a write) and, only when the board allows writes, a writer bound
 * to the human agent name the board was started with.
 */
import { basename, dirname } from 'node:path'
import { CairnError } from '../../protocol/errors.ts'
import type { Runtime } from '../api/create-runtime.ts'
import type { Repo } from '../api/repo.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import { BoardFeed, type FeedOptions } from './board/feed.ts'

/** What the board needs of the runtime. */
/** What the board needs of a runtime; with `actors`/`watch` its runtime view shows supervision too. */
export type BoardRuntime = Pick<Runtime, 'repo' | 'status'> & Partial<Pick<Runtime, 'actors' | 'watch'>>

export interface BoardEntry {
  id: string
  /** The repository's git common dir, as the runtime names it. */
  path: string
  /** What people call it: the working tree's directory name. */
  name: string
  reader: Repo
  feed: BoardFeed
}

const READER_ACTOR = '0'.repeat(32)
/** Bounds what a daemon serving many repositories keeps for the board. */
const MAX_BOARDS = 512

export function displayName(commonDir: string): string {
  const base = basename(commonDir)
  return base === '.git' ? basename(dirname(commonDir)) : base.replace(/\.git$/, '')
}

export class BoardRegistry {
  readonly #runtime: BoardRuntime
  readonly #clock: Clock
  readonly #feedOptions: FeedOptions
  readonly #byId = new Map<string, BoardEntry>()
  readonly #writers = new Map<string, Promise<Repo>>()

  constructor(runtime: BoardRuntime, clock: Clock, feedOptions: FeedOptions = {}) {
    this.#runtime = runtime
    this.#clock = clock
    this.#feedOptions = feedOptions
  }

  /** Adds the repository containing `path` (opening it in the runtime). */
  async add(path: string): Promise<BoardEntry> {
    const reader = await this.#runtime.repo(path, { actor: READER_ACTOR })
    let entry = this.#byId.get(reader.id)
    if (entry === undefined) {
      if (this.#byId.size >= MAX_BOARDS) throw new CairnError('BUSY', `the board shows at most ${MAX_BOARDS} repositories`)
      entry = { id: reader.id, path: reader.path, name: displayName(reader.path), reader, feed: new BoardFeed(reader, this.#clock, this.#feedOptions) }
      this.#byId.set(entry.id, entry)
    }
    return entry
  }

  /** Picks up repositories the runtime opened since (CLI calls, other boards). */
  async refresh(): Promise<void> {
    const status = await this.#runtime.status()
    const known = new Set([...this.#byId.values()].map((e) => e.path))
    for (const path of status.threads.flatMap((t) => t.repos)) {
      if (!known.has(path)) await this.add(path).catch(() => undefined)
    }
  }

  list(): BoardEntry[] {
    return [...this.#byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
  }

  /** The repository `id` names; NOT_FOUND when the board does not show it. */
  get(id: string): BoardEntry {
    const entry = this.#byId.get(id)
    if (entry === undefined) throw new CairnError('NOT_FOUND', `no repository ${id} on this board`, { repo: id })
    return entry
  }

  /** A handle that writes as `agent` in the repository `id`. */
  writer(id: string, agent: string): Promise<Repo> {
    const entry = this.get(id)
    const key = `${id}\0${agent}`
    let w = this.#writers.get(key)
    if (w === undefined) {
      w = this.#runtime.repo(entry.path, { agent })
      this.#writers.set(key, w)
      w.catch(() => { this.#writers.delete(key) })
    }
    return w
  }
}
