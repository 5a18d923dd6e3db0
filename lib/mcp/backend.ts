/**
 * Where an MCP session's tool calls run: the home's daemon (started on
 * demand, as the CLI does) or, with `--no-daemon`, an embedded runtime.
 *
 * A session lives for hours, longer than any one daemon may: when the
 * daemon's connection is gone (it stopped, crashed or was replaced), the
 * next call reaches (or starts) a daemon again. A read that failed because
 * the connection broke is asked once more of the next daemon; a write is
 * not: it may or may not have applied, and only the caller (with an `opId`)
 * can retry it safely.
 *
 * There is no silent fallback to an embedded runtime: an embedded runtime
 * holds the home for as long as it runs, which for a session would lock
 * every other agent's CLI and session out of the home.
 */
import { CairnError } from '../../protocol/errors.ts'
import type { DaemonClient } from '../daemon/client.ts'
import { connectOrSpawn } from '../daemon/spawn.ts'
import { embeddedExecutor, type CallOptions, type Executor, type Target } from '../cli/executor.ts'

export interface Backend {
  readonly mode: 'daemon' | 'embedded'
  call<T = unknown>(method: string, args: Record<string, unknown>, opts?: CallOptions): Promise<T>
  close(): Promise<void>
}

/** Methods that change nothing: asking them again of another daemon is safe. */
const READS = new Set(['issues.show', 'issues.list', 'issues.ready', 'issues.topo', 'issues.history', 'events.read', 'events.stats', 'locks.list', 'locks.status'])

/** The daemon of `target.home`, reconnected on demand. */
export function daemonBackend(target: Required<Target>): Backend {
  let client: Promise<DaemonClient> | null = null
  const gone = new WeakSet<DaemonClient>()
  let closed = false
  const connected = (): Promise<DaemonClient> => {
    if (client === null) {
      const c = connectOrSpawn(target.home, { client: `cairn-mcp:${target.agent}` }).then((r) => r.client)
      client = c
      // A connection that ends, or never came, is replaced by the next call.
      c.then((cl) => cl.closed.then(() => gone.add(cl)), () => undefined).then(() => { if (client === c) client = null }, () => undefined)
    }
    return client
  }
  return {
    mode: 'daemon',
    call: async (method, args, opts = {}) => {
      if (closed) throw new CairnError('STOPPED', 'the session is ending')
      const body = { repo: target.repo, agent: target.agent, args }
      const c = await connected()
      try {
        return await c.request(method, body, opts)
      } catch (err) {
        // Only a read whose connection is gone is asked again (a daemon's own UNAVAILABLE is an answer).
        if (!(err instanceof CairnError && err.code === 'UNAVAILABLE' && READS.has(method))) throw err
        await new Promise((r) => setImmediate(r))
        if (!gone.has(c)) throw err
        return (await connected()).request(method, body, opts)
      }
    },
    close: async () => {
      closed = true
      const c = client
      client = null
      if (c) (await c.catch(() => null))?.close()
    },
  }
}

/** An embedded runtime for this session alone (it holds the home until closed). */
export async function embeddedBackend(target: Required<Target>): Promise<Backend> {
  const exec: Executor = await embeddedExecutor(target)
  return { mode: 'embedded', call: (method, args, opts) => exec.call(method, args, opts), close: () => exec.close() }
}
