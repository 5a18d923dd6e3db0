/**
 * Leases belong to their holders, through a real runtime: renewing or
 * releasing needs the lease id only the holder was told (LEASE_NOT_HELD for
 * anyone else, and the lease is left exactly as it was); ending another's
 * lease early is a break, recorded with who, when and why, that burns a
 * token so the old holder's renewals and fenced writes are refused. The
 * store keeps the id's hash, never the id.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

const T0 = 1_800_000_000_000

async function setup(t: { teardown(fn: () => unknown): void }) {
  const box = sandbox()
  const path = box.repo('holders')
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const [alice, bob, ops] = await Promise.all(['alice', 'bob', 'ops'].map((agent) => rt.repo(path, { agent }))) as [Repo, Repo, Repo]
  return { rt, alice, bob, ops, clock, path, box }
}

const err = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string; details?: Record<string, unknown>; message?: string }) => e)

t.test('release and renew by anyone but the holder: LEASE_NOT_HELD, and the lease is unchanged', async (t) => {
  const { alice, bob } = await setup(t)
  const lease = await alice.locks.acquire('path:src/api.ts', { ttlMs: 10_000, autoRenew: false })
  t.match(lease.leaseId, /^[0-9a-f]{32}$/, 'the holder gets a 128-bit lease id')
  const before = await bob.locks.status('path:src/api.ts')
  const info = { resource: lease.resource, token: lease.token, ttlMs: 10_000, holder: { actor: bob.actor, session: 'x' }, grantedAt: 0, expiresAt: lease.expiresAt, heartbeatAt: 0 }
  // The bug this closes: a small sequential token was a bearer credential.
  const noId = bob.locks.adopt(info, 10_000, false)
  t.match(await err(noId.release()), { code: 'LEASE_NOT_HELD', details: { resource: 'path:src/api.ts', token: lease.token, holder: { actor: alice.actor, agent: 'alice' } } },
    'bob releasing alice\'s lease by its token: LEASE_NOT_HELD, naming the holder')
  t.match(await err(bob.locks.adopt(info, 10_000, false).renew(600_000)), { code: 'LEASE_NOT_HELD' }, 'renewing it: the same')
  const wrongId = bob.locks.adopt({ ...info, id: 'f'.repeat(32) }, 10_000, false)
  t.match(await err(wrongId.renew(600_000)), { code: 'LEASE_NOT_HELD' }, 'a guessed id: the same')
  t.match(await err(alice.locks.adopt(info, 10_000, false).release()), { code: 'LEASE_NOT_HELD' }, 'even the same agent without the id')
  t.same(await bob.locks.status('path:src/api.ts'), before, 'the lease is exactly as it was')
  await lease.renew(20_000)
  t.equal((await bob.locks.status('path:src/api.ts')).lease?.expiresAt, T0 + 20_000, 'the holder renews')
  const elsewhere = bob.locks.adopt({ ...info, id: lease.leaseId }, 10_000, false)
  await elsewhere.renew(30_000)
  t.equal((await bob.locks.status('path:src/api.ts')).lease?.expiresAt, T0 + 30_000, 'and whoever the holder gave the id to (another process of the agent) does too')
  await lease.release()
  t.equal((await bob.locks.status('path:src/api.ts')).lease, null, 'the holder releases')
  t.match(await err(elsewhere.renew()), { code: 'LEASE_LOST' }, 'a released lease is lost, whoever holds its id')
})

t.test('lists and errors show the token and the holder agent, never the id or its hash', async (t) => {
  const { alice, bob, path } = await setup(t)
  const lease = await alice.locks.acquire('issue:beef', { ttlMs: 10_000, autoRenew: false })
  const [view] = await bob.locks.list()
  t.match(view, { resource: 'issue:beef', token: lease.token, holder: { actor: alice.actor, agent: 'alice' }, live: true })
  t.notOk('id' in (view as object) || 'idHash' in (view as object), 'no id, no hash')
  const held = await err(bob.locks.acquire('issue:beef', { ttlMs: 1000 }))
  t.notOk(JSON.stringify(held?.details).includes(lease.leaseId as string), 'LEASE_HELD does not carry the id')
  // The repository's store files: the id must be nowhere (only its SHA-256 is kept).
  const dir = join(path, '.git', 'cairn')
  const bytes = readdirSync(dir).map((f) => readFileSync(join(dir, f)))
  t.notOk(bytes.some((b) => b.includes(Buffer.from(lease.leaseId as string))), 'the lease id is in no store file')
})

t.test('a break ends another\'s lease, is recorded, burns a token; the old holder is refused', async (t) => {
  const { alice, bob, ops, clock } = await setup(t)
  const issue = await alice.issues.create({ title: 'fenced' })
  const lease = await alice.locks.acquire(`issue:${issue.id}`, { ttlMs: 60_000, autoRenew: false })
  t.equal((await alice.issues.comment(issue.id, 'under my lease', { lease })).duplicate, false, 'the holder writes fenced')
  await clock.advance(1_000)
  const record = await ops.locks.break(`issue:${issue.id}`, { reason: 'alice crashed, the work moves to bob' })
  t.same(record, {
    resource: `issue:${issue.id}`, token: lease.token, burned: lease.token + 1, holder: { actor: alice.actor, session: record.holder.session, agent: 'alice' },
    by: { actor: ops.actor, agent: 'ops' }, at: T0 + 1_000, reason: 'alice crashed, the work moves to bob',
  }, 'the record: the broken lease, who, when and why')
  t.equal((await bob.locks.status(`issue:${issue.id}`)).lease, null, 'the resource is free at once')
  const write = await err(alice.issues.comment(issue.id, 'still mine?', { lease }))
  t.match(write, { code: 'LEASE_LOST', details: { token: lease.token, broken: { reason: 'alice crashed, the work moves to bob', by: { agent: 'ops' } } } },
    'the old holder\'s fenced write is refused, naming the break')
  t.match(write?.message, /broken by ops/)
  const renew = await err(lease.renew())
  t.match(renew, { code: 'LEASE_LOST', details: { broken: { by: { agent: 'ops' } } } }, 'its renewal too')
  t.equal(lease.signal.aborted, true, 'and its handle ends')
  const next = await bob.locks.acquire(`issue:${issue.id}`, { ttlMs: 10_000, autoRenew: false })
  t.equal(next.token, lease.token + 2, 'the next grant comes after the burned token')
  t.equal((await bob.issues.comment(issue.id, 'mine now', { lease: next })).duplicate, false, 'the new holder writes')
  t.match(await err(ops.locks.break('path:nothing', { reason: 'x' })), { code: 'NOT_FOUND' }, 'nothing to break: NOT_FOUND')
  for (const reason of ['', '   ', 'two\nlines', 'x'.repeat(1025), 5]) {
    t.match(await err(ops.locks.break(`issue:${issue.id}`, { reason: reason as string })), { code: 'INVALID_ARGUMENT', details: { field: 'reason' } }, `reason ${JSON.stringify(reason).slice(0, 20)}`)
  }
  t.equal(((await ops.locks.status(`issue:${issue.id}`)).lease as { token?: number } | null)?.token, next.token, 'a refused break changed nothing')
})

t.test('the same rules on a git remote: LEASE_NOT_HELD for a non-holder, a recorded break', async (t) => {
  const { alice, bob, ops, box } = await setup(t)
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const on = { scope: 'remote' as const, remote: bare }
  const lease = await alice.locks.acquire('path:src', { ...on, ttlMs: 10_000, autoRenew: false })
  t.match(lease.leaseId, /^[0-9a-f]{32}$/)
  const info = { scope: 'remote' as const, remote: lease.remote as string, commit: '', resource: 'path:src', token: lease.token, holder: { actor: bob.actor, session: 'x' },
    ttlMs: 10_000, graceMs: 0, grantedAt: 0, expiresAt: T0 + 10_000, heartbeatAt: 0 }
  t.match(await err(bob.locks.adopt(info, 10_000, false).release()), { code: 'LEASE_NOT_HELD' }, 'bob releasing alice\'s remote lease')
  t.match(await err(bob.locks.adopt(info, 10_000, false).renew()), { code: 'LEASE_NOT_HELD' }, 'or renewing it')
  t.equal((await bob.locks.status('path:src', on)).lease?.holder.actor, alice.actor, 'still alice\'s')
  const record = await ops.locks.break('path:src', { ...on, reason: 'alice is gone' })
  t.match(record, { token: lease.token, by: { agent: 'ops' }, reason: 'alice is gone' })
  t.match(await err(lease.renew()), { code: 'LEASE_LOST', details: { broken: { reason: 'alice is gone' } } }, 'the old holder learns of the break')
  const next = await bob.locks.acquire('path:src', { ...on, ttlMs: 10_000, autoRenew: false })
  t.ok(next.token > record.burned, 'the next epoch is past the burned one')
  await next.release()
})
