/**
 * A server process a test starts and stops: spawned in its own process group
 * (so stop() also ends whatever it forked: CGI programs, sshd sessions,
 * upload-pack), ready once its port accepts a connection, bounded in every
 * wait. Used by the git servers in this folder (git daemon, lighttpd with
 * git-http-backend, sshd, ssh-agent).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects after `timeoutMs` or when `gone()` says the server died. */
export async function listening(port: number, timeoutMs: number, gone: () => string | null = () => null): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    const why = gone()
    if (why !== null) throw new Error(`server on port ${port} exited before listening: ${why}`)
    if (Date.now() > until) throw new Error(`nothing listened on ${port} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export interface ServerProcess {
  child: ChildProcess
  /** What it printed on stderr (the tail), for failure messages. */
  stderr(): string
  /** Why it is gone, or null while it runs. */
  gone(): string | null
  /** SIGTERM to its process group, SIGKILL after 3 s; resolves once it exited. Idempotent. */
  stop(): Promise<void>
}

/** Spawns `cmd args` detached (its own process group), stdin closed, stderr kept (16 KiB tail). */
export function startProcess(cmd: string, args: string[], opts: SpawnOptions = {}): ServerProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts, detached: true })
  let err = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (s: string) => { err = (err + s).slice(-16_384) })
  const exited = once(child, 'exit').catch(() => undefined)
  let spawnError: Error | null = null
  child.on('error', (e) => { spawnError = e })
  let stopped: Promise<void> | null = null
  return {
    child,
    stderr: () => err,
    gone: () => {
      if (spawnError) return `cannot start ${cmd}: ${(spawnError as Error).message}`
      if (child.exitCode !== null || child.signalCode !== null) return `exit ${child.exitCode ?? child.signalCode}: ${err.trim().slice(-2000)}`
      return null
    },
    stop: () => {
      stopped ??= (async () => {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
        try { process.kill(-child.pid, 'SIGTERM') } catch { /* already gone */ }
        const timer = setTimeout(() => { try { process.kill(-(child.pid as number), 'SIGKILL') } catch { /* gone */ } }, 3_000)
        await exited
        clearTimeout(timer)
      })()
      return stopped
    },
  }
}
