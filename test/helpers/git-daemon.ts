/**
 * Network git for tests, on 127.0.0.1 only: a free port, and `git daemon`
 * serving a directory of repositories, started and stopped by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process'
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

async function listening(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`git daemon did not listen on ${port} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export interface GitDaemon { url(repo: string): string; port: number; stop(): Promise<void> }

/**
 * `git daemon --export-all --enable=receive-pack` serving `base` on
 * 127.0.0.1 only, in its own process group so stop() also ends the
 * upload-pack/receive-pack children it forked. Resolves once it accepts.
 */
export async function startGitDaemon(base: string): Promise<GitDaemon> {
  const port = await freePort()
  const child: ChildProcess = spawn('git', ['daemon', '--export-all', '--enable=receive-pack', '--reuseaddr', '--informative-errors',
    `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base], { stdio: 'ignore', detached: true })
  const exited = once(child, 'exit')
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    if (child.exitCode !== null || child.signalCode !== null) return
    try { process.kill(-(child.pid as number), 'SIGTERM') } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-(child.pid as number), 'SIGKILL') } catch { /* gone */ } }, 3_000)
    await exited
    clearTimeout(timer)
  }
  try {
    await listening(port, 5_000)
  } catch (err) {
    await stop()
    throw err
  }
  return { port, url: (repo) => `git://127.0.0.1:${port}/${repo}`, stop }
}
