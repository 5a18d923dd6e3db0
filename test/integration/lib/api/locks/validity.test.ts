/**
 * `lease.valid()` / `lease.assertValid()`: the synchronous check a step loop
 * makes before each step. On a manual clock (which never jumps, so it is its
 * own monotonic clock): valid until the TTL since the request, false from
 * then on whether or not a renewal is in flight, never valid again, and a
 * lapsed lease can still be given back early.
 */
import t from 'tap'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

const T0 = 1_800_000_000_000

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ a: Repo; b: Repo; clock: ManualClock }> {
  const box = sandbox()
  const path = box.repo('validity')
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  return { a: await rt.repo(path, { agent: 'a' }), b: await rt.repo(path, { agent: 'b' }), clock }
}

t.test('valid() holds until the TTL, then fails for good, with the signal aborting', async (t) => {
  const { a, b, clock } = await setup(t)
  const lease = await a.locks.acquire('path:src', { ttlMs: 10_000, autoRenew: false })
  t.equal(lease.valid(), true)
  t.doesNotThrow(() => lease.assertValid())
  await clock.advance(9_999)
  t.equal(lease.valid(), true, 'one ms before the TTL it still holds')
  await clock.advance(1)
  t.equal(lease.valid(), false, 'at the TTL it does not')
  t.throws(() => lease.assertValid(), { code: 'LEASE_LOST' }, 'assertValid throws LEASE_LOST')
  t.equal(lease.signal.aborted, true, 'and the signal aborted with it')
  t.rejects(lease.renew(), { code: 'LEASE_LOST' }, 'a lapsed handle does not renew')
  // Nobody took it over yet (grace): releasing gives it back at once, so b need not wait out the grace.
  await lease.release()
  const next = await b.locks.acquire('path:src', { ttlMs: 10_000, autoRenew: false })
  t.ok(next.token > lease.token, 'the resource was released and is granted again')
  t.equal(lease.valid(), false, 'the old handle stays invalid')
})

t.test('a renewal moves the deadline; the deadline counts from when the renewal was sent', async (t) => {
  const { a, clock } = await setup(t)
  const lease = await a.locks.acquire('issue:beef', { ttlMs: 10_000, autoRenew: false })
  await clock.advance(6_000)
  await lease.renew(10_000)
  await clock.advance(9_999)
  t.equal(lease.valid(), true, 'valid until 10 s after the renewal')
  await clock.advance(1)
  t.equal(lease.valid(), false)
})

t.test('with heartbeats the lease stays valid; released or disposed, it is not', async (t) => {
  const { a, clock } = await setup(t)
  const lease = await a.locks.acquire('path:docs', { ttlMs: 3_000 })
  for (let i = 1; i <= 10; i++) {
    await clock.advance(1_000)
    // The heartbeat's renewal is answered asynchronously: wait for its new expiry.
    await eventually(() => lease.expiresAt === T0 + i * 1_000 + 3_000, 5_000)
    t.equal(lease.valid(), true, `still valid after ${i} s`)
  }
  await lease.release()
  t.equal(lease.valid(), false, 'released')
  const other = await a.locks.acquire('path:other', { ttlMs: 3_000 })
  other.dispose()
  t.equal(other.valid(), false, 'disposed')
})
