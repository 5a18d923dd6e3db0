/**
 * Bad input to every supervision call gets a coded error, and the runtime
 * keeps serving: unknown paths, repositories this runtime never opened or
 * closed, closing twice, moving a closed repository, unknown threads, and
 * malformed arguments and options.
 */
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime } from '../../../../../lib/index.ts'
import { assertCoded } from '../../../../helpers/coded-error.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

t.test('each call refuses bad input with a stable code and the field named', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 2, watchdog: false })
  t.teardown(() => rt.stop())
  const open = box.repo('open')
  const never = box.repo('never')
  const plain = join(box.dir, 'plain')
  mkdirSync(plain)
  const repo = await rt.repo(open)
  await repo.issues.create({ title: 'still here' })
  const threads = (await rt.status()).threads.map((x) => x.threadId)

  const refuse = async (what: string, call: () => Promise<unknown>, code: string, field: string | null): Promise<Record<string, unknown> | undefined> => {
    const err = await call().then(() => null, (e: unknown) => e)
    return assertCoded(t, err, what, code, field, `${what}: ${code}${field ? ` (${field})` : ''}`)?.details
  }
  for (const op of ['close', 'restart'] as const) {
    for (const bad of [undefined, null, 42, '', {}]) await refuse(`${op}(${JSON.stringify(bad)})`, () => rt[op](bad as never), 'INVALID_ARGUMENT', 'path')
    await refuse(`${op}(missing dir)`, () => rt[op](join(box.dir, 'nope')), 'NOT_FOUND', null)
    await refuse(`${op}(not a repository)`, () => rt[op](plain), 'NOT_FOUND', null)
    t.match(await refuse(`${op}(never opened)`, () => rt[op](never), 'NOT_FOUND', null), { state: 'unknown' })
  }
  for (const bad of [-1, 1.5, '1', null, undefined]) await refuse(`move(thread ${String(bad)})`, () => rt.move(open, bad as never), 'INVALID_ARGUMENT', 'thread')
  await refuse('move(unknown thread)', () => rt.move(open, Math.max(...threads) + 100), 'NOT_FOUND', 'thread')
  await refuse('move(never opened)', () => rt.move(never, threads[0]!), 'NOT_FOUND', null)
  await refuse('move(bad path)', () => rt.move(42 as never, threads[0]!), 'INVALID_ARGUMENT', 'path')

  await rt.close(open)
  t.match(await refuse('close twice', () => rt.close(open), 'NOT_FOUND', null), { state: 'closed' })
  t.match(await refuse('move a closed repository', () => rt.move(open, threads[0]!), 'NOT_FOUND', null), { state: 'closed' })
  t.match(await refuse('restart a closed repository', () => rt.restart(open), 'NOT_FOUND', null), { state: 'closed' })

  for (const [what, opts, field] of [
    ['a string', 'x', 'options'], ['a signal that is not one', { signal: {} }, 'signal'],
    ['buffer 0', { buffer: 0 }, 'buffer'], ['buffer too big', { buffer: 1e9 }, 'buffer'], ['buffer text', { buffer: '8' }, 'buffer'],
  ] as const) {
    let err: unknown = null
    try { rt.watch(opts as never) } catch (e) { err = e }
    assertCoded(t, err, opts, 'INVALID_ARGUMENT', field, `watch(${what})`)
  }

  t.equal((await repo.issues.list()).length, 1, 'the runtime still serves (and the closed repository reopens on use)')
})

t.test('idleCloseMs must be an integer number of milliseconds', async (t) => {
  for (const bad of [-1, 1.5, '60000', null, 8 * 86_400_000]) {
    const err = await createRuntime({ idleCloseMs: bad as never }).then(async (rt) => { await rt.stop(); return null }, (e: unknown) => e)
    t.match(err, { code: 'INVALID_ARGUMENT', details: { option: 'idleCloseMs' } }, `idleCloseMs ${JSON.stringify(bad)}`)
  }
})
