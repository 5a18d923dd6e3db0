/**
 * Shared by the board's tests: a daemon in this process serving a real
 * repository, the board started over the daemon's socket exactly as
 * `cairn ui` does, and raw HTTP requests (node:http, so a test can send any
 * Host, method, header or body a hostile client could). Every wait is
 * bounded; the daemon is stopped in teardown.
 */
import { request as httpRequest } from 'node:http'
import { connect, type DaemonClient } from '../../../../lib/daemon/client.ts'
import type { BoardInfo } from '../../../../lib/daemon/board-host.ts'
import type { Daemon } from '../../../../lib/daemon/server.ts'
import { sandbox, type Sandbox } from '../../../helpers/tmp-repos.ts'
import { inProcessDaemon } from '../daemon/daemon-helpers.ts'

type Teardown = { teardown(fn: () => unknown): void }

export interface HttpAnswer { status: number; headers: Record<string, string | string[] | undefined>; text: string; json(): any }

export interface BoardFixture {
  box: Sandbox
  repo: string
  daemon: Daemon
  client: DaemonClient
  /** `ui.start` over the socket, as `cairn ui` sends it. */
  start(args?: Record<string, unknown>, agent?: string): Promise<BoardInfo>
  info: BoardInfo
  token: string
  port: number
  /** One HTTP request to the board; `auth` adds the token as a Bearer header. */
  http(path: string, opts?: { method?: string; headers?: Record<string, string>; body?: string | Buffer; auth?: boolean; timeoutMs?: number }): Promise<HttpAnswer>
}

export async function boardFixture(t: Teardown, args: Record<string, unknown> = {}): Promise<BoardFixture> {
  const box = sandbox()
  const repo = box.repo('repo')
  const daemon = await inProcessDaemon(t, { home: box.home, idleTimeoutSec: 0 })
  const client = await connect(box.home)
  t.teardown(async () => { client.close(); await daemon.stop(); box.cleanup() })
  const f: BoardFixture = {
    box, repo, daemon, client,
    start: async (a = {}, agent) => {
      const info = await client.request<BoardInfo>('ui.start', { repo, ...(agent ? { agent } : {}), args: { port: 0, ...a } }, { timeoutMs: 20_000 })
      f.info = info
      f.token = new URL(info.url).searchParams.get('token') ?? ''
      f.port = info.port
      return info
    },
    info: null as never,
    token: '',
    port: 0,
    http: (path, opts = {}) => http(f.port, path, { ...opts, headers: { ...(opts.auth ? { authorization: `Bearer ${f.token}` } : {}), ...opts.headers } }),
  }
  await f.start(args)
  return f
}

/** One raw HTTP request to 127.0.0.1:`port`, bounded by `timeoutMs`. */
export function http(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...opts.headers }, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (s: string) => { text += s })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`HTTP ${path.slice(0, 80)} timed out`)))
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}
