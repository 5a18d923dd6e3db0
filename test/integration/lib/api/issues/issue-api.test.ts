/**
 * The issue board through a real runtime (worker thread, LMDB on disk, a real
 * git repository): what each call does to the projection, the order of
 * listings, the dependency views, history, idempotent opIds and agent
 * identities across a restart.
 */
import t from 'tap'
import { createRuntime, type Repo, type Runtime } from '../../../../../lib/index.ts'
import { computeEventId } from '../../../../../protocol/events/canonical.ts'
import { OPEN_OPTIONS } from '../../../../../lib/kernel/store/open-store.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ rt: Runtime; repo: Repo; path: string; home: string }> {
  const box = sandbox()
  const path = box.repo('board')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  return { rt, repo: await rt.repo(path, { agent: 'alice' }), path, home: box.home }
}

const SHA = 'ab'.repeat(32)

t.test('create, show by id and prefix, and every mutation lands in the projection', async (t) => {
  const { repo } = await setup(t)
  const issue = await repo.issues.create({ title: 'Fix the build', body: 'it is red', labels: ['ci', 'bug', 'ci'] })
  t.match(issue, { title: 'Fix the build', body: 'it is red', state: 'open', labels: ['bug', 'ci'], createdBy: repo.actor, incomplete: false })
  t.match(issue.id, /^[0-9a-f]{32}$/, 'issue ids are 32 hex')
  t.same(await repo.issues.show(issue.id.slice(0, 4).toUpperCase()), issue, 'a 4-character prefix (any case) shows the issue')

  await repo.issues.update(issue.id, { title: 'Fix the CI build' })
  await repo.issues.comment(issue.id, 'looking')
  await repo.issues.label(issue.id, { add: ['p1'], remove: ['bug'] })
  await repo.issues.assign(issue.id, { add: ['bob', 'alice'] })
  await repo.issues.assign(issue.id, { remove: ['bob'] })
  await repo.issues.link(issue.id, { url: 'https://ci.example/run/1', note: 'failing run' })
  await repo.issues.attach(issue.id, { name: 'log.txt', sha256: SHA, mime: 'text/plain' })
  const closed = await repo.issues.close(issue.id)
  t.equal(closed.duplicate, false)
  t.equal(closed.eventIds.length, 1, 'close appends one event')
  const p = await repo.issues.show(issue.id)
  t.match(p, {
    title: 'Fix the CI build', body: 'it is red', state: 'closed', labels: ['ci', 'p1'], assignees: ['alice'],
    comments: [{ body: 'looking', actor: repo.actor }],
    links: [{ url: 'https://ci.example/run/1', note: 'failing run' }],
    attachments: [{ name: 'log.txt', sha256: SHA, mime: 'text/plain' }],
  })
  t.equal(p.eventCount, 11, 'one event per add/remove, one for each other call')
  await repo.issues.reopen(issue.id)
  t.equal((await repo.issues.show(issue.id)).state, 'open', 'reopen')
})

t.test('history is the issue\'s events in (ts, actor, id) order, each with a valid grite id and a parent chain', async (t) => {
  const { repo } = await setup(t)
  const { id } = await repo.issues.create({ title: 'h' })
  for (let i = 0; i < 5; i++) await repo.issues.comment(id, `c${i}`)
  const history = await repo.issues.history(id)
  t.same(history.map((h) => h.event.kind.type), ['IssueCreated', ...Array(5).fill('CommentAdded')])
  for (const [i, { event }] of history.entries()) {
    const { eventId, sig: _sig, ...input } = event
    t.equal(computeEventId(input), eventId, `event ${i}: id is the BLAKE2b-256 of its canonical preimage`)
    t.equal(event.parent, i === 0 ? null : history[i - 1]!.event.eventId, `event ${i}: parent is the issue's previous event`)
    if (i > 0) t.ok(event.tsUnixMs > history[i - 1]!.event.tsUnixMs, `event ${i}: timestamp strictly after the previous one`)
  }
  t.same(history.map((h) => h.seq), [...history.map((h) => h.seq)].sort((a, b) => a - b), 'seqs increase along the history')
})

t.test('list filters by state, label and assignee, in creation order', async (t) => {
  const { repo } = await setup(t)
  const a = await repo.issues.create({ title: 'a', labels: ['x'] })
  const b = await repo.issues.create({ title: 'b', labels: ['y'] })
  const c = await repo.issues.create({ title: 'c', labels: ['x'] })
  await repo.issues.assign(b.id, { add: ['carol'] })
  await repo.issues.close(c.id)
  const ids = async (f?: Parameters<Repo['issues']['list']>[0]) => (await repo.issues.list(f)).map((i) => i.title)
  t.same(await ids(), ['a', 'b', 'c'], 'all states by default, earliest created first')
  t.same(await ids({ state: 'open' }), ['a', 'b'])
  t.same(await ids({ state: 'closed' }), ['c'])
  t.same(await ids({ label: 'x' }), ['a', 'c'])
  t.same(await ids({ assignee: 'carol' }), ['b'])
  t.same(await ids({ state: 'open', label: 'x' }), ['a'])
  t.same(await ids({ label: 'nope' }), [])
  const [first] = await repo.issues.list()
  t.same(Object.keys(first!).sort(), ['assignees', 'comments', 'createdAt', 'createdBy', 'dependencies', 'id', 'labels', 'state', 'title', 'updatedAt'],
    'listings carry summaries, not comment bodies')
  t.equal(a.title, 'a')
})

t.test('dependencies: ready, topo, cycles refused, removal frees', async (t) => {
  const { repo } = await setup(t)
  const design = await repo.issues.create({ title: 'design' })
  const build = await repo.issues.create({ title: 'build' })
  const ship = await repo.issues.create({ title: 'ship' })
  await repo.issues.depend(build.id, { target: design.id, type: 'depends_on' })
  await repo.issues.depend(build.id, { target: ship.id, type: 'blocks' })
  await repo.issues.depend(ship.id, { target: design.id, type: 'related_to' })
  const titles = (xs: { title: string }[]) => xs.map((x) => x.title)
  t.same(titles(await repo.issues.ready()), ['design'], 'only the issue without open blockers is ready')
  t.same(titles((await repo.issues.topo()).order), ['design', 'build', 'ship'])
  t.same(titles((await repo.issues.topo({ limit: 2 })).order), ['design', 'build'], 'limit: the first of the same order')

  const err = await repo.issues.depend(design.id, { target: ship.id, type: 'depends_on' }).catch((e) => e)
  t.equal(err.code, 'CYCLE', 'design depends_on ship would close design -> build -> ship -> design')
  t.same(new Set(err.details.cycle), new Set([design.id, build.id, ship.id]), 'the cycle is named')
  t.equal((await repo.issues.depend(design.id, { target: ship.id, type: 'related_to' })).duplicate, false, 'related_to never cycles')

  await repo.issues.close(design.id)
  t.same(titles(await repo.issues.ready()), ['build'], 'closing a prerequisite readies its dependent')
  await repo.issues.depend(build.id, { target: ship.id, type: 'blocks', remove: true })
  t.same(titles(await repo.issues.ready()), ['build', 'ship'], 'removing an edge frees its target')
  t.same(titles(await repo.issues.ready({ label: 'none' })), [], 'ready filters by label')
})

t.test('a cycle split over one batch is still refused', async (t) => {
  const { repo } = await setup(t)
  const a = await repo.issues.create({ title: 'a' })
  const b = await repo.issues.create({ title: 'b' })
  const results = await Promise.allSettled([
    repo.issues.depend(a.id, { target: b.id, type: 'depends_on' }),
    repo.issues.depend(b.id, { target: a.id, type: 'depends_on' }),
  ])
  t.same(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'], 'exactly one of two concurrent halves of a cycle wins')
  t.equal((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.code, 'CYCLE')
})

t.test('opId: a repeated write applies once and answers with the first result', async (t) => {
  const { repo } = await setup(t)
  const one = await repo.issues.create({ title: 'once' }, { opId: 'create-1' })
  const again = await repo.issues.create({ title: 'once' }, { opId: 'create-1' })
  t.equal(again.id, one.id, 'the same issue comes back')
  const c1 = await repo.issues.comment(one.id, 'hi', { opId: 'comment-1' })
  const c2 = await repo.issues.comment(one.id, 'hi', { opId: 'comment-1' })
  t.same({ ...c2, duplicate: false }, c1, 'same ids and seq')
  t.equal(c2.duplicate, true)
  t.equal((await repo.issues.list()).length, 1)
  t.equal((await repo.issues.show(one.id)).comments.length, 1)
  t.equal((await repo.events.stats()).lastSeq, 2, 'two events in all')
})

t.test('agents: distinct actors per agent in one clone, persisted across a restart; explicit actor', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const path = box.repo('ids')
  let rt = await createRuntime({ home: box.home, threads: 1 })
  const alice = await rt.repo(path, { agent: 'alice' })
  const bob = await rt.repo(path, { agent: 'bob' })
  const dflt = await rt.repo(path)
  t.not(alice.actor, bob.actor, 'two agents in one clone never share an actor')
  t.same(new Set([alice.actor, bob.actor, dflt.actor]).size, 3)
  t.equal(dflt.agent, 'default')
  const issue = await bob.issues.create({ title: 'by bob' })
  t.equal(issue.createdBy, bob.actor, 'events carry the handle\'s actor')
  await rt.stop()
  rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  t.equal((await rt.repo(path, { agent: 'alice' })).actor, alice.actor, 'alice keeps her actor after a restart')
  t.equal((await rt.repo(path, { agent: 'bob' })).actor, bob.actor, 'bob too')
  const explicit = await rt.repo(path, { actor: 'f'.repeat(32) })
  t.same([explicit.actor, explicit.agent], ['f'.repeat(32), null])
  const { issueId } = await explicit.issues.comment(issue.id, 'from an explicit actor')
  t.equal((await explicit.issues.show(issueId)).comments[0]!.actor, 'f'.repeat(32))
})

t.test('projections survive a restart without a rebuild; a removed checkpoint rebuilds the same projections', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const path = box.repo('snap')
  let rt = await createRuntime({ home: box.home, threads: 1 })
  let repo = await rt.repo(path, { agent: 'a' })
  for (let i = 0; i < 20; i++) {
    const { id } = await repo.issues.create({ title: `i${i}`, labels: [`l${i % 3}`] })
    if (i % 2) await repo.issues.comment(id, 'c')
    if (i % 5 === 0) await repo.issues.close(id)
  }
  const before = await Promise.all((await repo.issues.list()).map((i) => repo.issues.show(i.id)))
  await rt.stop()

  rt = await createRuntime({ home: box.home, threads: 1 })
  repo = await rt.repo(path, { agent: 'a' })
  t.match(rt.reconciliation.repos[0]!.projections, { rebuilt: false }, 'a current checkpoint means no replay')
  t.same(await Promise.all((await repo.issues.list()).map((i) => repo.issues.show(i.id))), before)
  await rt.stop()

  const { open } = await import('lmdb')
  const env = open({ path: `${path}/.git/cairn`, ...OPEN_OPTIONS })
  await env.openDB({ name: 'event-meta' }).remove('projection')
  await env.close()
  rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  repo = await rt.repo(path, { agent: 'a' })
  t.match(rt.reconciliation.repos[0]!.projections, { rebuilt: true, reason: 'no projection checkpoint', events: 20 + 10 + 4 })
  t.same(await Promise.all((await repo.issues.list()).map((i) => repo.issues.show(i.id))), before, 'the rebuild folds to identical projections')
})
