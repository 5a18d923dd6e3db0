/**
 * Claims agents can rely on, through a real runtime with time on the
 * ManualClock: a retried claim (same opId) answers the same issue, `ready`
 * leaves claimed issues out, closing with the claim's lease ends the claim,
 * a claim released early is claimable again at once, a repository-wide
 * lease held by another keeps everything from being claimed, and writes
 * that change nothing log nothing.
 */
import t from 'tap'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

const T0 = 1_800_000_000_000
const GRACE = 5_000

async function setup(t: { teardown(fn: () => unknown): void }) {
  const box = sandbox()
  const path = box.repo('claims')
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((agent) => rt.repo(path, { agent }))) as [Repo, Repo, Repo]
  return { a, b, c, clock }
}

/** `n` issues created a millisecond apart, so ready order is creation order. */
async function board(repo: Repo, clock: ManualClock, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    ids.push((await repo.issues.create({ title: `task ${i}` })).id)
    await clock.advance(1)
  }
  return ids
}

const err = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string; details?: Record<string, unknown> }) => e)

t.test('a retried claim with the same opId answers the same issue; its lease survives the retry', async (t) => {
  const { a, b, clock } = await setup(t)
  const ids = await board(a, clock, 3)
  const first = await b.issues.claimNext({ ttlMs: 10_000, autoRenew: false, opId: 'claim-1' })
  t.equal(first?.issue.id, ids[0])
  t.equal(first?.duplicate, false)
  const again = await b.issues.claimNext({ ttlMs: 10_000, autoRenew: false, opId: 'claim-1' })
  t.equal(again?.issue.id, ids[0], 'the same issue, not the next one')
  t.equal(again?.duplicate, true)
  t.equal(again?.lease.token, first?.lease.token, 'the same lease (token)')
  t.not(again?.lease.leaseId, first?.lease.leaseId, 'under a new id: the first answer may never have arrived')
  t.same((await a.issues.show(ids[0] as string)).assignees, ['b'], 'assigned once')
  t.equal((await a.issues.claimNext({ ttlMs: 10_000, autoRenew: false }))?.issue.id, ids[1], 'the next claim takes the next issue')
  // The lease lapses; nobody took the issue: the retry claims it again.
  await clock.advance(10_000 + GRACE + 1)
  const late = await b.issues.claimNext({ ttlMs: 10_000, autoRenew: false, opId: 'claim-1' })
  t.equal(late?.issue.id, ids[0])
  t.ok((late?.lease.token ?? 0) > (first?.lease.token ?? 0), 'a new lease, with a higher token')
  await clock.advance(10_000 + GRACE + 1)
  const taker = await a.issues.claimNext({ ttlMs: 10_000, autoRenew: false })
  t.equal(taker?.issue.id, ids[0], 'lapsed again, and claimed by a')
  t.match(await err(b.issues.claimNext({ ttlMs: 10_000, opId: 'claim-1' })), { code: 'LEASE_LOST', details: { issueId: ids[0] } }, 'now the retry is told its claim is lost')
  t.match(await err(b.issues.claimNext({ ttlMs: 0 })), { code: 'INVALID_ARGUMENT', details: { field: 'ttlMs' } })
  t.match(await err(b.issues.claimNext({ ttlMs: 1000, opId: '' })), { code: 'INVALID_ARGUMENT', details: { field: 'opId' } })
})

t.test('ready leaves claimed issues out; includeClaimed shows who holds them', async (t) => {
  const { a, b, clock } = await setup(t)
  const ids = await board(a, clock, 3)
  const claim = await b.issues.claimNext({ ttlMs: 10_000, autoRenew: false })
  t.same((await a.issues.ready()).map((i) => i.id), ids.slice(1), 'the claimed issue is not ready for anyone else')
  const all = await a.issues.ready({ includeClaimed: true })
  t.same(all.map((i) => i.id), ids)
  t.same(all[0]?.claimedBy, { actor: b.actor, agent: 'b', token: claim?.lease.token, expiresAt: T0 + 3 + 10_000 })
  t.equal(all[1]?.claimedBy, undefined)
  const other = await a.locks.acquire(`issue:${ids[2]}`, { ttlMs: 5_000, autoRenew: false })
  t.same((await a.issues.ready()).map((i) => i.id), [ids[1]], 'a lease on issue:<id> taken directly claims it too')
  await clock.advance(10_000 + GRACE + 1)
  t.same((await a.issues.ready()).map((i) => i.id), ids, 'lapsed claims are ready again')
  await other.release().catch(() => undefined)
  t.match(await err(a.issues.ready({ includeClaimed: 'yes' as never })), { code: 'INVALID_ARGUMENT', details: { field: 'includeClaimed' } })
})

t.test('closing with the claim\'s lease ends the claim in the same step; the reason is recorded', async (t) => {
  const { a, b, clock } = await setup(t)
  const [id] = await board(a, clock, 1) as [string]
  const claim = await b.issues.claimNext({ ttlMs: 10_000 })
  const lease = claim?.lease
  if (!lease) throw new Error('no claim')
  const closed = await b.issues.close(id, { reason: 'done: shipped in abc123', lease })
  t.match(closed, { issueId: id, released: true })
  t.equal((await a.locks.status(`issue:${id}`)).lease, null, 'the lease is released')
  t.equal(lease.signal.aborted, false, 'a release is no loss: the handle\'s signal stays')
  t.equal(lease.valid(), false, 'but the handle has ended')
  const kinds = (await a.issues.history(id)).map((e) => e.event.kind)
  t.match(kinds.slice(-2), [{ type: 'CommentAdded', body: 'done: shipped in abc123' }, { type: 'StateChanged', state: 'closed' }], 'the reason, then the close')
  t.equal(await b.issues.claimNext({ ttlMs: 1000 }), null, 'nothing left to claim')
  // Someone else's close leaves the claimer's lease alone: only its holder can release it.
  const [id2] = await board(a, clock, 1) as [string]
  const c2 = await b.issues.claimNext({ ttlMs: 10_000, autoRenew: false })
  t.equal(c2?.issue.id, id2)
  t.match(await a.issues.close(id2), { released: undefined })
  t.equal((await a.locks.status(`issue:${id2}`)).lease?.holder.agent, 'b', 'a\'s close did not touch b\'s lease')
  t.match(await err(a.issues.close(id2, { lease: { token: c2?.lease.token as number, id: 'f'.repeat(32) } })), { code: 'LEASE_LOST' }, 'a fenced close with another\'s token is refused')
})

t.test('a claim released early is claimable again at once; a repository lease of another stops every claim', async (t) => {
  const { a, b, c, clock } = await setup(t)
  const ids = await board(a, clock, 2)
  const first = await b.issues.claimNext({ ttlMs: 60_000, autoRenew: false })
  t.equal(first?.issue.id, ids[0])
  await first?.lease.release()
  const second = await c.issues.claimNext({ ttlMs: 60_000, autoRenew: false })
  t.equal(second?.issue.id, ids[0], 'released: the next claim takes it (no wait for its TTL)')
  // A repository lease conflicts with every lease: c gives its claim up first.
  await second?.lease.release()
  const repoLease = await a.locks.acquire('repo:main', { ttlMs: 10_000, autoRenew: false })
  t.match(await err(b.issues.claimNext({ ttlMs: 1000 })), { code: 'LEASE_HELD', details: { heldBy: { resource: 'repo:main' } } },
    'LEASE_HELD naming the repository lease: there is work, but nobody may take it now')
  await repoLease.release()
  t.equal((await b.issues.claimNext({ ttlMs: 1000, autoRenew: false }))?.issue.id, ids[0])
})

t.test('writes that change nothing answer noop and log no event', async (t) => {
  const { a, b, clock } = await setup(t)
  const [x, y] = await board(a, clock, 2) as [string, string]
  await a.issues.label(x, { add: ['api'] })
  await a.issues.assign(x, { add: ['alice'] })
  await a.issues.depend(x, { target: y, type: 'depends_on' })
  await a.issues.close(y)
  const before = (await a.events.stats()).lastSeq
  const noops = [
    a.issues.reopen(x), a.issues.close(y), b.issues.close(y, { reason: 'again' }), a.issues.label(x, { add: ['api'] }), a.issues.label(x, { remove: ['nope'] }),
    a.issues.assign(x, { add: ['alice'] }), a.issues.assign(x, { remove: ['bob'] }), a.issues.depend(x, { target: y, type: 'depends_on' }),
    a.issues.depend(x, { target: y, type: 'blocks', remove: true }), a.issues.update(x, { title: 'task 0' }),
  ]
  for (const r of await Promise.all(noops)) t.match(r, { noop: true, eventIds: [], duplicate: false }, 'answered noop')
  t.equal((await a.events.stats()).lastSeq, before, 'no event was logged')
  const mixed = await a.issues.label(x, { add: ['api', 'p1'] })
  t.equal(mixed.eventIds.length, 1, 'a write that changes part logs only that part')
  t.equal(mixed.noop, undefined)
  t.equal((await a.issues.reopen(y)).eventIds.length, 1, 'a real change logs its event')
})
