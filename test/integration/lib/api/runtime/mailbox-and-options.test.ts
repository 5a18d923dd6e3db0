import t from 'tap'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { open } from 'lmdb'
import { createRuntime, isCairnError, CHANNELS } from '../../../../../lib/index.ts'
import { repoHooks } from '../../../../../lib/testing/index.ts'
import { captureChannel, sandbox } from '../../../../helpers/tmp-repos.ts'

t.test('mailbox overflow answers MAILBOX_FULL and every accepted message is processed', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const full = captureChannel(CHANNELS.mailboxFull, (fn) => t.teardown(fn))
  const rt = await createRuntime({ home: box.home, threads: 1, mailboxCapacity: 4 })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(box.repo('r'))
  const res = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => repo.issues.create({ title: `m-${i}` }, { opId: `m-${i}` })))
  const accepted = res.flatMap((r, i) => (r.status === 'fulfilled' ? [`m-${i}`] : []))
  const rejected = res.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)
  t.ok(rejected.length > 0, 'overflow happened')
  t.ok(accepted.length >= 4, 'at least capacity messages were accepted')
  for (const e of rejected) t.ok(isCairnError(e, 'MAILBOX_FULL'), 'rejection is MAILBOX_FULL')
  const stored = (await repo.issues.list()).map((i) => i.title).sort()
  t.same(stored, [...accepted].sort(), 'exactly the accepted messages were processed')
  t.ok(full.length > 0, 'cairn:mailbox:full published')
})

t.test('bad options to createRuntime name the option', async (t) => {
  const cases: [unknown, string][] = [
    [null, ''],
    ['x', ''],
    [{ threads: 0 }, 'threads'],
    [{ threads: 1.5 }, 'threads'],
    [{ threads: '2' }, 'threads'],
    [{ reposPerThread: -1 }, 'reposPerThread'],
    [{ mailboxCapacity: 0 }, 'mailboxCapacity'],
    [{ requestTimeoutMs: 0 }, 'requestTimeoutMs'],
    [{ home: '' }, 'home'],
    [{ home: 7 }, 'home'],
    [{ restart: 5 }, 'restart'],
    [{ restart: { maxRestarts: -1 } }, 'restart.maxRestarts'],
    [{ restart: { bogus: 1 } }, 'restart.bogus'],
    [{ watchdog: 'yes' }, 'watchdog'],
    [{ watchdog: { intervalMs: 1 } }, 'watchdog.intervalMs'],
    [{ clock: {} }, 'clock'],
    [{ __unsafe_faultInjection: 'yes' }, '__unsafe_faultInjection'],
    [{ coalesceRequests: 1 }, 'coalesceRequests'],
    [{ coalesceRequests: 'true' }, 'coalesceRequests'],
    [{ treads: 2 }, 'treads'],
  ]
  for (const [opts, option] of cases) {
    await t.rejects(createRuntime(opts as never), { code: 'INVALID_ARGUMENT', details: { option } }, `rejects ${JSON.stringify(opts)}`)
  }
})

t.test('coalesceRequests: requests and answers are the same, with or without it', async (t) => {
  for (const coalesceRequests of [true, false]) {
    const box = sandbox()
    const rt = await createRuntime({ home: box.home, threads: 1, coalesceRequests })
    const repo = await rt.repo(box.repo('c'))
    const { id } = await repo.issues.create({ title: 'x' })
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => repo.issues.comment(id, `c${i}`)))
    t.same(acks.map((a) => a.seq), Array.from({ length: 40 }, (_, i) => i + 2), `coalesceRequests ${coalesceRequests}: sent in order, applied in order`)
    t.same((await repo.issues.show(id)).comments.map((c) => c.body), Array.from({ length: 40 }, (_, i) => `c${i}`))
    await rt.stop()
    box.cleanup()
  }
})

t.test('bad arguments to the repository API are INVALID_ARGUMENT naming the field', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  await t.rejects(rt.repo(''), { code: 'INVALID_ARGUMENT', details: { field: 'path' } })
  await t.rejects(rt.repo(box.repo('a'), { actor: 'xyz' }), { code: 'INVALID_ARGUMENT', details: { field: 'actor' } })
  await t.rejects(rt.repo(join(box.dir, 'missing')), { code: 'NOT_FOUND' })
  mkdirSync(join(box.dir, 'plain'))
  await t.rejects(rt.repo(join(box.dir, 'plain')), { code: 'NOT_FOUND' })
  const repo = await rt.repo(box.repo('b'))
  await t.rejects(repo.events.stats({ timeoutMs: -1 }), { code: 'INVALID_ARGUMENT', details: { field: 'timeoutMs' } })
  await t.rejects(repo.issues.create({ title: 'x' }, { signal: 'no' as never }), { code: 'INVALID_ARGUMENT', details: { field: 'signal' } })
  const ac = new AbortController()
  ac.abort()
  await t.rejects(repo.events.stats({ signal: ac.signal }), { code: 'ABORTED' })
  await t.rejects(repo.issues.show('abcd', { signal: ac.signal }), { code: 'ABORTED' })
  // The record log of cairn/testing validates as strictly.
  const hooks = repoHooks(repo)
  await t.rejects(hooks.records.append(undefined), { code: 'INVALID_ARGUMENT', details: { field: 'value' } })
  await t.rejects(hooks.records.append(1, { opId: '' }), { code: 'INVALID_ARGUMENT', details: { field: 'opId' } })
  await t.rejects(hooks.records.get(0), { code: 'INVALID_ARGUMENT', details: { field: 'seq' } })
  await t.rejects(hooks.records.get(99), { code: 'NOT_FOUND' })
  await t.rejects(hooks.records.scan({ limit: 0 }), { code: 'INVALID_ARGUMENT', details: { field: 'limit' } })
  await t.rejects(hooks.records.count({ timeoutMs: -1 }), { code: 'INVALID_ARGUMENT', details: { field: 'timeoutMs' } })
  await t.rejects(hooks.timers.schedule('a/b', 1), { code: 'INVALID_ARGUMENT', details: { field: 'id' } })
  await t.rejects(hooks.timers.schedule('ok', -5), { code: 'INVALID_ARGUMENT', details: { field: 'at' } })
  await t.rejects(hooks.fault('throw-actor'), { code: 'INVALID_ARGUMENT' }, 'fault injection is off unless the runtime was created with it')
  // The actor still works after all that.
  t.equal((await hooks.records.append({ fine: true })).seq, 1)
  t.equal((await repo.issues.create({ title: 'fine' })).title, 'fine')
})

t.test('a foreign store or a newer schema is refused and left untouched', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const foreign = box.repo('foreign')
  const other = open({ path: join(foreign, '.git', 'cairn') })
  await other.put('someone', 'else')
  await other.close()
  const newer = box.repo('newer')
  const env = open({ path: join(newer, '.git', 'cairn'), maxDbs: 4 })
  await env.openDB({ name: 'meta' }).put('meta', { application: 'cairn', kind: 'repo', schemaVersion: 99, createdAt: 0 })
  await env.close()
  const before = [readFileSync(join(foreign, '.git', 'cairn', 'data.mdb')), readFileSync(join(newer, '.git', 'cairn', 'data.mdb'))]

  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  await t.rejects(rt.repo(foreign), { code: 'FOREIGN_STORE' })
  await t.rejects(rt.repo(newer), { code: 'STORE_TOO_NEW' })
  t.ok(readFileSync(join(foreign, '.git', 'cairn', 'data.mdb')).equals(before[0]!), 'foreign store bytes unchanged')
  t.ok(readFileSync(join(newer, '.git', 'cairn', 'data.mdb')).equals(before[1]!), 'newer store bytes unchanged')
  // Other repositories are unaffected.
  const ok = await rt.repo(box.repo('fine'))
  t.equal((await ok.issues.create({ title: 'x' })).title, 'x')
})

t.test('stop drains and persists; reopen sees every acknowledged write and a clean previous session', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const path = box.repo('r')
  const rt = await createRuntime({ home: box.home, threads: 2 })
  const repo = await rt.repo(path)
  const writes = Array.from({ length: 100 }, (_, i) => repo.issues.create({ title: `w${i}` }))
  await rt.stop()
  const acked = (await Promise.allSettled(writes)).filter((r) => r.status === 'fulfilled').length
  t.equal(acked, 100, 'writes accepted before stop are finished, not cut short')
  await t.rejects(repo.events.stats(), { code: 'STOPPED' })
  const rt2 = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt2.stop())
  t.same(rt2.reconciliation.previousSessions, [], 'a clean stop is not reported as a crash')
  const again = await rt2.repo(path)
  t.equal((await again.issues.list()).length, 100)
})
