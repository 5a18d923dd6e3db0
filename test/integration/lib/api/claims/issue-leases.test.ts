/**
 * Explicit issue leases through the coordination remote (issue 19): two
 * clones with their own runtime homes name one bare remote as `cairn.remote`.
 * A local `locks.acquire('issue:<id>')` claims the issue on the remote too, so
 * the other machine can neither lease nor claim it; a waiting acquire gets it
 * once released; a done issue cannot be leased again; `local: true` and
 * other resources stay local.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (err: { code?: string }) => err.code)

t.test('an issue lease here is a claim on the coordination remote: the other machine is kept out until it ends', async (t) => {
  const box = sandbox()
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const runtimes = await Promise.all([1, 2].map((n) => createRuntime({ home: join(box.dir, `home-${n}`), threads: 1 })))
  t.teardown(async () => { await Promise.all(runtimes.map((rt) => rt.stop())); box.cleanup() })
  const [a, b] = await Promise.all(runtimes.map((rt, i) => rt.repo(box.repo(`clone-${i}`), { agent: `agent-${i}` }))) as [Repo, Repo]
  for (const r of [a, b]) await r.coordination.set(bare)
  const { id } = await a.issues.create({ title: 'leased by hand' })
  await a.sync({ remote: bare })
  await b.sync({ remote: bare })

  const lease = await a.locks.acquire(`issue:${id}`, { ttlMs: 30_000, autoRenew: false })
  t.match(await b.coordination.claim(id), { state: 'held', holder: { actor: a.actor } }, 'the lease is a claim on the remote')
  const refused = await b.locks.acquire(`issue:${id}`, { ttlMs: 30_000 }).catch((e) => e)
  t.equal(refused.code, 'LEASE_HELD', 'the other machine cannot lease it')
  t.match(refused.message, new RegExp(`claimed on the coordination remote .* by ${a.actor}`), 'and is told who holds it')
  t.equal(await b.issues.claimNext({ ttlMs: 30_000, autoRenew: false }), null, 'nor claim it')
  t.same(await b.locks.list(), [], 'nothing was leased there')

  // A waiting acquire gets it once the holder lets go.
  const waiting = b.locks.acquire(`issue:${id}`, { ttlMs: 30_000, autoRenew: false, wait: { timeoutMs: 20_000 } })
  await new Promise((r) => setTimeout(r, 300))
  await lease.release()
  const got = await waiting
  t.match(await a.coordination.claim(id), { state: 'held', holder: { actor: b.actor } }, 'the waiting machine holds it after the release')
  t.equal(await codeOf(a.locks.acquire(`issue:${id}`, { ttlMs: 30_000 })), 'LEASE_HELD', 'and the first one is kept out in turn')

  await b.issues.close(id, { lease: got })
  t.match(await a.coordination.claim(id), { state: 'done' })
  const done = await a.locks.acquire(`issue:${id}`, { ttlMs: 30_000 }).catch((e) => e)
  t.equal(done.code, 'LEASE_HELD', 'a finished issue cannot be leased again through the remote, however stale this board')
  t.match(done.message, /done on the coordination remote/)
  t.equal(await codeOf(a.locks.acquire(`issue:${id}`, { ttlMs: 30_000, wait: { timeoutMs: 60_000 } })), 'LEASE_HELD', 'waiting does not help a done issue')

  const local = await a.locks.acquire(`issue:${id}`, { ttlMs: 30_000, autoRenew: false, local: true })
  t.equal(local.scope, 'local', 'local: true leases on this clone only')
  await local.release()
  const path = await a.locks.acquire('path:src', { ttlMs: 30_000, autoRenew: false })
  t.equal(path.scope, 'local', 'other resources are not claims')
  await path.release()
  t.equal(await codeOf(a.locks.acquire(`issue:${id}`, { ttlMs: 30_000, local: 'yes' as unknown as boolean })), 'INVALID_ARGUMENT', 'a bad local flag is refused')
})

t.test('claim refs are collected without anyone calling collect(): a released claim is gone from the remote a grace later', async (t) => {
  const box = sandbox()
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('solo'), { agent: 'solo' })
  await repo.coordination.set(bare)
  const { id } = await repo.issues.create({ title: 'claimed and given back' })
  const refs = (): string[] => execFileSync('git', ['-C', bare, 'for-each-ref', '--format=%(refname)', 'refs/cairn/claims/'], { encoding: 'utf8' }).split('\n').filter(Boolean)
  const got = await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false })
  t.equal(got?.issue.id, id)
  t.same(refs(), [`refs/cairn/claims/${id}`], 'the claim is on the remote')
  await got!.lease.release()
  t.match(await repo.coordination.claim(id), { state: 'released' })
  // Bounded wait: the grace (2 s) + the collection's fetch and push.
  let left = refs()
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100))
    left = refs()
  }
  t.same(left, [], 'the released claim was collected in the background')
  t.equal(await repo.coordination.claim(id), null, 'and the remote has no claim for it any more')
})
