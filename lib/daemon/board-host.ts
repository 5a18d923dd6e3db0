/**
 * The daemon's side of `cairn ui`: starts, reconfigures and stops the board
 * (lib/ui) in the daemon's process, on the daemon's runtime. The board's
 * module graph (Hono, the assets) is loaded on the first `ui.start` only, so
 * a daemon nobody asked for a board pays nothing for it.
 *
 * Each `ui.start` states the whole wish: read-only unless it says
 * `allowWrites` (with the human agent name writes are made as), on the port
 * it names (moving the board there) or the one the board already has.
 * Requests are handled one at a time.
 */
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { checkArgs } from '../../protocol/operations/index.ts'
import { UI_OPERATIONS } from '../../protocol/operations/ui.ts'
import type { Runtime } from '../api/create-runtime.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import type { BoardServer } from '../ui/server.ts'
import { checkTarget } from './repo-cache.ts'

export interface BoardInfo {
  /** The address with the token (only the daemon's own user can ask for it: the socket is 0600). */
  url: string
  port: number
  allowWrites: boolean
  writer: string | null
  repos: { id: string; name: string; path: string }[]
  pid: number
}

/** What `daemon status` shows: never the token. */
export interface BoardStatus { url: string; port: number; allowWrites: boolean; writer: string | null; livePages: number }

export interface StartArgs { port?: number; allowWrites: boolean; writer: string | null; rotateToken: boolean }

/** Checks `ui.start`'s arguments against its schema (INVALID_ARGUMENT naming the field); the writer defaults to the request's agent. */
export function checkStartArgs(raw: unknown, agent: unknown): StartArgs {
  const a = checkArgs('ui.start', UI_OPERATIONS['ui.start'].args, raw)
  let writer = a.allowWrites ? a.writer ?? null : null
  if (a.allowWrites && writer === null && agent !== undefined) writer = checkArgs('ui.start', UI_OPERATIONS['ui.start'].args, { writer: agent }).writer ?? null
  return { ...(a.port === undefined ? {} : { port: a.port }), allowWrites: a.allowWrites === true, writer, rotateToken: a.rotateToken === true }
}

export class BoardHost {
  readonly #home: string
  readonly #runtime: Runtime
  readonly #clock: Clock | undefined
  readonly #log: (line: string) => void
  readonly #processInfo: () => Promise<Record<string, unknown>>
  #board: BoardServer | null = null
  #queue: Promise<unknown> = Promise.resolve()

  constructor(home: string, runtime: Runtime, opts: { clock?: Clock; log: (line: string) => void; processInfo: () => Promise<Record<string, unknown>> }) {
    this.#home = home
    this.#runtime = runtime
    this.#clock = opts.clock
    this.#log = opts.log
    this.#processInfo = opts.processInfo
  }

  get serving(): boolean { return this.#board !== null }

  status(): BoardStatus | null {
    const b = this.#board
    if (b === null) return null
    const s = b.settings()
    return { url: b.url, port: b.port, allowWrites: s.allowWrites, writer: s.writer, livePages: b.streams }
  }

  /** Answers the daemon methods `ui.start` and `ui.stop` (body as the socket protocol's RequestBody). */
  async handle(method: 'ui.start' | 'ui.stop', rawBody: unknown): Promise<BoardInfo | { stopped: boolean }> {
    const body = rawBody ?? {}
    if (typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('body', 'must be a map')
    const { repo, agent, args = {} } = body as { repo?: unknown; agent?: unknown; args?: unknown }
    if (method === 'ui.stop') {
      checkArgs('ui.stop', UI_OPERATIONS['ui.stop'].args, args)
      return this.stop()
    }
    return this.start(args, repo, agent)
  }

  /** Serves the board (or reconfigures it) and adds the caller's repository to it. */
  start(args: unknown, repo: unknown, agent: unknown): Promise<BoardInfo> {
    return this.#serial(async () => {
      const a = checkStartArgs(args, agent)
      if (a.allowWrites && a.writer === null) {
        throw invalidArgument('agent', 'is required with allowWrites: writes are made as the human agent you name (`--agent <your name>`)')
      }
      const path = repo === undefined ? null : checkTarget(repo, undefined).path
      const old = this.#board
      // A new port: the board moves there (its repositories with it); if that port is taken, it stays where it is.
      const moving = old !== null && a.port !== undefined && a.port !== 0 && a.port !== old.port
      let board = moving ? null : old
      if (board === null) {
        const { startBoard } = await import('../ui/server.ts')
        board = await startBoard({
          home: this.#home, runtime: this.#runtime, ...(this.#clock ? { clock: this.#clock } : {}),
          ...(a.port === undefined ? {} : { port: a.port }), allowWrites: a.allowWrites, writer: a.writer,
          rotateToken: a.rotateToken, log: this.#log, processInfo: this.#processInfo,
        })
        if (old !== null) {
          for (const r of old.repos()) await board.add(r.path).catch(() => undefined)
          await old.close()
        }
        this.#board = board
      } else {
        if (a.rotateToken) board.rotateToken()
        board.configure({ allowWrites: a.allowWrites, writer: a.writer })
      }
      if (path !== null) await board.add(path)
      const s = board.settings()
      return { url: board.urlWithToken(), port: board.port, allowWrites: s.allowWrites, writer: s.writer, repos: board.repos(), pid: process.pid }
    })
  }

  stop(): Promise<{ stopped: boolean }> {
    return this.#serial(async () => {
      const b = this.#board
      this.#board = null
      if (b === null) return { stopped: false }
      await b.close()
      return { stopped: true }
    })
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run.catch((err: unknown) => { throw CairnError.from(err) })
  }
}
