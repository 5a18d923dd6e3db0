/**
 * A repository thread loads the hosting code (serve.ts: lmdb, xstate, the
 * actors) only when told to at start (`loadNow`, the Supervisor's first
 * thread) or at its first task: an idle second thread stays a bare isolate.
 */
import t from 'tap'
import type { Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { HostWorkerData } from '../../../../lib/kernel/host-task.ts'
import { startThreadSlots } from '../../../../actors/supervisor/thread-slot.ts'

const HOST = new URL('../../../../lib/host/host.ts', import.meta.url).href

function pool(workerData: HostWorkerData): Piscina {
  return new Piscina({ filename: HOST, minThreads: 1, maxThreads: 1, atomics: 'disabled', workerData })
}

/** The pool's thread, once Piscina says it started and loaded host.ts (bounded: 30 s). */
async function startedWorker(p: Piscina): Promise<Worker> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no thread within 30 s')), 30_000) })
  await Promise.race([new Promise((r) => p.once('workerCreate', r)), timeout]).finally(() => clearTimeout(timer))
  return p.threads[0]!
}

/** What the thread says of its hosting code, without loading it. */
function state(p: Piscina): Promise<string> {
  return p.run(undefined, { name: 'hostingState' }) as Promise<string>
}

t.test('a thread started without loadNow holds no hosting code until its first task', async (t) => {
  const p = pool({ loadNow: false })
  t.teardown(() => p.destroy())
  const w = await startedWorker(p)
  await new Promise((r) => setTimeout(r, 500)) // time enough for a load nobody asked for
  t.equal(await state(p), 'idle', 'idle: nothing loaded')
  t.equal(await p.run(undefined, { name: 'probe' }), w.threadId, 'the probe answers its thread id')
  t.equal(await state(p), 'loaded', 'after a task it is loaded')
})

t.test('a thread started with loadNow loads it by itself', async (t) => {
  const p = pool({ loadNow: true })
  t.teardown(() => p.destroy())
  const w = await startedWorker(p)
  let now = await state(p)
  t.not(now, 'idle', 'it started loading with no task run')
  for (let i = 0; i < 150 && now !== 'loaded'; i++) {
    await new Promise((r) => setTimeout(r, 200))
    now = await state(p)
  }
  t.equal(now, 'loaded', 'and loads by itself (30 s at most)')
  t.equal(await p.run(undefined, { name: 'probe' }), w.threadId, 'the probe answers')
})

t.test('the runtime\'s threads: the first loads at once, the others on their first task', async (t) => {
  const slots = startThreadSlots({ threads: 3, hostEntry: HOST, reposPerThread: 4, idleCloseMs: 0 })
  t.teardown(() => Promise.all(slots.map((s) => s.destroy())))
  t.equal(typeof await slots[0]!.probe(), 'number', 'the first thread answers the probe')
  t.equal(await slots[0]!.hostingState(), 'loaded')
  t.strictSame(await Promise.all(slots.slice(1).map((s) => s.hostingState())), ['idle', 'idle'], 'the others have loaded nothing')
})
