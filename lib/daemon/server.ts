/**
 * The daemon: one runtime kept warm for a home, served on its Unix socket.
 *
 * Start-up order is what makes "one daemon per home" hold without races:
 * take the home mutex (kernel-held, see home-mutex.ts), and only then look
 * at the files a previous daemon may have left (socket, lock file). Holding
 * the mutex proves that daemon is gone, so its files are stale and are
 * replaced; a daemon that still answers a round trip is never replaced.
 *
 * Stop order (signal, `daemon.stop`, idle timeout): stop accepting, answer
 * what is in flight, stop the runtime (which persists), remove the socket
 * and lock file, and release the mutex last, so a successor never sees our
 * files while we still run.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { encode } from '../../protocol/codec.ts'
import { frame } from '../../protocol/framing.ts'
import { createRuntime, type Runtime } from '../api/create-runtime.ts'
import type { Repo } from '../api/repo.ts'
import type { RuntimeOptions } from '../api/options.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import { BoardHost, type BoardStatus } from './board-host.ts'
import { probe } from './client.ts'
import { Connection, type RequestContext } from './connection.ts'
import { readDaemonConfig, checkSetting, type DaemonConfig } from './config.ts'
import { lockName, tryLockName, type NameLock } from './home-mutex.ts'
import { HEARTBEAT_MS, readLockFile, removeLockFile, writeLockFile, type LockRecord } from './lock-file.ts'
import { operation } from './operations/index.ts'
import { HoldStore } from './holds.ts'
import { HoldWatch } from './hold-watch.ts'
import { daemonPaths, ensureHome, type DaemonPaths } from './paths.ts'
import { repoCache, type RepoOpener } from './repo-cache.ts'
import { errorFrame, SOCKET_PROTOCOL, type HelloReply, type RequestBody } from './wire.ts'

export interface DaemonOptions {
  home: string
  /** Override config.json's settings. */
  idleTimeoutSec?: number
  maxConnections?: number
  threads?: number
  idleCloseSec?: number
  reposPerThread?: number
  /** Extra runtime options (tests: clock, watchdog). */
  runtime?: Omit<RuntimeOptions, 'home' | 'threads'>
  /** How long to wait for a one-shot embedded CLI to let go of the home. */
  mutexWaitMs?: number
  /** Where the daemon's few lifecycle lines go (the CLI sends them to stderr). */
  log?: (line: string) => void
}

export type StopReason = 'signal' | 'request' | 'idle' | 'error'

export interface DaemonStatus {
  pid: number
  startedAt: number
  uptimeMs: number
  protocol: number
  home: string
  socket: string
  connections: number
  inflight: number
  requests: number
  idleTimeoutSec: number
  maxConnections: number
  rssBytes: number
  repos: string[]
  /** Repositories idle this long are closed (0: never). */
  idleCloseSec: number
  /** Each runtime thread and the repositories it hosts now (`cairn runtime move --to <threadId>`). */
  threads: { threadId: number; repos: string[] }[]
  /** The board `cairn ui` serves (its address without the token), or null. */
  ui: BoardStatus | null
}

export interface Daemon {
  readonly paths: DaemonPaths
  readonly pid: number
  readonly startedAt: number
  /** What start-up found left over by a previous daemon and replaced. */
  readonly replaced: { lock: LockRecord | null; socket: boolean }
  /** Resolves with the reason once the daemon has fully stopped. */
  readonly stopped: Promise<StopReason>
  status(): Promise<DaemonStatus>
  stop(reason?: StopReason): Promise<StopReason>
}

/**
 * Starts a daemon for `home`, or fails with BUSY when another one serves it.
 * @example const d = await startDaemon({ home: resolveHome() }); await d.stopped
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const paths = daemonPaths(ensureHome(opts.home))
  const config = readDaemonConfig(paths.config)
  if (opts.idleTimeoutSec !== undefined) config.idleTimeoutSec = checkSetting('idleTimeoutSec', opts.idleTimeoutSec)
  if (opts.maxConnections !== undefined) config.maxConnections = checkSetting('maxConnections', opts.maxConnections)
  if (opts.threads !== undefined) config.threads = checkSetting('threads', opts.threads)
  if (opts.idleCloseSec !== undefined) config.idleCloseSec = checkSetting('idleCloseSec', opts.idleCloseSec)
  if (opts.reposPerThread !== undefined) config.reposPerThread = checkSetting('reposPerThread', opts.reposPerThread)
  const log = opts.log ?? (() => undefined)

  const mutex = await takeHome(paths, opts.mutexWaitMs ?? 10_000)
  try {
    const replaced = await clearStale(paths)
    if (replaced.lock || replaced.socket) log(`replaced stale daemon files (previous pid ${replaced.lock?.pid ?? 'unknown'})`)
    // Requests from many sockets meet in one turn: one port message for them (lib/kernel/frame-port.ts).
    const runtime = await createRuntime({
      coalesceRequests: true, idleCloseMs: config.idleCloseSec * 1000, reposPerThread: config.reposPerThread,
      ...opts.runtime, home: paths.home, ...(config.threads ? { threads: config.threads } : {}),
    })
    const server = createServer({ allowHalfOpen: true })
    try {
      await listen(server, paths.socket)
    } catch (err) {
      await runtime.stop()
      throw err
    }
    chmodSync(paths.socket, 0o600)
    return new DaemonImpl(paths, config, mutex, runtime, server, replaced, log, opts.runtime?.clock)
  } catch (err) {
    await mutex.release()
    throw CairnError.from(err)
  }
}

async function takeHome(paths: DaemonPaths, waitMs: number): Promise<NameLock> {
  const first = await tryLockName(paths.mutexName)
  if (first) return first
  const live = await probe(paths.socket, 2000)
  if (live) throw new CairnError('BUSY', `a daemon is already running for ${paths.home} (pid ${live.pid})`, { pid: live.pid })
  // Not a daemon that answers: most likely an embedded CLI finishing a command.
  const later = await lockName(paths.mutexName, waitMs)
  if (later) return later
  throw new CairnError('BUSY', `another process holds ${paths.home} and does not answer on its socket`)
}

async function clearStale(paths: DaemonPaths): Promise<{ lock: LockRecord | null; socket: boolean }> {
  const lock = readLockFile(paths.lock)
  const socket = existsSync(paths.socket)
  if (socket) {
    // Belt and braces: we hold the mutex, yet never replace a socket that answers.
    const live = await probe(paths.socket, 2000)
    if (live) throw new CairnError('BUSY', `a daemon answers on ${paths.socket} (pid ${live.pid})`, { pid: live.pid })
    rmSync(paths.socket, { force: true })
  }
  if (lock || existsSync(paths.lock)) removeLockFile(paths.lock)
  return { lock, socket }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

class DaemonImpl implements Daemon {
  readonly pid = process.pid
  readonly startedAt = Date.now()
  readonly stopped: Promise<StopReason>
  readonly #conns = new Set<Connection>()
  readonly #holds: HoldStore
  readonly #watch: HoldWatch
  readonly #open: RepoOpener
  readonly #board: BoardHost
  readonly #heartbeat: NodeJS.Timeout
  #idleTimer: NodeJS.Timeout | null = null
  #stopping: Promise<StopReason> | null = null
  #resolveStopped!: (r: StopReason) => void
  #requests = 0

  constructor(
    readonly paths: DaemonPaths,
    readonly config: DaemonConfig,
    readonly mutex: NameLock,
    readonly runtime: Runtime,
    readonly server: Server,
    readonly replaced: { lock: LockRecord | null; socket: boolean },
    readonly log: (line: string) => void,
    clock?: Clock,
  ) {
    this.stopped = new Promise((resolve) => { this.#resolveStopped = resolve })
    this.#open = repoCache(runtime)
    this.#board = new BoardHost(paths.home, runtime, {
      ...(clock ? { clock } : {}),
      log,
      processInfo: async () => {
        const { repos: _repos, ui: _ui, threads: _threads, ...rest } = await this.status()
        return rest as unknown as Record<string, unknown>
      },
    })
    this.#holds = new HoldStore(paths.home)
    // Holds tied to a process (--pid) are renewed while it lives, also those a previous daemon took.
    const opened = new Map<string, Promise<Repo>>()
    const openAs = (path: string, actor: string): Promise<Repo> => {
      const key = `${path}\0${actor}`
      let p = opened.get(key)
      if (!p) {
        if (opened.size >= 1024) opened.clear()
        p = runtime.repo(path, { actor })
        p.catch(() => opened.delete(key))
        opened.set(key, p)
      }
      return p
    }
    this.#watch = new HoldWatch(this.#holds, openAs, () => Date.now(), log)
    this.#watch.start()
    server.on('connection', (sock) => this.#accept(sock))
    this.#writeLock()
    this.#heartbeat = setInterval(() => this.#writeLock(), HEARTBEAT_MS)
    this.#heartbeat.unref()
    this.#armIdle()
  }

  #writeLock(): void {
    try {
      writeLockFile(this.paths.lock, { pid: this.pid, startedAt: this.startedAt, protocol: SOCKET_PROTOCOL, heartbeatAt: Date.now(), socket: this.paths.socket })
    } catch (err) {
      this.log(`cannot write the lock file: ${(err as Error).message}`)
    }
  }

  #accept(sock: Socket): void {
    if (this.#stopping || this.#conns.size >= this.config.maxConnections) {
      const err = this.#stopping
        ? new CairnError('STOPPED', 'the daemon is stopping')
        : new CairnError('BUSY', `the daemon serves ${this.config.maxConnections} connections already; retry shortly`, { maxConnections: this.config.maxConnections })
      sock.on('error', () => undefined)
      // Read (and drop) what the peer sends, so its end of stream is seen and the socket closes.
      sock.resume()
      sock.end(frame(encode(errorFrame(err.toWire()))))
      setTimeout(() => sock.destroy(), 2000).unref()
      return
    }
    const conn = new Connection(sock, {
      hello: () => this.#hello(),
      dispatch: (req, ctx) => this.#dispatch(req, ctx),
      activity: () => undefined,
    })
    this.#conns.add(conn)
    this.#disarmIdle()
    void conn.closed.then(() => {
      this.#conns.delete(conn)
      this.#armIdle()
    })
  }

  #hello(): HelloReply {
    return { protocol: SOCKET_PROTOCOL, pid: this.pid, startedAt: this.startedAt, home: this.paths.home }
  }

  async #dispatch(req: Envelope, ctx: RequestContext): Promise<unknown> {
    if (this.#stopping) throw new CairnError('STOPPED', 'the daemon is stopping')
    this.#requests++
    switch (req.type) {
      case 'ping': return { pong: true, pid: this.pid }
      case 'daemon.status': return this.status()
      case 'daemon.stop':
        setImmediate(() => { void this.stop('request') })
        return { stopping: true, pid: this.pid }
      case 'ui.start':
      case 'ui.stop': {
        const answer = await this.#board.handle(req.type, req.body)
        // Serving a board keeps the daemon up (its page may be opened any time); `ui.stop` lets it idle again.
        if (this.#board.serving) this.#disarmIdle()
        else this.#armIdle()
        return answer
      }
    }
    const op = operation(req.type)
    if (!op) throw new CairnError('UNKNOWN_MESSAGE', `unknown method ${JSON.stringify(req.type).slice(0, 140)}`, { type: req.type })
    const body = (req.body ?? {}) as RequestBody
    if (typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('body', 'must be a map')
    // The operation checks body.args against its schema (INVALID_ARGUMENT naming the field).
    return op.run({ repo: () => this.#open(body.repo, body.agent), get signal() { return ctx.signal }, emit: ctx.emit, holds: this.#holds, mode: 'daemon', runtime: this.runtime }, body.args)
  }

  async status(): Promise<DaemonStatus> {
    const rt = await this.runtime.status().catch(() => ({ threads: [] as { threadId: number; repos: string[] }[] }))
    let inflight = 0
    for (const c of this.#conns) inflight += c.inflight
    return {
      pid: this.pid,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      protocol: SOCKET_PROTOCOL,
      home: this.paths.home,
      socket: this.paths.socket,
      connections: this.#conns.size,
      inflight,
      requests: this.#requests,
      idleTimeoutSec: this.config.idleTimeoutSec,
      maxConnections: this.config.maxConnections,
      rssBytes: process.memoryUsage.rss(),
      repos: rt.threads.flatMap((t) => t.repos),
      idleCloseSec: this.config.idleCloseSec,
      threads: rt.threads.map((t) => ({ threadId: t.threadId, repos: t.repos })),
      ui: this.#board.status(),
    }
  }

  #armIdle(): void {
    if (this.#idleTimer || this.#conns.size > 0 || this.config.idleTimeoutSec === 0 || this.#stopping || this.#board.serving) return
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null
      // A watched process still works under its claims: stay and keep renewing them.
      if (this.#watch.active) this.#armIdle()
      else void this.stop('idle')
    }, this.config.idleTimeoutSec * 1000)
  }

  #disarmIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
    this.#idleTimer = null
  }

  stop(reason: StopReason = 'request'): Promise<StopReason> {
    this.#stopping ??= this.#stop(reason)
    return this.#stopping
  }

  async #stop(reason: StopReason): Promise<StopReason> {
    this.log(`stopping (${reason})`)
    this.#disarmIdle()
    clearInterval(this.#heartbeat)
    this.#watch.stop()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    await Promise.all([...this.#conns].map((c) => c.drain()))
    await closed
    await this.#board.stop().catch((err: unknown) => this.log(`board: ${(err as Error).message}`))
    try {
      await this.runtime.stop()
    } finally {
      rmSync(this.paths.socket, { force: true })
      removeLockFile(this.paths.lock)
      await this.mutex.release()
      this.log('stopped')
      this.#resolveStopped(reason)
    }
    return reason
  }
}
