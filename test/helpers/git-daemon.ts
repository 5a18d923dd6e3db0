/**
 * Network git for tests, on 127.0.0.1 only: `git daemon` serving a
 * directory of repositories, started and stopped by the test.
 */
import { freePort, listening, startProcess } from './server-process.ts'

export { freePort }

export interface GitDaemon { url(repo: string): string; port: number; stop(): Promise<void> }

/**
 * `git daemon --export-all --enable=receive-pack` serving `base` on
 * 127.0.0.1 only, in its own process group so stop() also ends the
 * upload-pack/receive-pack children it forked. Resolves once it accepts.
 * @example const d = await startGitDaemon(dir); await repo.sync({ remote: d.url('remote.git') }); await d.stop()
 */
export async function startGitDaemon(base: string): Promise<GitDaemon> {
  const port = await freePort()
  const server = startProcess('git', ['daemon', '--export-all', '--enable=receive-pack', '--reuseaddr', '--informative-errors',
    `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base])
  try {
    await listening(port, 5_000, server.gone)
  } catch (err) {
    await server.stop()
    throw err
  }
  return { port, url: (repo) => `git://127.0.0.1:${port}/${repo}`, stop: server.stop }
}
