/**
 * Where an MCP session's tool calls run: the home's daemon (started on
 * demand, as the CLI does) or, with `--no-daemon`, an embedded runtime.
 *
 * A session lives for hours, longer than any one daemon may: when the
 * daemon's connection is gone (it stopped, crashed or was replaced), the
 * next call reaches (or starts) a daemon again. A call in flight when the
 * connection broke fails UNAVAILABLE and is not retried here: a write may
 * or may not have applied, and only the caller (with an `opId`) can retry
 * it safely.
 *
 * There is no silent fallback to an embedded runtime: an embedded runtime
 * holds the home for as long as it runs, which for a session would lock
 * every other agent's CLI and session out of the home.
 */
import type { DaemonClient } from '../daemon/client.ts'
import { connectOrSpawn } from '../daemon/spawn.ts'
import { embeddedExecutor, type CallOptions, type Executor, type Target } from '../cli/executor.ts'

export interface Backend {
  readonly mode: 'daemon' | 'embedded'
  call<T = unknown>(method: string, args: Record<string, unknown>, opts?: CallOptions): Promise<T>
  close(): Promise<void>
}

/** The daemon of `target.home`, reconnected on demand. */
export function daemonBackend(target: Required<Target>): Backend {
  let client: Promise<DaemonClient> | null = null
  let closed = false
  const connected = (): Promise<DaemonClient> => {
    if (client === null) {
      const c = connectOrSpawn(target.home, { client: `cairn-mcp:${target.agent}` }).then((r) => r.client)
      client = c
      // A connection that ends, or never came, is replaced by the next call.
      c.then((cl) => cl.closed, () => undefined).then(() => { if (client === c) client = null }, () => undefined)
    }
    return client
  }
  return {
    mode: 'daemon',
    call: async (method, args, opts = {}) => {
      if (closed) throw new Error('backend closed')
      const c = await connected()
      return c.request(method, { repo: target.repo, agent: target.agent, args }, opts)
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
