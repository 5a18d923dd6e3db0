/**
 * Auto-start: reach the daemon of a home, starting it if nobody serves it.
 *
 * Race-safe in two layers: callers that find no daemon take a spawn mutex
 * (kernel-held, released if the caller dies), so of 20 CLIs started at once
 * only one launches a process while the others poll the socket; and the
 * daemon itself takes the home mutex, so even two launches (a `daemon start`
 * racing an auto-start) end with exactly one daemon, the loser exiting BUSY.
 *
 * The daemon is launched detached, its output appended to
 * `$CAIRN_HOME/daemon.log`, so it outlives the command that started it.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CairnError } from '../../protocol/errors.ts'
import { connect, type DaemonClient } from './client.ts'
import { tryLockName } from './home-mutex.ts'
import { HEARTBEAT_MS, pidAlive, readLockFile } from './lock-file.ts'
import { daemonPaths, ensureHome } from './paths.ts'

/** Running from the sources (tests, tsx) rather than the compiled package. */
const FROM_SOURCES = import.meta.url.endsWith('.ts')

/**
 * Node arguments that run the `cairn` command matching this code: the
 * compiled bin beside this code in the package's bundle (dist/bundle/cairn.js,
 * scripts/build.mjs), or from the sources lib/cli/bin.ts with tsx's loader on
 * the command line, where the daemon's worker threads inherit it (a loader
 * registered in code is not inherited).
 * @example spawn(process.execPath, [...cairnCommand(), 'daemon', 'status'])
 */
export function cairnCommand(): string[] {
  const bin = fileURLToPath(new URL(FROM_SOURCES ? '../cli/bin.ts' : './cairn.js', import.meta.url))
  return FROM_SOURCES ? [`--import=${import.meta.resolve('tsx')}`, bin] : [bin]
}

export interface SpawnOptions {
  /** Overall deadline for reaching a daemon. Default 20 s. */
  timeoutMs?: number
  /** Extra `daemon start --foreground` flags (e.g. `--idle-timeout 60`). */
  flags?: string[]
  /** The launched process's environment. Default this process's. */
  env?: NodeJS.ProcessEnv
  client?: string
}

export interface SpawnResult {
  client: DaemonClient
  /** Pid of the daemon this call launched, or null when one was already serving. */
  launched: number | null
  /** A launched process that exited instead of serving (e.g. BUSY: another daemon won the race), with its exit code. */
  lostRace: boolean
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** A daemon whose heartbeat is this old does not run (its timers are frozen with it). */
const SILENT_AFTER_MS = 3 * HEARTBEAT_MS

const noDaemon = (err: unknown): boolean => err instanceof CairnError && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT')

/**
 * Connects to the daemon of `home`, launching it when none answers.
 * Fails UNAVAILABLE when no daemon can be reached or started in time.
 * @example const { client } = await connectOrSpawn(resolveHome())
 */
export async function connectOrSpawn(home: string, opts: SpawnOptions = {}): Promise<SpawnResult> {
  const client = opts.client ?? 'cairn-cli'
  try {
    return { client: await connect(home, { client, timeoutMs: 5000 }), launched: null, lostRace: false }
  } catch (err) {
    // A new daemon could not take the home from one that holds it without answering.
    if (isNoHello(err)) return { client: await helloFromSlowDaemon(home, client), launched: null, lostRace: false }
    if (!noDaemon(err)) throw err
  }
  const paths = daemonPaths(ensureHome(home))
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000)
  let lostRace = false
  let launches = 0
  for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
    const spawnLock = await tryLockName(`${paths.mutexName}:spawn`)
    if (!spawnLock) {
      // Someone else is launching: wait for their daemon to answer.
      await sleep(Math.min(20 * 2 ** Math.min(attempt, 3), 150))
      try {
        return { client: await connect(home, { client, timeoutMs: 5000 }), launched: null, lostRace }
      } catch (err) {
        if (!noDaemon(err)) throw err
      }
      continue
    }
    try {
      try {
        return { client: await connect(home, { client, timeoutMs: 5000 }), launched: null, lostRace }
      } catch (err) {
        if (!noDaemon(err)) throw err
      }
      // A launch that keeps exiting without serving is a broken setup, not a race.
      if (launches >= 3) break
      launches++
      const launched = launch(home, paths.log, opts)
      const reached = await waitServing(home, client, launched, deadline)
      if (reached) return { client: reached, launched: launched.pid, lostRace }
      lostRace = true
    } finally {
      await spawnLock.release()
    }
  }
  throw new CairnError('UNAVAILABLE', `could not start or reach a daemon for ${home}; see ${paths.log}`, { reason: 'spawn-failed' })
}

/**
 * A daemon accepted a connection but did not say hello in time. A merely
 * slow one (a loaded machine) keeps its lock file's heartbeat fresh: keep
 * trying while it does (bounded). A stopped or hung one lets it go stale:
 * then report it (UNAVAILABLE, daemon-not-answering).
 */
export async function helloFromSlowDaemon(home: string, client: string): Promise<DaemonClient> {
  const lockPath = daemonPaths(home).lock
  const until = Date.now() + SILENT_AFTER_MS + 5000
  for (let i = 0; i < 20 && Date.now() < until; i++) {
    const lock = readLockFile(lockPath)
    if (lock === null || !pidAlive(lock.pid) || Date.now() - lock.heartbeatAt > SILENT_AFTER_MS) break
    try {
      return await connect(home, { client, timeoutMs: 5000 })
    } catch (err) {
      if (!isNoHello(err)) throw err
    }
  }
  throw notAnswering(home)
}

/** The error {@link notAnswering} makes. */
export function isNotAnswering(err: unknown): err is CairnError {
  return err instanceof CairnError && (err.details as { reason?: unknown } | undefined)?.reason === 'daemon-not-answering'
}

/** The connect failed because a process accepted it and never said hello. */
export function isNoHello(err: unknown): boolean {
  return err instanceof CairnError && err.code === 'TIMEOUT' && (err.details as { reason?: unknown } | undefined)?.reason === 'no-hello'
}

/**
 * UNAVAILABLE naming the daemon that holds `home` without answering (stopped
 * with SIGSTOP, or hung), and how to end it. Nothing else can serve the home
 * meanwhile, so callers report it instead of waiting or falling back.
 */
export function notAnswering(home: string): CairnError {
  const lock = readLockFile(daemonPaths(home).lock)
  const pid = lock !== null && pidAlive(lock.pid) ? lock.pid : null
  return new CairnError('UNAVAILABLE',
    `the daemon for ${home}${pid === null ? '' : ` (pid ${pid})`} accepts connections but does not answer (stopped or hung); end it with \`cairn daemon stop --force\``,
    { reason: 'daemon-not-answering', pid })
}

/**
 * The daemon's environment: the caller's, plus a fixed glibc mmap threshold
 * unless the caller tuned malloc itself. glibc raises its threshold as large
 * blocks are freed, and then serves them from per-thread heaps that a closed
 * repository leaves fragmented: 200 repositories idled out left a daemon at
 * 258 MiB beside 143 MiB for a fresh one; with the threshold fixed at 128 KiB
 * it went back to 145 MiB beside 136 MiB (peak 304 instead of 419 MiB).
 */
export function daemonEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (Object.keys(env).some((k) => k.startsWith('MALLOC_'))) return env
  return { ...env, MALLOC_MMAP_THRESHOLD_: '131072' }
}

interface Launched { pid: number; exited: Promise<number | null>; exitCode: number | null | undefined }

function launch(home: string, logPath: string, opts: SpawnOptions): Launched {
  const log = openSync(logPath, 'a', 0o600)
  try {
    const child = spawn(process.execPath, [...cairnCommand(), 'daemon', 'start', '--foreground', '--home', home, ...(opts.flags ?? [])], {
      detached: true,
      stdio: ['ignore', log, log],
      env: daemonEnv(opts.env ?? process.env),
    })
    const launched: Launched = {
      pid: child.pid ?? -1,
      exitCode: undefined,
      exited: new Promise((resolve) => {
        child.once('exit', (code) => { launched.exitCode = code; resolve(code) })
        child.once('error', () => { launched.exitCode = null; resolve(null) })
      }),
    }
    child.unref()
    return launched
  } finally {
    closeSync(log)
  }
}

async function waitServing(home: string, client: string, launched: Launched, deadline: number): Promise<DaemonClient | null> {
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    try {
      return await connect(home, { client, timeoutMs: 5000 })
    } catch (err) {
      if (!noDaemon(err)) throw err
    }
    // The launch exited (BUSY: another daemon took the home): let the caller reconnect.
    if (launched.exitCode !== undefined) return null
    await Promise.race([sleep(Math.min(10 * 2 ** Math.min(i, 4), 100)), launched.exited])
  }
  return null
}
