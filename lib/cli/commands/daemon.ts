/**
 * `cairn daemon start|stop|status|restart`. `status` and `stop` always ask
 * the daemon itself (a round trip), never the lock file: a lock file
 * survives `kill -9` and would lie.
 */
import { Command } from 'commander'
import { CairnError } from '../../../protocol/errors.ts'
import { connect, probe, type DaemonClient } from '../../daemon/client.ts'
import { daemonPaths } from '../../daemon/paths.ts'
import type { DaemonStatus } from '../../daemon/server.ts'
import { connectOrSpawn, helloFromSlowDaemon, isNoHello, isNotAnswering } from '../../daemon/spawn.ts'
import { isNameHeld } from '../../daemon/home-mutex.ts'
import { pidAlive } from '../../daemon/lock-file.ts'
import { intFlag, type Cli } from '../context.ts'

type Opts = Record<string, unknown>

const STOP_WAIT_MS = 30_000

function startFlags(o: Opts): string[] {
  const flags: string[] = []
  if (o.idleTimeout !== undefined) flags.push('--idle-timeout', String(o.idleTimeout))
  if (o.maxConnections !== undefined) flags.push('--max-connections', String(o.maxConnections))
  if (o.threads !== undefined) flags.push('--threads', String(o.threads))
  if (o.idleClose !== undefined) flags.push('--idle-close', String(o.idleClose))
  if (o.reposPerThread !== undefined) flags.push('--repos-per-thread', String(o.reposPerThread))
  return flags
}

/** The daemon's connection; null when none listens; UNAVAILABLE (daemon-not-answering) when one holds the home silently (see helloFromSlowDaemon). */
async function reach(home: string): Promise<DaemonClient | null> {
  try {
    return await connect(home, { client: 'cairn-cli', timeoutMs: 3000 })
  } catch (err) {
    if (isNoHello(err)) return helloFromSlowDaemon(home, 'cairn-cli')
    if (err instanceof CairnError && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT')) return null
    throw err
  }
}

/**
 * `stop --force` for a daemon that does not answer: SIGKILL the pid its lock
 * file names, only while that process is alive and the home is still held
 * (so the pid is the holder, not a reused one), then wait for the home to
 * be free. The next start replaces the files it left.
 */
async function killSilentDaemon(home: string, err: CairnError): Promise<{ wasRunning: boolean; pid?: number; killed?: boolean }> {
  const pid = (err.details as { pid?: unknown } | undefined)?.pid
  const { mutexName } = daemonPaths(home)
  if (typeof pid !== 'number' || !pidAlive(pid) || !(await isNameHeld(mutexName))) throw err
  process.kill(pid, 'SIGKILL')
  const until = Date.now() + STOP_WAIT_MS
  for (let i = 0; i < 100_000 && await isNameHeld(mutexName); i++) {
    if (Date.now() > until) throw new CairnError('TIMEOUT', `the daemon (pid ${pid}) still holds ${home} ${STOP_WAIT_MS / 1000} s after SIGKILL`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return { wasRunning: true, pid, killed: true }
}

async function stopDaemon(home: string, force = false): Promise<{ wasRunning: boolean; pid?: number; killed?: boolean }> {
  let client: DaemonClient | null
  try {
    client = await reach(home)
  } catch (err) {
    if (force && isNotAnswering(err)) return killSilentDaemon(home, err)
    throw err
  }
  if (!client) return { wasRunning: false }
  const pid = client.hello.pid
  await client.request('daemon.stop', {}, { timeoutMs: 10_000 }).catch((err: unknown) => {
    if (!(err instanceof CairnError && err.code === 'UNAVAILABLE')) throw err
  })
  await client.closed
  const socket = daemonPaths(home).socket
  const until = Date.now() + STOP_WAIT_MS
  while ((await probe(socket, 1000)) !== null) {
    if (Date.now() > until) throw new CairnError('TIMEOUT', `the daemon (pid ${pid}) did not stop within ${STOP_WAIT_MS / 1000} s`)
    await new Promise((r) => setTimeout(r, 50))
  }
  // The socket goes first; the process still closes and seals its stores. Stopped means gone:
  // `cairn compact` or moving the repository right after must not find the store in use.
  while (pid !== process.pid && pidAlive(pid)) {
    if (Date.now() > until) throw new CairnError('TIMEOUT', `the daemon (pid ${pid}) stopped answering but did not exit within ${STOP_WAIT_MS / 1000} s`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return { wasRunning: true, pid }
}

async function startDetached(home: string, o: Opts): Promise<{ pid: number; socket: string; home: string }> {
  const running = await probe(daemonPaths(home).socket, 2000)
  if (running) throw new CairnError('BUSY', `a daemon is already running for ${home} (pid ${running.pid})`, { pid: running.pid })
  const { client, launched } = await connectOrSpawn(home, { flags: startFlags(o) })
  const pid = client.hello.pid
  client.close()
  if (launched === null || launched !== pid) throw new CairnError('BUSY', `another daemon started for ${home} meanwhile (pid ${pid})`, { pid })
  return { pid, socket: daemonPaths(home).socket, home }
}

export function daemonCommand(cli: Cli): Command {
  const daemon = new Command('daemon').description('the background process that keeps repositories warm')

  daemon.command('start').description('start the daemon of this CAIRN_HOME (detached unless --foreground)')
    .option('--foreground', 'stay attached; stop on SIGTERM/SIGINT')
    .option('--idle-timeout <sec>', 'stop after this long without connections (0: never)', intFlag(0, 7 * 86_400))
    .option('--max-connections <n>', 'connections served at once; more are answered BUSY', intFlag(1, 65_536))
    .option('--threads <n>', 'runtime worker threads', intFlag(1, 64))
    .option('--idle-close <sec>', 'close repositories nobody used for this long (0: never; default 120)', intFlag(0, 7 * 86_400))
    .option('--repos-per-thread <n>', 'repositories a thread hosts at once (default 128)', intFlag(1, 1024))
    .action(async (o: Opts, cmd: Command) => {
      const { home } = cli.globals(cmd)
      if (!o.foreground) {
        await cli.guard(cmd, async () => {
          const r = await startDetached(home, o)
          cli.print(cmd, r, (() => `cairn daemon: started (pid ${r.pid}) on ${r.socket}`) as never)
        })
        return
      }
      await cli.guard(cmd, async () => {
        // Loaded here only: the runtime's module graph would slow every other command.
        const { startDaemon } = await import('../../daemon/server.ts')
        const d = await startDaemon({
          home,
          ...(o.idleTimeout !== undefined ? { idleTimeoutSec: o.idleTimeout as number } : {}),
          ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections as number } : {}),
          ...(o.threads !== undefined ? { threads: o.threads as number } : {}),
          ...(o.idleClose !== undefined ? { idleCloseSec: o.idleClose as number } : {}),
          ...(o.reposPerThread !== undefined ? { reposPerThread: o.reposPerThread as number } : {}),
          log: (line) => cli.io.err(`cairn daemon: ${line}\n`),
        })
        const onSignal = (): void => { void d.stop('signal') }
        process.once('SIGTERM', onSignal)
        process.once('SIGINT', onSignal)
        cli.print(cmd, { pid: d.pid, socket: d.paths.socket, home: d.paths.home, replacedStale: d.replaced.lock !== null || d.replaced.socket },
          (() => `cairn daemon: serving ${d.paths.home} on ${d.paths.socket} (pid ${d.pid})`) as never)
        await d.stopped
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', onSignal)
      })
    })

  daemon.command('stop').description('stop the daemon gracefully (finishes in-flight requests)')
    .option('--force', 'a daemon that does not answer (stopped or hung) is killed (SIGKILL)')
    .action(async (o: Opts, cmd: Command) => {
      await cli.guard(cmd, async () => {
        const r = await stopDaemon(cli.globals(cmd).home, o.force === true)
        cli.print(cmd, r, (() => (r.killed ? `cairn daemon: killed (pid ${r.pid}); it did not answer` : r.wasRunning ? `cairn daemon: stopped (pid ${r.pid})` : 'cairn daemon: not running')) as never)
      })
    })

  daemon.command('status').description('ask the daemon how it is (exit 10 when none runs)')
    .action(async (_o: Opts, cmd: Command) => {
      await cli.guard(cmd, async () => {
        const { home } = cli.globals(cmd)
        const client = await reach(home)
        if (!client) throw new CairnError('UNAVAILABLE', `no daemon is running for ${home}`, { reason: 'no-daemon' })
        try {
          const s = await client.request<DaemonStatus>('daemon.status', {}, { timeoutMs: 10_000 })
          cli.print(cmd, s, (() => `cairn daemon: running (pid ${s.pid}, up ${Math.round(s.uptimeMs / 1000)} s, protocol ${s.protocol}, ${s.connections} connections, ${s.requests} requests, ${Math.round(s.rssBytes / 1048576)} MiB)\nhome ${s.home}\nsocket ${s.socket}${s.repos.length ? `\nrepositories:\n  ${s.repos.join('\n  ')}` : ''}`) as never)
        } finally {
          client.close()
        }
      })
    })

  daemon.command('restart').description('stop the daemon (if running) and start it again, detached')
    .option('--idle-timeout <sec>', 'as for start', intFlag(0, 7 * 86_400))
    .option('--max-connections <n>', 'as for start', intFlag(1, 65_536))
    .option('--threads <n>', 'as for start', intFlag(1, 64))
    .option('--idle-close <sec>', 'as for start', intFlag(0, 7 * 86_400))
    .option('--repos-per-thread <n>', 'as for start', intFlag(1, 1024))
    .action(async (o: Opts, cmd: Command) => {
      await cli.guard(cmd, async () => {
        const { home } = cli.globals(cmd)
        const stopped = await stopDaemon(home)
        const r = await startDetached(home, o)
        cli.print(cmd, { ...r, previousPid: stopped.pid ?? null }, (() => `cairn daemon: restarted (pid ${r.pid})`) as never)
      })
    })

  return daemon
}
