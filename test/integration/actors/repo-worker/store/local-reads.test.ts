/**
 * Queries are answered on the calling thread from the repository's LMDB
 * store (actors/repo-worker/store/reader.ts), not by a round trip to the
 * RepoWorker's thread. What that must keep:
 * - a read that follows an acknowledged write sees it, from the same handle
 *   or another one, every time;
 * - answers are the worker's answers (same values, same coded errors);
 * - every answer is the caller's own copy;
 * - a stopped runtime refuses reads as it refuses everything else.
 * And what it gains: reads answer while the repository's thread is busy.
 */
import t from 'tap'
import { createRuntime } from '../../../../../lib/index.ts'
import { channelsOf } from '../../../../../lib/api/repo-channels.ts'
import { repoHooks } from '../../../../../lib/testing/index.ts'
import { decodeValue } from '../../../../../protocol/codec.ts'
import { MESSAGE_TYPES as M } from '../../../../../protocol/messages.ts'
import { openShared } from '../../../../../lib/kernel/store/open-store.ts'
import { EventStore } from '../../../../../actors/repo-worker/store/event-store.ts'
import { openRepoDbs } from '../../../../../actors/repo-worker/store/dbs.ts'
import { StoreReader } from '../../../../../actors/repo-worker/store/reader.ts'
import { query } from '../../../../../actors/repo-worker/queries.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { join } from 'node:path'

const box = sandbox()
t.teardown(() => box.cleanup())

/** A runtime of its own and two agents' handles on one new repository, with one issue. */
async function twoHandles(t: { teardown(fn: () => unknown): void }, name: string, title: string) {
  const rt = await createRuntime({ home: join(box.dir, `home-${name}`), threads: 1 })
  t.teardown(() => rt.stop())
  const path = box.repo(name)
  const a = await rt.repo(path, { agent: 'a' })
  const b = await rt.repo(path, { agent: 'b' })
  const { id } = await a.issues.create({ title })
  return { a, b, id }
}

t.test('a read right after an acknowledged write sees it, from either handle, every time', async (t) => {
  const { a, b, id } = await twoHandles(t, 'ryw', 'counted')
  let stale = 0
  for (let i = 1; i <= 200; i++) {
    // Interleave reads so the thread's read transaction is always warm when the write lands.
    const before = a.issues.show(id)
    await (i % 2 === 0 ? a : b).issues.comment(id, `c${i}`)
    await before
    const mine = await a.issues.show(id)
    const theirs = await b.issues.show(id)
    if (mine.comments.length !== i || theirs.comments.length !== i) stale++
  }
  t.equal(stale, 0, 'no read missed a write acknowledged before it')
  const listed = await b.issues.list()
  t.equal(listed.find((s) => s.id === id)?.comments, 200, 'listings see every comment too')
  const history = await a.issues.history(id)
  t.equal(history.length, 201, 'history: the creation and 200 comments')
  const stats = await a.events.stats()
  t.equal(stats.lastSeq, 201, 'events.stats counts every event')
})

t.test('the reader view answers as the worker\'s cached view, values and errors alike', async (t) => {
  const rt = await createRuntime({ home: join(box.dir, 'home-same'), threads: 1 })
  const path = box.repo('same')
  const repo = await rt.repo(path, { agent: 'a' })
  const x = await repo.issues.create({ title: 'x', labels: ['bug'] })
  const y = await repo.issues.create({ title: 'y' })
  await repo.issues.depend(y.id, { target: x.id, type: 'depends_on' })
  await repo.issues.comment(x.id, 'hello')
  t.same((await repo.issues.ready()).map((s) => s.id), [x.id], 'y waits for x')
  const live = await repo.issues.show(x.id)
  await rt.stop()
  // Both views over one environment: the worker's (caching) and the reader's; query() is shared.
  const env = openShared(join(path, '.git', 'cairn'))
  t.teardown(() => env.close())
  const dbs = openRepoDbs(env)
  const worker = new EventStore(dbs)
  const reader = new EventStore(dbs, { reader: 'fresh' })
  const ask = (store: EventStore, type: string, body: Record<string, unknown>) => {
    try { return query(store, type, body) } catch (err) { return { code: (err as { code?: string }).code } }
  }
  const cases: [string, Record<string, unknown>][] = [
    [M.issueShow, { id: x.id }], [M.issueShow, { id: x.id.slice(0, 6) }], [M.issueShow, { id: 'f'.repeat(32) }], [M.issueShow, { id: 'zz' }],
    [M.issueList, {}], [M.issueList, { state: 'open', label: 'bug' }], [M.issueList, { state: 'maybe' }],
    [M.issueReady, {}], [M.issueTopo, {}], [M.issueHistory, { id: y.id }], [M.eventsRead, { fromSeq: 2, limit: 2 }],
    [M.eventsRead, { fromSeq: 0 }], [M.eventsStats, {}],
  ]
  for (const [type, body] of cases) t.same(ask(reader, type, body), ask(worker, type, body), `${type} ${JSON.stringify(body)}`)
  t.same(ask(reader, M.issueShow, { id: x.id }), live, 'and what the runtime answered while it ran')
  t.same(ask(reader, M.issueShow, { id: 'zz' }), { code: 'INVALID_ARGUMENT' })
  t.same(ask(reader, M.issueShow, { id: 'f'.repeat(32) }), { code: 'NOT_FOUND' })
  t.equal(StoreReader.answers(M.issueReady, {}), true, 'ready is answered here too (claims from the committed leases)')
  t.equal(StoreReader.answers(M.issueCreate, {}), false, 'writes go to the worker')
  t.equal(StoreReader.answers(M.eventsStats, {}), false, 'stats (with the WAL drain\'s state) go to the worker')
  t.equal(StoreReader.answers(M.issueShow, { id: x.id }), true)
})

t.test('every answer is the caller\'s own copy', async (t) => {
  const rt = await createRuntime({ home: join(box.dir, 'home-copy'), threads: 1 })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(box.repo('copy'))
  const { id } = await repo.issues.create({ title: 'original', labels: ['a'] })
  const first = await repo.issues.show(id)
  first.title = 'changed by the caller'
  first.labels.push('b')
  const again = await repo.issues.show(id)
  t.equal(again.title, 'original')
  t.same(again.labels, ['a'])
})

t.test('encoded answers (the daemon\'s) keep a shown issue\'s encoding while nothing changes and renew it after every write', async (t) => {
  const { a, b, id } = await twoHandles(t, 'encoded', 'kept')
  const encoded = (repo: typeof a, type: string, body: Record<string, unknown>) => channelsOf(repo).reads.encoded(type, body)
  const first = await encoded(a, M.issueShow, { id })
  t.same(decodeValue(first.bytes), await a.issues.show(id), 'the bytes are the shown issue')
  t.equal((await encoded(b, M.issueShow, { id: id.slice(0, 8) })).bytes, first.bytes, 'the same bytes while the store is unchanged, from any handle')
  const copy = await a.issues.show(id)
  copy.title = 'changed by a caller'
  t.equal((decodeValue((await encoded(a, M.issueShow, { id })).bytes) as { title: string }).title, 'kept', 'a caller changing its copy changes no encoding')
  let stale = 0
  for (let i = 1; i <= 50; i++) {
    await (i % 2 === 0 ? a : b).issues.comment(id, `c${i}`)
    if ((decodeValue((await encoded(b, M.issueShow, { id })).bytes) as { comments: unknown[] }).comments.length !== i) stale++
    if ((decodeValue((await encoded(a, M.issueList, {})).bytes) as { comments: number }[])[0]!.comments !== i) stale++
  }
  t.equal(stale, 0, 'no encoded answer missed a write acknowledged before it')
  t.equal((decodeValue(first.bytes) as { comments: unknown[] }).comments.length, 0, 'bytes already handed out are not changed afterwards')
  const failed = await encoded(a, M.issueShow, { id: 'zz' }).then(() => null, (err: { code?: string; details?: { field?: string } }) => err)
  t.equal(failed?.code, 'INVALID_ARGUMENT', 'the same coded errors as a plain read')
  t.equal(failed?.details?.field, 'id')
  const stats = decodeValue((await encoded(a, M.eventsStats, {})).bytes) as { lastSeq: number }
  t.equal(stats.lastSeq, 51, 'a read only the RepoWorker answers comes back encoded too')
  t.throws(() => channelsOf({}), { code: 'INTERNAL' }, 'only handles made by the runtime have channels')
})

t.test('reads answer while the repository\'s thread is busy; a stopped runtime refuses them', async (t) => {
  const rt = await createRuntime({ home: join(box.dir, 'home-busy'), threads: 1, watchdog: false, __unsafe_faultInjection: true })
  const repo = await rt.repo(box.repo('busy'))
  const { id } = await repo.issues.create({ title: 'still readable' })
  // The thread starts its busy loop right after answering; a write sent now waits for it.
  await repoHooks(repo).fault('hang', { hangMs: 1500 })
  let written = false
  const write = repo.issues.comment(id, 'queued behind the hang').then(() => { written = true })
  const shown = await repo.issues.show(id)
  t.equal(shown.title, 'still readable')
  t.equal(written, false, 'the read was answered while the write still waited for the busy thread')
  await write
  t.equal((await repo.issues.show(id)).comments.length, 1, 'the write landed after the thread came back')
  await rt.stop()
  const refused = async (p: Promise<unknown>) => p.then(() => 'answered', (err: { code?: string }) => err.code)
  t.equal(await refused(repo.issues.show(id)), 'STOPPED', 'show after stop')
  t.equal(await refused(repo.issues.list()), 'STOPPED', 'list after stop')
  t.equal(await refused(repo.events.stats()), 'STOPPED', 'stats after stop')
})

t.test('a reader never creates a store and a reader view never writes', async (t) => {
  t.throws(() => openShared(join(box.dir, 'nothing-here')), { code: 'UNAVAILABLE' })
  const rt = await createRuntime({ home: join(box.dir, 'home-view'), threads: 1 })
  const path = box.repo('view')
  const repo = await rt.repo(path)
  await repo.issues.create({ title: 'x' })
  await rt.stop()
  const env = openShared(join(path, '.git', 'cairn'))
  t.teardown(() => env.close())
  const view = new EventStore(openRepoDbs(env), { reader: 'fresh' })
  t.equal(view.lastSeq, 1)
  t.throws(() => view.batch(), { code: 'INTERNAL' })
})
