/**
 * The daemon target: the real daemon in a child process (daemon-process.ts)
 * on a home of the run's own, reached through the real client
 * (lib/daemon/client.ts), one connection per agent as separate CLI or agent
 * processes would hold. Every operation is one request over the Unix socket.
 *
 * Loaded lazily: when the daemon modules are missing or fail to load, daemon
 * mode reports why instead of failing the embedded runs.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DaemonClient } from '../../lib/daemon/client.ts'
import type { OpKind } from './mix.ts'
import { stopChild } from '../lib/child.ts'
import { ALL_OPS, type HeldLease, type OpenTarget, type Session, type Target } from './target.ts'

/** How long the daemon may take to serve (tsx compiles it, the runtime starts its threads). */
const START_TIMEOUT_MS = 30_000

type Connect = (home: string, opts?: { timeoutMs?: number; client?: string }) => Promise<DaemonClient>

interface LeaseView { resource: string; token: number }

function session(agent: string, client: DaemonClient, repo: string, remote: string): Session {
  const call = <T>(method: string, args: Record<string, unknown>): Promise<T> => client.request<T>(method, { repo, agent, args })
  const held = (v: LeaseView): HeldLease => ({
    resource: v.resource,
    renew: async (ttlMs) => { await call('locks.renew', { resource: v.resource, token: v.token, ttlMs }) },
    release: async () => { await call('locks.release', { resource: v.resource, token: v.token }) },
  })
  return {
    agent,
    create: (fields) => call<{ id: string }>('issues.create', fields),
    comment: (id, body) => call('issues.comment', { id, body }),
    label: (id, change) => call('issues.label', { id, ...change }),
    update: (id, fields) => call('issues.update', { id, ...fields }),
    close: (id) => call('issues.close', { id }),
    claimNext: async (ttlMs) => {
      const won = await call<{ issue: { id: string }; lease: LeaseView } | null>('issues.claim', { ttlMs })
      return won === null ? null : { issueId: won.issue.id, lease: held(won.lease) }
    },
    acquire: async (resource, ttlMs) => held(await call<LeaseView>('locks.acquire', { resource, ttlMs })),
    sync: () => call('sync', { remote }),
  }
}

async function startChild(home: string, threads: number): Promise<{ child: ChildProcess; pid: number }> {
  const entry = fileURLToPath(new URL('./daemon-process.ts', import.meta.url))
  const child = fork(entry, [home, String(threads)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  let timer: NodeJS.Timeout | undefined
  try {
    const [msg] = await Promise.race([
      once(child, 'message') as Promise<[{ pid: number }]>,
      once(child, 'exit').then(([code]) => { throw new Error(`the daemon exited before serving (code ${code})`) }),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`the daemon did not serve within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS) }),
    ])
    return { child, pid: msg.pid }
  } catch (err) {
    await stopChild(child, 10_000)
    throw err
  } finally {
    clearTimeout(timer)
  }
}

function daemonOpener(connect: Connect): OpenTarget {
  return async (opts) => {
    const repo = opts.dirs.repo(opts.name)
    const remote = join(opts.dirs.root, `${opts.name}-remote.git`)
    execFileSync('git', ['init', '-q', '--bare', remote])
    const home = opts.dirs.home(opts.name)
    const { child, pid } = await startChild(home, opts.threads)
    const clients: DaemonClient[] = []
    const close = async (): Promise<void> => {
      for (const c of clients.splice(0)) c.close()
      await stopChild(child, 10_000)
    }
    try {
      const probe = await connect(home, { client: 'cairn-bench' })
      clients.push(probe)
      const supports = new Set<OpKind>(ALL_OPS)
      const missing: Partial<Record<OpKind, string>> = {}
      try {
        await probe.request('sync', { repo, agent: 'bench-probe', args: { remote } })
      } catch (err) {
        supports.delete('sync')
        missing.sync = `the daemon's sync failed on an empty repository: ${(err as Error).message}`
      }
      return {
        mode: 'daemon',
        supports,
        missing,
        serverPid: pid,
        session: async (agent) => {
          const c = await connect(home, { client: 'cairn-bench' })
          clients.push(c)
          return session(agent, c, repo, remote)
        },
        close,
      } satisfies Target
    } catch (err) {
      await close()
      throw err
    }
  }
}

/**
 * The daemon target when lib/daemon/ can serve one, else why not.
 * @example const { open, problem } = await loadDaemonTarget()
 */
export async function loadDaemonTarget(): Promise<{ open: OpenTarget | null; problem: string | null }> {
  try {
    const client = await import('../../lib/daemon/client.ts') as { connect?: unknown }
    const server = await import('../../lib/daemon/server.ts') as { startDaemon?: unknown }
    if (typeof client.connect !== 'function') return { open: null, problem: 'lib/daemon/client.ts has no connect()' }
    if (typeof server.startDaemon !== 'function') return { open: null, problem: 'lib/daemon/server.ts has no startDaemon()' }
    return { open: daemonOpener(client.connect as Connect), problem: null }
  } catch (err) {
    return { open: null, problem: `the daemon modules do not load: ${(err as Error).message}` }
  }
}
