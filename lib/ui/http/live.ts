/**
 * `GET /api/live[?repo=<id>]`: the page's server-sent events. A new stream
 * first gets everything it needs to draw (`hello`, the runtime, and with a
 * repository its whole board, leases, stats, sync, agents and recent
 * activity), then only changes, as the feeds produce them; a quiet stream
 * gets the server's clock every 5 s (the page's countdowns follow that
 * clock, and it keeps the connection from looking dead).
 *
 * Bounded: at most `maxStreams` streams at once (503 BUSY past it), and each
 * keeps at most MAX_QUEUED messages for a page that does not read: past
 * that the stream is closed, and the browser's EventSource reconnects and
 * starts again from a fresh snapshot. A slow page never makes the daemon
 * buffer without bound, and never slows the feeds other pages share.
 */
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import { CairnError } from '../../../protocol/errors.ts'
import type { BoardRegistry } from '../boards.ts'
import type { FeedMessage } from '../board/feed.ts'
import type { RuntimeFeed } from '../runtime-feed.ts'
import { badRequest, HttpError } from './errors.ts'
import { queryParams } from './params.ts'

export const MAX_QUEUED = 256
/** How long a quiet stream waits before sending the server's clock (which keeps it alive too). */
const CLOCK_MS = 5_000
const REPO_ID = /^[0-9a-f]{16}$/

export interface LiveOptions {
  boards: BoardRegistry
  runtime: RuntimeFeed
  now(): number
  hello(): Record<string, unknown>
  maxStreams: number
}

type Outgoing = { event: string; data: unknown }

export class LiveStreams {
  readonly #opts: LiveOptions
  readonly #open = new Set<() => void>()

  constructor(opts: LiveOptions) {
    this.#opts = opts
  }

  get count(): number { return this.#open.size }

  /** Ends every stream (the board is stopping). */
  closeAll(): void {
    for (const close of [...this.#open]) close()
  }

  handle(c: Context): Response {
    const q = queryParams(c, ['repo'])
    const repoId = q.get('repo')
    if (repoId !== undefined && !REPO_ID.test(repoId)) throw badRequest('repo', 'must be a repository id (16 hex characters)')
    const entry = repoId === undefined ? null : this.#opts.boards.get(repoId)
    if (this.#open.size >= this.#opts.maxStreams) {
      throw new HttpError(503, 'BUSY', `the board serves ${this.#opts.maxStreams} live pages at once; close one`, { 'Retry-After': '5' })
    }
    const queue: Outgoing[] = []
    let wake: (() => void) | null = null
    let closed = false
    let abortStream: (() => void) | null = null
    const poke = (): void => { const w = wake; wake = null; w?.() }
    // Aborting the stream also ends a write that waits on a page that stopped reading.
    const close = (): void => { closed = true; poke(); abortStream?.() }
    const push = (m: Outgoing): void => {
      if (closed) return
      if (queue.length >= MAX_QUEUED) { close(); return }
      queue.push(m)
      poke()
    }
    this.#open.add(close)
    c.req.raw.signal.addEventListener('abort', close, { once: true })
    return streamSSE(c, async (stream) => {
      abortStream = () => stream.abort()
      if (closed) stream.abort()
      stream.onAbort(close)
      const leaves: (() => void)[] = []
      let finished = false
      /** A feed joined after the stream ended is left at once: no watcher outlives its page. */
      const joined = (leave: () => void): boolean => {
        if (finished) { leave(); return false }
        leaves.push(leave)
        return true
      }
      let failure: unknown = null
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ ...this.#opts.hello(), now: this.#opts.now(), repo: repoId ?? null }) })
        // The board first (it is what the page waits for); the runtime's status (a ping of every thread) joins when it can.
        void this.#opts.runtime.join((view) => push({ event: 'runtime', data: view })).then((rt) => {
          if (joined(rt.leave)) push({ event: 'runtime', data: rt.initial })
        }, (err: unknown) => { failure = err; close() })
        if (entry !== null) {
          const feed = await entry.feed.join((m: FeedMessage) => push(m))
          if (joined(feed.leave)) for (const m of feed.initial) push(m)
        }
        while (!closed && !stream.aborted) {
          if (queue.length === 0) {
            const woke = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => { wake = null; resolve(false) }, CLOCK_MS)
              wake = () => { clearTimeout(timer); resolve(true) }
            })
            // Quiet for a while: the server's clock (the page's countdowns follow it), which also keeps the stream alive.
            if (!woke && !closed) await stream.writeSSE({ event: 'clock', data: JSON.stringify({ now: this.#opts.now() }) })
            continue
          }
          const m = queue.shift()!
          await stream.writeSSE({ event: m.event, data: JSON.stringify(m.data) })
        }
      } catch (err) {
        failure = err
      } finally {
        finished = true
        for (const leave of leaves) leave()
        this.#open.delete(close)
        closed = true
      }
      // A feed could not start (or the page went away mid-write): tell the page if it still listens.
      if (failure !== null && !stream.aborted) {
        const e = CairnError.from(failure)
        await stream.writeSSE({ event: 'failure', data: JSON.stringify({ code: e.code, message: e.message }) }).catch(() => undefined)
      }
    })
  }
}
