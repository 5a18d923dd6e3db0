/**
 * The public facade: validates options, starts the repository threads, then
 * loads and starts the rest of the runtime (runtime.ts), resolving when it
 * is serving.
 *
 * Why the threads come first: a thread takes ~100-150 ms to start and load
 * its module (lmdb, xstate, Cairn's thread code), and the runtime this
 * thread runs needs ~60 ms to load the same packages here. Started first,
 * the threads load while this thread does, and an open waits for the slower
 * of the two instead of their sum. So this module imports nothing heavy:
 * `import 'cairn'` loads options, the thread slots and Piscina.
 */
import { resolveOptions, type RuntimeOptions } from './options.ts'
import { HOST_ENTRY } from '../host/entry.ts'
import { missingHostModule, startThreadSlots } from '../../actors/supervisor/thread-slot.ts'
import type { Runtime } from './runtime.ts'

export type { Runtime, RuntimeStatus } from './runtime.ts'

/**
 * Starts a runtime.
 * @example
 *   const runtime = await createRuntime({ threads: 2 })
 *   const repo = await runtime.repo(process.cwd(), { agent: 'planner' })
 *   const issue = await repo.issues.create({ title: 'Design the API' })
 *   await repo.issues.comment(issue.id, 'draft up', { opId: 'c-1' })
 *   await runtime.stop()
 */
export async function createRuntime(options?: RuntimeOptions): Promise<Runtime> {
  const resolved = { ...resolveOptions(options), hostEntry: HOST_ENTRY }
  // A missing host module is reported by the Supervisor, the same way every time, before any thread starts.
  const slots = missingHostModule(HOST_ENTRY) === null ? startThreadSlots(resolved) : undefined
  let startRuntime: typeof import('./runtime.ts').startRuntime
  try {
    ({ startRuntime } = await import('./runtime.ts'))
  } catch (err) {
    await Promise.all((slots ?? []).map((s) => s.destroy()))
    throw err
  }
  return startRuntime({ ...resolved, slots })
}
