/**
 * Where a CLI command runs: on the daemon (started on demand), or on an
 * embedded runtime when no daemon can be reached or started (or with
 * `--no-daemon`). Both run the same operation table (lib/daemon/operations),
 * and embedded results go through the same msgpack round trip as daemon
 * replies, so output and exit codes are identical in both modes.
 *
 * The embedded runtime holds the home's mutex while it runs: one-shot CLIs
 * on the same home take turns instead of writing one store at once, and a
 * daemon starting meanwhile waits for them.
 */
import { CairnError } from '../../protocol/errors.ts'
import { lockName, tryLockName } from '../daemon/home-mutex.ts'
import { probe, type DaemonClient } from '../daemon/client.ts'
import { HoldStore } from '../daemon/holds.ts'
import { daemonPaths, ensureHome } from '../daemon/paths.ts'
import { repoCache } from '../daemon/repo-cache.ts'
import { connectOrSpawn, isNotAnswering } from '../daemon/spawn.ts'

export interface CallOptions { onItem?: (item: unknown) => void; signal?: AbortSignal }

export interface Executor {
  readonly mode: 'daemon' | 'embedded'
  call<T = unknown>(method: string, args?: Record<string, unknown>, opts?: CallOptions): Promise<T>
  close(): Promise<void>
}

export interface Target { home: string; repo: string; agent?: string }

/** How long an embedded CLI waits for the home (another one-shot CLI finishing). */
const EMBEDDED_WAIT_MS = 60_000
/** BUSY (connection limit) is retried this long before it is reported. */
const BUSY_RETRY_MS = 5_000

export async function daemonExecutor(target: Target): Promise<Executor> {
  const until = Date.now() + BUSY_RETRY_MS
  let client: DaemonClient
  for (let i = 0; ; i++) {
    try {
      client = (await connectOrSpawn(target.home)).client
      break
    } catch (err) {
      if (!(err instanceof CairnError && err.code === 'BUSY') || Date.now() > until || i > 1000) throw err
      await new Promise((r) => setTimeout(r, Math.min(20 * 2 ** Math.min(i, 4), 250)))
    }
  }
  const body = (args: Record<string, unknown>) => ({ repo: target.repo, ...(target.agent ? { agent: target.agent } : {}), args })
  return {
    mode: 'daemon',
    call: (method, args = {}, opts = {}) => client.request(method, body(args), opts),
    close: async () => { client.close() },
  }
}

export async function embeddedExecutor(target: Target): Promise<Executor> {
  const paths = daemonPaths(ensureHome(target.home))
  let mutex = await tryLockName(paths.mutexName)
  if (!mutex) {
    // A serving daemon never lets go: say so now instead of waiting for it.
    const live = await probe(paths.socket, 2000)
    if (live) throw new CairnError('BUSY', `a daemon serves ${target.home} (pid ${live.pid}); run without --no-daemon, or stop it first`, { pid: live.pid })
    mutex = await lockName(paths.mutexName, EMBEDDED_WAIT_MS)
  }
  if (!mutex) throw new CairnError('UNAVAILABLE', `the home ${target.home} is held by a process that does not answer; try \`cairn doctor\``)
  let runtime
  try {
    const { createRuntime } = await import('../api/create-runtime.ts')
    runtime = await createRuntime({ home: target.home, threads: 1 })
  } catch (err) {
    await mutex.release()
    throw err
  }
  // Loaded here, not by every command: the operations bring their argument schemas (zod).
  const { operation, plainAnswer } = await import('../daemon/operations/index.ts')
  const open = repoCache(runtime)
  const holds = new HoldStore(paths.home)
  return {
    mode: 'embedded',
    call: async (method, args = {}, opts = {}) => {
      const op = operation(method)
      if (!op) throw new CairnError('UNKNOWN_MESSAGE', `unknown method ${JSON.stringify(method)}`)
      const value = await op.run({
        repo: () => open(target.repo, target.agent),
        signal: opts.signal ?? new AbortController().signal,
        emit: async (item) => { opts.onItem?.(plainAnswer(item)) },
        holds,
        mode: 'embedded',
        runtime,
      }, args).catch((err: unknown) => { throw CairnError.from(err) })
      return plainAnswer(value) as never
    },
    close: async () => {
      try {
        await runtime.stop()
      } finally {
        await mutex.release()
      }
    },
  }
}

/**
 * The daemon when it can be reached or started, else the embedded runtime.
 * BUSY is not a reason to fall back: a daemon serves the home and will not
 * share it; nor is a daemon that holds the home without answering.
 */
export async function chooseExecutor(target: Target, noDaemon: boolean): Promise<Executor> {
  if (noDaemon) return embeddedExecutor(target)
  try {
    return await daemonExecutor(target)
  } catch (err) {
    // A daemon that holds the home without answering leaves an embedded run nothing to take.
    if (err instanceof CairnError && err.code === 'UNAVAILABLE' && !isNotAnswering(err)) return embeddedExecutor(target)
    throw err
  }
}
