/**
 * A remote lease token fences Cairn's own issue writes (issue 19): two
 * runtimes on two clones of one bare remote, time on one ManualClock. The
 * holder of a remote lease on `issue:<id>` writes and closes with it; a
 * lease on another resource, or one no longer valid by its holder's clock,
 * is refused with LEASE_LOST and writes nothing; the machine that takes the
 * lease over writes with its own; a close ends the remote lease.
 */
import t from 'tap'
import type { Repo } from '../../../../../lib/index.ts'
import { twoMachines } from './git-remote.ts'

const GRACE = 5_000
const remote = { scope: 'remote' as const, remote: 'origin' }
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e))

t.test('remote lease tokens fence issue writes: the holder writes, a lapsed or foreign lease is LEASE_LOST and writes nothing', async (t) => {
  const { clock, a: [a], b: [b] } = await twoMachines(t)
  const A = a as Repo
  const B = b as Repo
  const { id } = await A.issues.create({ title: 'shared work' })
  const { id: other } = await A.issues.create({ title: 'other work' })
  await A.sync({ remote: 'origin' })
  await B.sync({ remote: 'origin' })

  const held = await A.locks.acquire(`issue:${id}`, { ...remote, ttlMs: 3_000, autoRenew: false })
  t.equal(held.scope, 'remote')
  t.equal(await code(A.issues.update(id, { title: 'shared work, started' }, { lease: held })), 'ok', 'the remote holder writes with its lease')
  t.equal(await code(A.issues.comment(id.slice(0, 8), 'by prefix too', { lease: held })), 'ok', 'also naming the issue by a prefix')
  const foreign = await A.locks.acquire(`issue:${other}`, { ...remote, ttlMs: 3_000, autoRenew: false })
  const wrong = await A.issues.update(id, { title: 'not under this lease' }, { lease: foreign }).catch((e) => e)
  t.equal(wrong.code, 'LEASE_LOST', 'a remote lease on another issue does not fence this one')
  t.match(wrong.message, /does not cover/)

  // Past its expiry by the holder's clock (no renewal): no longer valid, though nobody took it yet.
  await clock.advance(3_000)
  t.equal(held.valid(), false)
  t.equal(await code(A.issues.update(id, { title: 'too late' }, { lease: held })), 'LEASE_LOST', 'a lease no longer valid fences nothing')
  t.equal(await code(A.issues.close(id, { lease: held })), 'LEASE_LOST', 'nor a close')
  const seen = await A.issues.show(id)
  t.equal(seen.title, 'shared work, started', 'the refused write wrote nothing')
  t.equal(seen.state, 'open', 'the refused close closed nothing')

  await clock.advance(GRACE)
  const taken = await B.locks.acquire(`issue:${id}`, { ...remote, ttlMs: 60_000, autoRenew: false })
  t.ok(taken.token > held.token, 'the other machine takes it over with a higher epoch')
  await B.sync({ remote: 'origin' })
  t.equal(await code(B.issues.update(id, { title: 'finished on B' }, { lease: taken })), 'ok', 'the new holder writes with its lease')
  t.equal(await code(B.issues.close(id, { lease: taken, reason: 'done' })), 'ok', 'and closes with it')
  t.equal((await B.issues.show(id)).state, 'closed')
  const after = await B.locks.status(`issue:${id}`, remote)
  t.ok(after.lease === null || after.lease.live === false, 'the close ended the remote lease')
  await foreign.release()
})
