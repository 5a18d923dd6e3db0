/**
 * The board's web server: Hono on Node's HTTP server, bound to 127.0.0.1
 * only (never another interface, whatever is asked), in the process that
 * runs the runtime (the daemon, or `cairn ui --no-daemon`).
 *
 * Nothing a client sends may take that process down: routes answer coded
 * errors, Node's parser answers malformed requests (400/431) and closes
 * their connection, slow clients are bounded by timeouts, and the number of
 * sockets, live streams and queued messages are all capped.
 */
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { CairnError } from '../../protocol/errors.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import { SystemClock } from '../adapters/system-clock.ts'
import { BoardRegistry, type BoardEntry, type BoardRuntime } from './boards.ts'
import type { FeedOptions } from './board/feed.ts'
import { buildApp } from './http/app.ts'
import { loadAssets } from './http/assets.ts'
import { LiveStreams } from './http/live.ts'
import type { WriteSettings } from './http/writes.ts'
import { RuntimeFeed, type SupervisionSource } from './runtime-feed.ts'
import { cookieName, loadOrCreateToken } from './token.ts'

export const HOST = '127.0.0.1'
/** Tried first when no port is asked for; a free port is taken when it is in use. */
export const DEFAULT_PORT = 7470
const MAX_SOCKETS = 128

export interface BoardServerOptions {
  home: string
  runtime: BoardRuntime
  clock?: Clock
  /** 0: any free port; undefined: DEFAULT_PORT, else any free port. An explicit port that is taken fails with BUSY. */
  port?: number
  allowWrites?: boolean
  /** The human agent name writes are made as (required with allowWrites). */
  writer?: string | null
  /** Makes a new token instead of the one kept in the home. */
  rotateToken?: boolean
  log?: (line: string) => void
  /** What the runtime view shows about the serving process (the daemon's status). */
  processInfo?: () => Promise<Record<string, unknown>>
  maxStreams?: number
  feed?: FeedOptions
}

export interface BoardServer {
  readonly port: number
  /** The board's address, without the token (safe to log). */
  readonly url: string
  /** The address with the token: what `cairn ui` prints for its user, nothing else. */
  urlWithToken(): string
  settings(): WriteSettings
  configure(settings: { allowWrites: boolean; writer: string | null }): void
  /** A new token: URLs and cookies with the old one stop working, and open pages are disconnected. */
  rotateToken(): void
  add(path: string): Promise<BoardEntry>
  /** The repositories the board shows. */
  repos(): { id: string; name: string; path: string }[]
  /** Live pages connected now. */
  readonly streams: number
  close(): Promise<void>
}

/** Checks what writes need: a writer name, given explicitly. */
export function checkWriteSettings(allowWrites: boolean, writer: string | null | undefined): WriteSettings {
  if (!allowWrites) return { allowWrites: false, writer: null }
  if (typeof writer !== 'string' || writer.trim().length === 0 || writer.length > 128) {
    throw new CairnError('INVALID_ARGUMENT', 'writes are attributed: give the name they are made as (`--agent <your name>` or $CAIRN_AGENT, 1..128 characters)', { field: 'agent' })
  }
  return { allowWrites: true, writer }
}

/**
 * Starts the board.
 * @example const b = await startBoard({ home, runtime }); console.log(b.urlWithToken())
 */
export async function startBoard(opts: BoardServerOptions): Promise<BoardServer> {
  const log = opts.log ?? (() => undefined)
  const clock = opts.clock ?? new SystemClock()
  let settings = checkWriteSettings(opts.allowWrites === true, opts.writer)
  let token = loadOrCreateToken(opts.home, { rotate: opts.rotateToken === true })
  const assets = loadAssets()
  const boards = new BoardRegistry(opts.runtime, clock, opts.feed)
  const rt = opts.runtime
  const supervision: SupervisionSource | null = rt.actors && rt.watch ? { actors: rt.actors.bind(rt), watch: rt.watch.bind(rt) } : null
  const runtimeFeed = new RuntimeFeed(() => opts.runtime.status(), opts.processInfo ?? (async () => ({ pid: process.pid })), clock, 1000, supervision)
  let port = 0
  const live = new LiveStreams({
    boards,
    runtime: runtimeFeed,
    now: () => clock.now(),
    hello: () => ({ ...settings }),
    maxStreams: opts.maxStreams ?? 32,
  })
  const app = buildApp({
    token: () => token,
    cookie: cookieName(opts.home),
    port: () => port,
    boards,
    runtime: runtimeFeed,
    live,
    assets,
    clock,
    settings: () => settings,
    session: () => ({ pid: process.pid }),
    log,
  })
  const server = createAdaptorServer({
    fetch: app.fetch,
    hostname: HOST,
    overrideGlobalObjects: false,
    serverOptions: { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
  }) as Server
  server.maxConnections = MAX_SOCKETS
  try {
    port = await listen(server, opts.port)
  } catch (err) {
    runtimeFeed.close()
    throw err
  }
  // Errors after listening (EMFILE on accept, ...) are logged, never thrown into the process.
  server.on('error', (err) => log(`board: server error: ${(err as Error).message}`))
  const url = `http://${HOST}:${port}/`
  log(`board: serving ${url} (${settings.allowWrites ? `writes as ${settings.writer}` : 'read-only'})`)
  let closing: Promise<void> | null = null
  return {
    port,
    url,
    urlWithToken: () => `${url}?token=${token}`,
    settings: () => settings,
    configure: (s) => { settings = checkWriteSettings(s.allowWrites, s.writer) },
    rotateToken: () => {
      token = loadOrCreateToken(opts.home, { rotate: true })
      live.closeAll()
    },
    add: (path) => boards.add(path),
    repos: () => boards.list().map((b) => ({ id: b.id, name: b.name, path: b.path })),
    get streams() { return live.count },
    close: () => {
      closing ??= (async () => {
        live.closeAll()
        runtimeFeed.close()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        const force = setTimeout(() => server.closeAllConnections(), 1000)
        await closed
        clearTimeout(force)
        log('board: stopped')
      })()
      return closing
    },
  }
}

async function listen(server: Server, asked: number | undefined): Promise<number> {
  const once = (port: number): Promise<number> => new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => { server.off('listening', onListening); reject(err) }
    const onListening = (): void => { server.off('error', onError); resolve((server.address() as AddressInfo).port) }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, HOST)
  })
  try {
    return await once(asked ?? DEFAULT_PORT)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' && asked === undefined) return once(0)
    if (code === 'EADDRINUSE') throw new CairnError('BUSY', `port ${asked} on ${HOST} is in use; pick another with --port, or --port 0 for any free one`, { port: asked })
    if (code === 'EACCES') throw new CairnError('INVALID_ARGUMENT', `port ${asked} on ${HOST} needs privileges; pick one above 1023`, { field: 'port' })
    throw CairnError.from(err)
  }
}
