/**
 * A repository thread that cannot start reaches the caller as a coded error
 * carrying its cause, at once, with no restart loop: a host module that does
 * not exist or throws while loading fails the runtime's start; a host task
 * that throws fails the repository's open. And a stop during boot is honoured,
 * and a boot that fails after createRuntime started its threads ends them.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CHANNELS, isCairnError } from '../../../../lib/index.ts'
import { resolveOptions } from '../../../../lib/api/options.ts'
import { HOST_ENTRY } from '../../../../lib/host/entry.ts'
import { Supervisor } from '../../../../actors/supervisor/supervisor.ts'
import { startThreadSlots } from '../../../../actors/supervisor/thread-slot.ts'
import { captureChannel, sandbox } from '../../../helpers/tmp-repos.ts'

const fixture = (name: string): string => pathToFileURL(fileURLToPath(new URL(`../../../fixtures/hosts/${name}`, import.meta.url))).href

function supervisor(home: string, hostEntry: string, threads = 1): Supervisor {
  return new Supervisor({ ...resolveOptions({ home, threads, watchdog: false }), hostEntry })
}

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

async function startError(t: Test, hostEntry: string): Promise<unknown> {
  const box = sandbox()
  t.teardown(box.cleanup)
  const sup = supervisor(box.home, hostEntry, 2)
  const err = await sup.start().then(() => null, (e: unknown) => e)
  t.equal(sup.lifecycle(), 'stopped', 'the runtime cleaned up: its threads and home store are closed')
  return err
}

t.test('a host module that does not exist: start() rejects UNAVAILABLE with the loader error as cause', async (t) => {
  const missing = fixture('no-such-host.ts')
  const err = await startError(t, missing)
  t.ok(isCairnError(err, 'UNAVAILABLE'), String(err))
  t.match((err as { details: unknown }).details, { cause: { code: 'ERR_MODULE_NOT_FOUND', message: /no-such-host/ }, hostEntry: missing })
  t.match((err as Error).message, /repository threads cannot start: .*no-such-host/)
})

t.test('a host module that throws while loading: start() rejects UNAVAILABLE with its error as cause', async (t) => {
  const err = await startError(t, fixture('throws-on-load.mjs'))
  t.ok(isCairnError(err, 'UNAVAILABLE'), String(err))
  t.match((err as { details: unknown }).details, { cause: { name: 'Error', message: 'bad build: host module threw while loading' } })
})

t.test('a host task that throws at start: openRepo fails fast with the cause, each time, no restart loop', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const died = captureChannel(CHANNELS.threadDied, (fn) => t.teardown(fn))
  const restarted = captureChannel(CHANNELS.actorRestarted, (fn) => t.teardown(fn))
  const sup = supervisor(box.home, fixture('throws-on-task.ts'))
  await sup.start()
  t.teardown(() => sup.stop())
  const path = box.repo('r')
  for (let attempt = 1; attempt <= 2; attempt++) {
    const err = await sup.openRepo(path).then(() => null, (e: unknown) => e)
    t.ok(isCairnError(err, 'UNAVAILABLE'), `attempt ${attempt}: ${String(err)}`)
    // The error crosses from the thread by structured clone: its name and message survive, its own fields do not.
    t.match((err as { details: unknown }).details, { cause: { name: 'Error', message: 'native binding not found for this thread' } })
    t.equal(died.length, attempt, 'one launch per open: cairn:thread:died once, with the cause')
  }
  t.match(died[0], { repo: /^[0-9a-f]{16}$/, cause: { message: 'native binding not found for this thread' } })
  t.equal(restarted.length, 0, 'nothing was restarted')
  t.strictSame((await sup.status()).actors.map((a) => a.supervision), ['failed', 'failed', 'failed'])
})

t.test('stop() during boot is honoured: start() rejects STOPPED, stop() resolves', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const sup = supervisor(box.home, HOST_ENTRY)
  const started = sup.start().then(() => null, (e: unknown) => e)
  await sup.stop()
  t.equal(sup.lifecycle(), 'stopped')
  t.ok(isCairnError(await started, 'STOPPED'), 'start() tells the caller it was stopped')
})

t.test('stop() while a repository thread boots stops it once it can, and resolves', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const sup = supervisor(box.home, HOST_ENTRY)
  await sup.start()
  const opening = sup.openRepo(box.repo('r')).then(() => null, (e: unknown) => e)
  await sup.stop()
  t.equal(sup.lifecycle(), 'stopped')
  const err = await opening
  t.ok(err === null || isCairnError(err, 'STOPPED'), `the open ends too (${String(err)})`)
})

function damagedHome(t: Test): string {
  const box = sandbox()
  t.teardown(box.cleanup)
  mkdirSync(join(box.home, 'store'), { recursive: true })
  writeFileSync(join(box.home, 'store', 'data.mdb'), Buffer.alloc(64 * 1024, 0x5a))
  return box.home
}

t.test('threads started before the boot (as createRuntime does) end when the boot fails', async (t) => {
  const home = damagedHome(t)
  const resolved = { ...resolveOptions({ home, threads: 2, watchdog: false }), hostEntry: HOST_ENTRY }
  const slots = startThreadSlots(resolved)
  t.ok(slots.every((s) => s.threadId !== null), 'their threads run before the Supervisor exists')
  const sup = new Supervisor({ ...resolved, slots })
  const err = await sup.start().then(() => null, (e: unknown) => e)
  t.ok(isCairnError(err, 'STORE_CORRUPT'), String(err))
  t.equal(sup.lifecycle(), 'stopped')
  t.same(slots.map((s) => s.threadId), [null, null], 'the Supervisor owned them: no thread is left')
})

t.test('createRuntime on a damaged home store: STORE_CORRUPT, and the process ends by itself', async (t) => {
  const home = damagedHome(t)
  const index = pathToFileURL(fileURLToPath(new URL('../../../../lib/index.ts', import.meta.url))).href
  // A child that ends only if nothing holds the loop: no timer, no open handle (Piscina's threads are unref'd, so the test above checks those).
  const code = `const { createRuntime } = await import(${JSON.stringify(index)})
const t0 = Date.now()
try { await createRuntime({ home: ${JSON.stringify(home)}, threads: 2 }); console.log('started') } catch (err) { console.log(err.code) }
process.on('exit', () => console.log('exit after ' + (Date.now() - t0) + ' ms'))`
  const r = spawnSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 })
  t.equal(r.signal, null, `the process ended by itself (${r.stderr.slice(0, 500)})`)
  t.equal(r.status, 0)
  const lines = r.stdout.trim().split('\n')
  t.equal(lines[0], 'STORE_CORRUPT', 'the caller learns why')
  t.match(lines[1], /^exit after \d+ ms$/, 'and nothing kept the process alive')
})
