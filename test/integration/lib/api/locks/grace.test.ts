/**
 * The grace period is per repository (persisted) and per lease: each lease
 * records the grace it was granted with, so the LockKeeper's takeover, the
 * write-path policy and remote lease chains all apply that one, and
 * changing the repository's grace never shortens a lease already granted.
 */
import t from 'tap'
import { createRuntime } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { assertCoded } from '../../../../helpers/coded-error.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { chainOf, expectedLeaseRef, T0, twoMachines } from './git-remote.ts'

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e))

t.test('setGrace: persisted per repository, applied to new leases only, enforced by takeover and by the write policy', async (t) => {
  const box = sandbox()
  const path = box.repo('grace')
  const clock = new ManualClock(T0)
  let rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  // Runs at the end, when `rt` is the second runtime (the test stops the first itself).
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  let a = await rt.repo(path, { agent: 'a' })
  t.equal(await a.locks.grace(), 5_000, 'the default grace is 5 s')
  const before = await a.locks.acquire('issue:aaaa', { ttlMs: 500, autoRenew: false })
  await a.locks.setGrace(1_000)
  t.equal(await a.locks.grace(), 1_000, 'set')
  await rt.stop()
  rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  a = await rt.repo(path, { agent: 'a' })
  const b = await rt.repo(path, { agent: 'b' })
  t.equal(await b.locks.grace(), 1_000, 'the setting survives a restart and is the repository\'s, not the handle\'s')

  // Locally, grace runs from the last heartbeat: with a 500 ms TTL it protects each lease past its expiry.
  const after = await a.locks.acquire('issue:bbbb', { ttlMs: 500, autoRenew: false })
  const zero = await a.locks.acquire('issue:cccc', { ttlMs: 500, autoRenew: false, graceMs: 0 })
  t.same((await a.locks.list()).map((l) => [l.resource, l.graceMs, l.takeoverAt]), [
    ['issue:aaaa', 5_000, T0 + 5_000], ['issue:bbbb', 1_000, T0 + 1_000], ['issue:cccc', 0, T0 + 500],
  ], 'each lease shows the grace it was granted with')

  await a.locks.setPolicy('require')
  const { id } = await a.issues.create({ title: 'fenced by grace' })
  const onIssue = await a.locks.acquire(`issue:${id}`, { ttlMs: 500, autoRenew: false })
  await clock.advance(500)
  t.equal(await code(b.locks.acquire('issue:cccc', { ttlMs: 1_000, autoRenew: false })), 'ok', 'grace 0: taken at expiry')
  t.equal(await code(b.locks.acquire('issue:bbbb', { ttlMs: 1_000 })), 'LEASE_HELD', 'grace 1 s: lapsed, but protected for 1 s past its last heartbeat')
  t.equal(await code(b.issues.comment(id, 'too early')), 'LEASE_HELD', 'the write policy applies the lease\'s grace too')
  await clock.advance(499)
  t.equal(await code(b.locks.acquire('issue:bbbb', { ttlMs: 1_000 })), 'LEASE_HELD', 'still within that grace')
  await clock.advance(1)
  t.equal(await code(b.locks.acquire('issue:bbbb', { ttlMs: 1_000, autoRenew: false })), 'ok', 'past it, taken over')
  t.equal(await code(b.issues.comment(id, 'now')), 'ok', 'and the write goes through')
  t.equal(await code(b.locks.acquire('issue:aaaa', { ttlMs: 1_000 })), 'LEASE_HELD', 'a lease granted before setGrace keeps its 5 s')
  await clock.advance(4_000)
  t.equal(await code(b.locks.acquire('issue:aaaa', { ttlMs: 1_000, autoRenew: false })), 'ok', 'until those pass')
  t.same([before, after, zero, onIssue].map((l) => l.token), [1, 1, 1, 1], 'each the first grant of its resource')

  for (const bad of [-1, 1.5, 3_600_001, '5', null]) {
    assertCoded(t, await a.locks.setGrace(bad as never).catch((e) => e), bad, 'INVALID_ARGUMENT', 'graceMs', `setGrace(${String(bad)})`)
    assertCoded(t, await a.locks.acquire('path:g', { ttlMs: 1_000, graceMs: bad as never }).catch((e) => e), bad, 'INVALID_ARGUMENT', 'graceMs', `acquire graceMs ${String(bad)}`)
  }
  t.equal(await a.locks.grace(), 1_000, 'refused settings change nothing')
})

t.test('a remote lease carries its holder\'s grace in lease.json; other machines wait exactly that long', async (t) => {
  const { bare, clock, a: [a], b: [b] } = await twoMachines(t)
  await a!.locks.setGrace(2_000)
  const held = await a!.locks.acquire('path:g', { scope: 'remote', remote: 'origin', ttlMs: 1_000, autoRenew: false })
  t.equal(chainOf(bare, expectedLeaseRef('path:g'))[0]?.lease.graceMs, 2_000, 'the repository\'s grace, written in the chain')
  t.equal(await b!.locks.grace(), 5_000, 'the other machine\'s own setting is 5 s...')
  await clock.advance(1_000 + 1_999)
  t.equal(await code(b!.locks.acquire('path:g', { scope: 'remote', remote: 'origin', ttlMs: 1_000 })), 'LEASE_HELD', '...but it applies the holder\'s 2 s')
  await clock.advance(1)
  const taken = await b!.locks.acquire('path:g', { scope: 'remote', remote: 'origin', ttlMs: 1_000, autoRenew: false, graceMs: 0 })
  t.equal(taken.token, held.token + 1, 'the next epoch')
  t.equal(chainOf(bare, expectedLeaseRef('path:g'))[1]?.lease.graceMs, 0, 'an acquire may name its own grace')
})
