/**
 * Lease policy on the issue write path, fencing tokens on writes, and
 * claimNext, through a real runtime with time on the ManualClock.
 */
import t from 'tap'
import { createRuntime, type Repo, type Runtime } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

const T0 = 1_800_000_000_000
const GRACE = 5_000

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ rt: Runtime; a: Repo; b: Repo; clock: ManualClock; path: string }> {
  const box = sandbox()
  const path = box.repo('policy')
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  return { rt, a: await rt.repo(path, { agent: 'a' }), b: await rt.repo(path, { agent: 'b' }), clock, path }
}

const outcome = (p: Promise<{ warnings?: unknown[] }>) =>
  p.then((r) => (r.warnings?.length ? 'warned' : 'ok'), (e: { code?: string }) => e.code ?? 'no code')

t.test('policy matrix: off / warn / require × no lease, own lease, other\'s lease, lapsed lease, repo lease', async (t) => {
  const { a, b, clock } = await setup(t)
  t.equal(await a.locks.policy(), 'off', 'off by default')
  const expected: Record<string, Record<string, string>> = {
    off: { none: 'ok', own: 'ok', other: 'ok', lapsed: 'ok', repo: 'ok' },
    warn: { none: 'ok', own: 'ok', other: 'warned', lapsed: 'ok', repo: 'warned' },
    require: { none: 'ok', own: 'ok', other: 'LEASE_HELD', lapsed: 'ok', repo: 'LEASE_HELD' },
  }
  for (const policy of ['off', 'warn', 'require'] as const) {
    await a.locks.setPolicy(policy)
    t.equal(await b.locks.policy(), policy, `policy ${policy} is per repository, seen by every handle`)
    const { id } = await a.issues.create({ title: `under ${policy}` })
    const got: Record<string, string> = {}
    got.none = await outcome(b.issues.comment(id, 'x'))
    const own = await b.locks.acquire(`issue:${id}`, { ttlMs: 10_000, autoRenew: false })
    got.own = await outcome(b.issues.comment(id, 'x'))
    await own.release()
    const other = await a.locks.acquire(`issue:${id}`, { ttlMs: 10_000, autoRenew: false })
    got.other = await outcome(b.issues.comment(id, 'x'))
    await clock.advance(10_000 + GRACE)
    got.lapsed = await outcome(b.issues.comment(id, 'x'))
    await other.release().catch(() => undefined)
    const repoLease = await a.locks.acquire('repo:main', { ttlMs: 10_000, autoRenew: false })
    got.repo = await outcome(b.issues.comment(id, 'x'))
    await repoLease.release()
    t.same(got, expected[policy], `policy ${policy}`)
  }
  const err = await a.locks.setPolicy('strict' as never).catch((e) => e)
  t.equal(err.code, 'INVALID_ARGUMENT')
})

t.test('under require, a refused write writes nothing; a create is refused under another\'s repo lease', async (t) => {
  const { a, b } = await setup(t)
  await a.locks.setPolicy('require')
  const { id } = await a.issues.create({ title: 'x' })
  await a.locks.acquire(`issue:${id}`, { ttlMs: 60_000, autoRenew: false })
  const before = await b.events.stats()
  const err = await b.issues.close(id).catch((e) => e)
  t.equal(err.code, 'LEASE_HELD')
  t.equal(err.details.heldBy.holder.actor, a.actor)
  t.equal((await b.events.stats()).lastSeq, before.lastSeq, 'nothing written')
  await a.locks.acquire('repo:main', { ttlMs: 60_000, autoRenew: false }).catch(() => undefined)
  const l = await a.locks.acquire('repo:whole', { ttlMs: 60_000, autoRenew: false }).catch((e) => e)
  t.equal(l.code, 'LEASE_HELD', 'the issue lease conflicts with a repo lease too')
})

t.test('fencing: a write carrying a stale token is refused with LEASE_LOST, whatever the policy', async (t) => {
  const { a, b, clock } = await setup(t)
  const { id } = await a.issues.create({ title: 'fenced' })
  const l = await a.locks.acquire(`issue:${id}`, { ttlMs: 1_000, autoRenew: false })
  t.equal((await a.issues.comment(id, 'with my token', { lease: l })).duplicate, false, 'the live token passes')
  t.equal((await b.issues.comment(id, 'b, no token')).duplicate, false, 'policy off: others may write')
  const e1 = await b.issues.comment(id, 'b with a\'s token', { lease: l.token }).catch((e) => e)
  t.equal(e1.code, 'LEASE_LOST', 'a token that is not the writer\'s own lease is refused')
  await clock.advance(1_000 + GRACE)
  const taken = await b.locks.acquire(`issue:${id}`, { ttlMs: 60_000, autoRenew: false })
  const e2 = await a.issues.comment(id, 'stale', { lease: l }).catch((e) => e)
  t.equal(e2.code, 'LEASE_LOST', 'the old holder\'s token is stale after a takeover')
  t.equal((await b.issues.comment(id, 'new holder', { lease: taken })).duplicate, false)
  t.equal((await a.issues.show(id)).comments.length, 3)
})

t.test('claimNext: ready order, skips leased and blocked issues, records the claim; concurrent callers never share a win', async (t) => {
  const { a, b, rt, path, clock } = await setup(t)
  // Issues created in the same millisecond tie on createdAt and order by id; space them out.
  const first = await a.issues.create({ title: 'first', labels: ['x'] })
  await clock.advance(1)
  const second = await a.issues.create({ title: 'second' })
  await clock.advance(1)
  const blocked = await a.issues.create({ title: 'blocked' })
  await a.issues.depend(blocked.id, { target: second.id, type: 'depends_on' })
  const c1 = await b.issues.claimNext({ ttlMs: 60_000, autoRenew: false })
  t.equal(c1?.issue.id, first.id, 'the earliest ready issue')
  t.same(c1?.issue.assignees, ['b'], 'the claim is recorded as an assignment to the agent')
  t.equal((await a.locks.status(`issue:${first.id}`)).lease?.holder.actor, b.actor, 'and leased to the claimer')
  const c2 = await a.issues.claimNext({ ttlMs: 60_000, autoRenew: false })
  t.equal(c2?.issue.id, second.id, 'a leased issue is skipped')
  t.equal(await a.issues.claimNext({ ttlMs: 60_000 }), null, 'the blocked issue is not claimable: nothing left')
  t.equal((await b.issues.claimNext({ label: 'x', ttlMs: 1000 })), null, 'label filter')

  for (let i = 0; i < 20; i++) await a.issues.create({ title: `task ${i}` })
  const agents = await Promise.all(Array.from({ length: 8 }, (_, k) => rt.repo(path, { agent: `w${k}` })))
  const wins = await Promise.all(agents.flatMap((r) => [r.issues.claimNext({ ttlMs: 60_000, autoRenew: false }), r.issues.claimNext({ ttlMs: 60_000, autoRenew: false })]))
  const ids = wins.filter((w) => w !== null).map((w) => w!.issue.id)
  t.equal(ids.length, 16, '16 concurrent claims over 20 free issues all succeed')
  t.equal(new Set(ids).size, 16, 'and no issue is won twice')
})
