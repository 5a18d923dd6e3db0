/**
 * The repository thread's module (Piscina's `filename`): what every thread
 * loads when it starts. It is small on purpose: the code that hosts a
 * repository (serve.ts, with lmdb, xstate, nodegit's loader and every actor)
 * loads on the thread's first task. A thread that hosts nothing yet (the
 * second of two threads while one repository is open) then holds a bare
 * isolate, ~5 MiB less than one that loaded everything, and does not compete
 * with the first thread for the cores while the runtime opens. The first
 * thread loads it at once (`loadNow`); the Supervisor probes that thread at
 * boot, which proves it loads. Another thread pays the load (~50–100 ms)
 * when a repository is first placed on it.
 */
import { createRequire } from 'node:module'
import { threadId, workerData } from 'node:worker_threads'
import type { HostTask, HostWorkerData } from '../kernel/host-task.ts'
import type { HostExit } from './serve.ts'

export type { HostTask, HostExit }

type Serve = typeof import('./serve.ts')

let loading: Promise<Serve> | null = null
let loaded = false

/**
 * The hosting code, loaded once per thread (a load that fails fails every
 * task with its error). From the sources, threads run through tsx's
 * CommonJS hook, which does not hook a dynamic import() of a `.ts` file
 * (as lib/adapters/git/loader.ts): require() loads it there.
 */
function loadHosting(): Promise<Serve> {
  if (loading === null) {
    if (import.meta.url.endsWith('.ts')) {
      const req = typeof require === 'function' ? require : createRequire(import.meta.url)
      loading = Promise.resolve().then(() => req('./serve.ts') as Serve)
    } else {
      loading = import('./serve.ts')
    }
    loading.then(() => { loaded = true }, () => undefined)
  }
  return loading
}

/**
 * Whether this thread has loaded the hosting code (Piscina `name:
 * 'hostingState'`): a diagnostic that loads nothing itself.
 */
export function hostingState(): 'idle' | 'loading' | 'loaded' {
  return loaded ? 'loaded' : loading === null ? 'idle' : 'loading'
}

// The first thread starts loading now: its load overlaps the caller's.
if ((workerData as Partial<HostWorkerData> | null)?.loadNow === true) loadHosting().catch(() => undefined)

/**
 * The Supervisor's first task on a thread (Piscina `name: 'probe'`):
 * answering it proves the hosting code and everything it imports loaded here.
 */
export async function probe(): Promise<number> {
  await loadHosting()
  return threadId
}

export default async function host(task: HostTask): Promise<HostExit> {
  return (await loadHosting()).serve(task)
}
