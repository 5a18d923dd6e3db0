/**
 * Leases through a real runtime (LockKeeper on a worker thread, LMDB on
 * disk), with time on the injected ManualClock: conflicts, fencing tokens
 * across release and restart, grace-protected takeover, FIFO waiters,
 * cancellation, heartbeats, and a lost lease aborting its handle's signal.
 */
import t from 'tap'
import { createRuntime, type Repo, type Runtime } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

const T0 = 1_800_000_000_000
const GRACE = 5_000

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ rt: Runtime; a: Repo; b: Repo; clock: ManualClock; home: string; path: string }> {
  const box = sandbox()
  const path = box.repo('locks')
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  return { rt, a: await rt.repo(path, { agent: 'a' }), b: await rt.repo(path, { agent: 'b' }), clock, home: box.home, path }
}

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code)

t.test('conflicts: repo vs everything, path ancestors, issue ids; LEASE_HELD names the holder', async (t) => {
  const { a, b } = await setup(t)
  const l = await a.locks.acquire('path:src/lib', { ttlMs: 10_000, autoRenew: false })
  t.equal(l.token, 1)
  const err = await b.locks.acquire('path:src/lib/x.ts', { ttlMs: 10_000 }).catch((e) => e)
  t.equal(err.code, 'LEASE_HELD', 'a path under a leased path conflicts')
  t.equal(err.details.heldBy.holder.actor, a.actor, 'the error names the holder')
  t.equal(err.details.heldBy.expiresAt, T0 + 10_000, 'and the expiry')
  t.equal(err.details.heldBy.token, 1, 'and its token (a fencing number, not a credential)')
  t.equal(err.details.heldBy.id, undefined, 'but not its lease id')
  t.equal(err.details.heldBy.idHash, undefined, 'nor the hash of it')
  t.equal(await code(b.locks.acquire('path:src', { ttlMs: 1000 })), 'LEASE_HELD', 'so does an ancestor')
  t.equal(await code(b.locks.acquire('repo:main', { ttlMs: 1000 })), 'LEASE_HELD', 'repo: conflicts with everything')
  const sibling = await b.locks.acquire('path:src/library', { ttlMs: 1000, autoRenew: false })
  t.equal(sibling.token, 1, 'a sibling with a common string prefix does not conflict')
  const issue = await b.locks.acquire('issue:abcd1234', { ttlMs: 1000, autoRenew: false })
  t.equal(await code(a.locks.acquire('issue:ABCD1234', { ttlMs: 1000 })), 'LEASE_HELD', 'issue ids compare case-insensitively')
  await issue.release()
  t.equal(await code(a.locks.acquire('bogus:x', { ttlMs: 1000 })), 'INVALID_ARGUMENT')
  t.equal(await code(a.locks.acquire('path:../etc', { ttlMs: 1000 })), 'INVALID_ARGUMENT')
  t.equal(await code(a.locks.acquire('path:a', { ttlMs: 0 })), 'INVALID_ARGUMENT')
})

t.test('tokens strictly increase per resource across release and restart; stale tokens are LEASE_LOST', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const path = box.repo('tok')
  const clock = new ManualClock(T0)
  let rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  let a = await rt.repo(path, { agent: 'a' })
  const tokens: number[] = []
  for (let i = 0; i < 3; i++) {
    const l = await a.locks.acquire('issue:beef', { ttlMs: 60_000, autoRenew: false })
    tokens.push(l.token)
    await l.release()
  }
  const held = await a.locks.acquire('issue:beef', { ttlMs: 60_000, autoRenew: false })
  tokens.push(held.token)
  await rt.stop()
  rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(() => rt.stop())
  a = await rt.repo(path, { agent: 'a' })
  const b = await rt.repo(path, { agent: 'b' })
  t.equal((await a.locks.status('issue:beef')).lease?.live, true, 'a lease survives a restart with its remaining time')
  t.equal(await code(b.locks.acquire('issue:beef', { ttlMs: 1000 })), 'LEASE_HELD')
  await clock.advance(60_000 + GRACE)
  const next = await b.locks.acquire('issue:beef', { ttlMs: 1000, autoRenew: false })
  tokens.push(next.token)
  t.same(tokens, [1, 2, 3, 4, 5], 'strictly increasing, never reused, across a restart and a takeover')
  t.equal(held.token, 4)
  // A holder whose lease was taken over, in this runtime: its token is stale.
  const stale = await a.locks.acquire('issue:dead', { ttlMs: 1_000, autoRenew: false })
  await clock.advance(1_000 + GRACE)
  const thief = await b.locks.acquire('issue:dead', { ttlMs: 60_000, autoRenew: false })
  t.equal(await code(stale.renew()), 'LEASE_LOST', 'the old holder cannot renew')
  t.equal(await code(a.locks.acquire('issue:dead', { ttlMs: 1000 })), 'LEASE_HELD')
  t.equal((await b.locks.status('issue:dead')).lease?.holder.actor, b.actor, 'the new holder is untouched')
  t.equal(thief.token, stale.token + 1)
})

t.test('grace: a lapsed TTL with a recent heartbeat is not taken over', async (t) => {
  const { a, b, clock } = await setup(t)
  const l = await a.locks.acquire('path:docs', { ttlMs: 3_000, autoRenew: false })
  await clock.advance(2_000)
  await l.renew(1_000) // heartbeat at T0+2000, expires T0+3000
  await clock.advance(1_500) // TTL lapsed, heartbeat 1.5 s old < grace
  t.equal(await code(b.locks.acquire('path:docs', { ttlMs: 1000 })), 'LEASE_HELD', 'within grace the holder keeps it')
  await clock.advance(GRACE)
  t.equal(await code(b.locks.acquire('path:docs', { ttlMs: 1000, autoRenew: false })), 'ok', 'past grace it can be taken')
})

t.test('waiters are served FIFO, time out with LEASE_HELD, and can be cancelled', async (t) => {
  const { a, b, rt, clock, path } = await setup(t)
  const c = await rt.repo(path, { agent: 'c' })
  const l = await a.locks.acquire('repo:main', { ttlMs: 60_000, autoRenew: false })
  const order: string[] = []
  const wb = b.locks.acquire('path:x', { ttlMs: 1000, wait: { timeoutMs: 30_000 }, autoRenew: false }).then((h) => { order.push('b'); return h })
  await eventually(async () => (await a.locks.status('path:x')).waiters === 1)
  const wc = c.locks.acquire('path:x', { ttlMs: 1000, wait: { timeoutMs: 30_000 }, autoRenew: false }).then((h) => { order.push('c'); return h })
  await eventually(async () => (await a.locks.status('path:x')).waiters === 2)
  await l.release()
  const hb = await wb
  t.same(order, ['b'], 'the first waiter gets it; the second still waits behind it')
  await hb.release()
  await (await wc).release()
  t.same(order, ['b', 'c'])

  const l2 = await a.locks.acquire('path:y', { ttlMs: 60_000, autoRenew: false })
  const timedOut = code(b.locks.acquire('path:y', { ttlMs: 1000, wait: { timeoutMs: 10_000 } }))
  await eventually(async () => (await a.locks.status('path:y')).waiters === 1)
  await clock.advance(10_000)
  t.equal(await timedOut, 'LEASE_HELD', 'a wait that runs out fails with LEASE_HELD')
  const ac = new AbortController()
  const cancelled = code(b.locks.acquire('path:y', { ttlMs: 1000, wait: { timeoutMs: 30_000 }, signal: ac.signal }))
  await eventually(async () => (await a.locks.status('path:y')).waiters === 1)
  ac.abort()
  t.equal(await cancelled, 'ABORTED')
  t.equal((await a.locks.status('path:y')).waiters, 0, 'the cancelled waiter is gone')
  await l2.release()
  t.equal((await a.locks.status('path:y')).lease, null, 'and nothing was granted to it')
})

t.test('the handle heartbeats on the runtime clock; a lost lease aborts its signal', async (t) => {
  const { a, b, clock } = await setup(t)
  const l = await a.locks.acquire('issue:cafe', { ttlMs: 3_000 })
  for (let i = 0; i < 5; i++) {
    await clock.advance(1_000)
    await eventually(async () => ((await a.locks.status('issue:cafe')).lease?.heartbeatAt ?? 0) >= clock.now() - 1)
  }
  t.equal(l.signal.aborted, false, 'heartbeats keep the lease across five TTL thirds')
  t.ok(l.expiresAt > T0 + 5_000, 'its expiry moves forward')
  t.equal(await code(b.locks.acquire('issue:cafe', { ttlMs: 1000 })), 'LEASE_HELD')

  const other = await a.locks.acquire('issue:f00d', { ttlMs: 3_000, autoRenew: false })
  await clock.advance(3_000 + GRACE)
  const taken = await b.locks.acquire('issue:f00d', { ttlMs: 60_000, autoRenew: false })
  t.equal(taken.token, other.token + 1)
  await other.renew().catch(() => undefined)
  t.equal(other.signal.aborted, true, 'a refused renewal aborts the handle\'s signal')
  t.equal((other.signal.reason as { code?: string }).code, 'LEASE_LOST')
  const list = await a.locks.list()
  t.same(list.map((x) => x.resource), ['issue:cafe', 'issue:f00d'], 'list shows every lease, sorted')
  await l.release()
})

t.test('stopping the runtime ends heartbeats: the handle aborts with STOPPED and no timer is left behind', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  const a = await rt.repo(box.repo('stop'), { agent: 'a' })
  const before = clock.pending()
  const l = await a.locks.acquire('path:x', { ttlMs: 60_000 })
  t.equal(clock.pending(), before + 1, 'one heartbeat armed')
  await rt.stop()
  t.equal(l.signal.aborted, true)
  t.equal((l.signal.reason as { code?: string }).code, 'STOPPED')
  t.equal(clock.pending(), 0, 'the heartbeat timer is gone')
})
