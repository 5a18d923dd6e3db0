/**
 * The rules of cross-machine leases, between two runtimes on two clones of
 * one bare remote, with time on the injected ManualClock: takeover only
 * after TTL + grace, a stale epoch cannot renew or release (LEASE_LOST), a
 * release frees the resource at once, heartbeats go through the remote and a
 * handle whose renewals cannot get through aborts at its expiry;
 * unreachable remotes, forged chains and bad arguments are coded errors.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import type { Repo } from '../../../../../lib/index.ts'
import { REMOTE_POLL_MS } from '../../../../../lib/api/locks.ts'
import type { RemoteLeaseInfo } from '../../../../../protocol/messages.ts'
import { assertCoded } from '../../../../helpers/coded-error.ts'
import { eventually } from '../../../../helpers/tmp-repos.ts'
import { chainOf, expectedLeaseRef, T0, twoMachines } from './git-remote.ts'
import { freePort, startGitDaemon } from '../../../../helpers/git-daemon.ts'

const GRACE = 5_000
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e))
const remote = { scope: 'remote' as const, remote: 'origin' }

t.test('takeover only after TTL + grace; the old epoch cannot renew or release; release frees at once', async (t) => {
  const { bare, clock, a: [a], b: [b] } = await twoMachines(t)
  const A = a as Repo
  const B = b as Repo
  const held = await A.locks.acquire('path:src', { ...remote, ttlMs: 3_000, autoRenew: false })
  t.equal(held.token, 1, 'the first commit of the chain: epoch 1')
  t.equal(held.scope, 'remote', 'the handle says where the lease is held')
  const err = await B.locks.acquire('path:src', { ...remote, ttlMs: 1_000 }).catch((e) => e)
  t.equal(err.code, 'LEASE_HELD', 'the other machine is refused')
  t.equal(err.details.heldBy.holder.actor, A.actor, 'LEASE_HELD names the holder on the other machine')
  t.equal(err.details.heldBy.takeoverAt, T0 + 3_000 + GRACE, 'and when it may be taken over: expiry + grace')
  t.equal(err.details.heldBy.token, undefined, 'but not its epoch')

  await clock.advance(3_000 + GRACE - 1)
  t.equal(held.signal.aborted, true, 'unrenewed past its own expiry, the holder\'s handle aborts')
  t.equal((held.signal.reason as { code?: string }).code, 'LEASE_LOST', 'with LEASE_LOST')
  t.equal(await code(B.locks.acquire('path:src', { ...remote, ttlMs: 1_000 })), 'LEASE_HELD', 'within grace nobody takes over')
  await clock.advance(1)
  const taken = await B.locks.acquire('path:src', { ...remote, ttlMs: 60_000, autoRenew: false })
  t.equal(taken.token, 2, 'taken over at expiry + grace, with the next epoch')

  // A handle on the old epoch that does not know yet (as after a pause): the chain fences it.
  const stale = A.locks.adopt(staleInfo(held.remote as string, A, held.token), 3_000, false)
  const lost = await stale.renew().catch((e) => e)
  t.equal(lost.code, 'LEASE_LOST', 'renewing a stale epoch is refused')
  t.equal(lost.details.currentToken, 2, 'naming the epoch that replaced it')
  t.equal(stale.signal.aborted, true, 'and the refused handle aborts its signal')
  t.equal(await code(A.locks.adopt(staleInfo(held.remote as string, A, held.token), 3_000, false).release()), 'LEASE_LOST', 'so is releasing it')

  await taken.release()
  const again = await A.locks.acquire('path:src', { ...remote, ttlMs: 60_000, autoRenew: false })
  t.equal(again.token, 4, 'a release frees the resource at once (epochs 1 acquire, 2 acquire, 3 release, 4 acquire)')
  const status = await B.locks.status('path:src', remote)
  t.equal((status.lease as { holder: { actor: string } }).holder.actor, A.actor, 'status reads the remote: the other machine sees the holder')
  t.same(chainOf(bare, expectedLeaseRef('path:src')).map((l) => `${l.lease.op}:${l.lease.epoch}`),
    ['acquire:1', 'acquire:2', 'release:2', 'acquire:4'], 'the chain, read with the git CLI')

  // wait: the other machine polls the remote on the runtime clock until the lease goes, or it gives up.
  const waiting = B.locks.acquire('path:src', { ...remote, ttlMs: 60_000, autoRenew: false, wait: { timeoutMs: 30_000 } })
  // B's remote lane is serial: once this answers, the waiter's first try was refused and its next poll armed.
  t.equal((await B.locks.status('path:src', remote)).lease?.holder.actor, A.actor, 'the waiter was refused once: A holds it')
  await again.release()
  await clock.advance(REMOTE_POLL_MS)
  t.equal((await waiting).token, 6, 'a waiter gets the lease at its next poll after the release')
  const ac = new AbortController()
  const aborted = code(A.locks.acquire('path:src', { ...remote, ttlMs: 1_000, wait: { timeoutMs: 30_000 }, signal: ac.signal }))
  await A.locks.status('path:src', remote)
  ac.abort()
  t.equal(await aborted, 'ABORTED', 'aborting a waiting remote acquire')
})

/** What a holder that has not noticed its loss still has: its old epoch (the handle's timers are far off). */
function staleInfo(remoteUrl: string, repo: Repo, token: number): RemoteLeaseInfo {
  return {
    scope: 'remote', remote: remoteUrl, commit: '', resource: 'path:src', token, holder: { actor: repo.actor, session: '' },
    ttlMs: 3_000, graceMs: GRACE, grantedAt: T0, expiresAt: T0 + 1e9, heartbeatAt: T0,
  }
}

t.test('heartbeats renew through git daemon; when renewals cannot get through, the handle aborts at its expiry', async (t) => {
  const { box, clock, a: [a], b: [b] } = await twoMachines(t)
  const daemon = await startGitDaemon(box.dir)
  t.teardown(() => daemon.stop())
  const on = { scope: 'remote' as const, remote: daemon.url('remote.git') }
  const lease = await (a as Repo).locks.acquire('issue:beef', { ...on, ttlMs: 3_000 })
  for (let i = 1; i <= 3; i++) {
    await clock.advance(1_000)
    // Bounded wait for the heartbeat the clock just fired to reach the remote.
    await eventually(async () => ((await (b as Repo).locks.status('issue:beef', on)).lease?.heartbeatAt ?? 0) >= T0 + i * 1_000)
  }
  t.equal(lease.signal.aborted, false, 'three heartbeats kept it across a whole TTL')
  t.equal(await code((b as Repo).locks.acquire('issue:beef', { ...on, ttlMs: 1_000 })), 'LEASE_HELD', 'the other machine is refused meanwhile')
  const expiresAt = lease.expiresAt
  await daemon.stop()
  t.equal(await code((b as Repo).locks.acquire('issue:beef', { ...on, ttlMs: 1_000 })), 'UNREACHABLE', 'a stopped remote is UNREACHABLE')
  await clock.advance(1_000)
  // That renewal fails (UNREACHABLE) and is retried while the lease lasts; at its expiry the handle gives up.
  await clock.set(expiresAt)
  await eventually(() => lease.signal.aborted)
  t.equal((lease.signal.reason as { code?: string }).code, 'LEASE_LOST', 'aborted at its own expiry, renewals having failed')
})

t.test('unreachable remotes, forged chains and bad arguments are coded errors; the runtime keeps serving', async (t) => {
  const { box, bare, a: [a] } = await twoMachines(t)
  const A = a as Repo
  const acquire = (opts: Record<string, unknown>, resource = 'path:x') => A.locks.acquire(resource, { ttlMs: 1_000, autoRenew: false, ...opts } as never)
  const port = await freePort()
  const cases: [string, Record<string, unknown>, string, string | null][] = [
    ['missing path', { scope: 'remote', remote: join(box.dir, 'nope.git') }, 'UNREACHABLE', null],
    ['missing file:// URL', { scope: 'remote', remote: `file://${join(box.dir, 'nope.git')}` }, 'UNREACHABLE', null],
    ['closed port', { scope: 'remote', remote: `git://127.0.0.1:${port}/remote.git` }, 'UNREACHABLE', null],
    ['unknown remote name', { scope: 'remote', remote: 'upstream' }, 'NOT_FOUND', null],
    ['unknown scope', { scope: 'global' }, 'INVALID_ARGUMENT', 'scope'],
    ['remote scope without remote', { scope: 'remote' }, 'INVALID_ARGUMENT', 'remote'],
    ['remote not a string', { scope: 'remote', remote: 42 }, 'INVALID_ARGUMENT', 'remote'],
    ['empty remote', { scope: 'remote', remote: '' }, 'INVALID_ARGUMENT', 'remote'],
    ['remote with local scope', { remote: 'origin' }, 'INVALID_ARGUMENT', 'remote'],
    ['remote like an option', { scope: 'remote', remote: '--upload-pack=touch /tmp/x' }, 'INVALID_ARGUMENT', 'remote'],
    ['remote with a newline', { scope: 'remote', remote: 'origin\nx' }, 'INVALID_ARGUMENT', 'remote'],
    ['negative grace', { scope: 'remote', remote: 'origin', graceMs: -1 }, 'INVALID_ARGUMENT', 'graceMs'],
    ['ttl 0', { scope: 'remote', remote: 'origin', ttlMs: 0 }, 'INVALID_ARGUMENT', 'ttlMs'],
  ]
  for (const [name, opts, want, field] of cases) assertCoded(t, await acquire(opts).catch((e) => e), opts, want, field, name)
  assertCoded(t, await acquire({ scope: 'remote', remote: 'origin' }, 'bogus:x').catch((e) => e), 'bogus:x', 'INVALID_ARGUMENT', 'resource', 'bad resource')
  assertCoded(t, await A.locks.status('path:x', { scope: 'remote', remote: `git://127.0.0.1:${port}/r.git` }).catch((e) => e), port, 'UNREACHABLE', null, 'status of an unreachable remote')
  assertCoded(t, await A.locks.status('path:x', { scope: 'x' as never }).catch((e) => e), 'x', 'INVALID_ARGUMENT', 'scope', 'status with a bad scope')

  // A chain whose tip holds another resource (a hash collision or a forgery) or no valid lease.json is never built on.
  const forge = (resource: string, json: string): void => {
    const blob = execFileSync('git', ['-C', bare, 'hash-object', '-w', '--stdin'], { input: json, encoding: 'utf8' }).trim()
    const tree = execFileSync('git', ['-C', bare, 'mktree'], { input: `100644 blob ${blob}\tlease.json\n`, encoding: 'utf8' }).trim()
    const commit = execFileSync('git', ['-C', bare, 'commit-tree', tree, '-m', 'forged'], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' } }).trim()
    execFileSync('git', ['-C', bare, 'update-ref', expectedLeaseRef(resource), commit])
  }
  const other = { v: 1, op: 'release', resource: 'path:other', holder: { actor: 'f'.repeat(32), session: 's' }, epoch: 1, seq: 1, ttlMs: 1, graceMs: 0, grantedAt: 0, expiresAt: 0, heartbeatAt: 0 }
  forge('path:forged', JSON.stringify(other))
  assertCoded(t, await acquire({ scope: 'remote', remote: 'origin' }, 'path:forged').catch((e) => e), 'forged', 'INVALID_FORMAT', null, 'a tip holding another resource')
  forge('path:garbled', '{"v":1,"op":"acquire"')
  assertCoded(t, await acquire({ scope: 'remote', remote: 'origin' }, 'path:garbled').catch((e) => e), 'garbled', 'INVALID_FORMAT', null, 'a tip whose lease.json is not JSON')

  const local = await A.locks.acquire('path:x', { ttlMs: 1_000, autoRenew: false })
  const remoteOk = await A.locks.acquire('path:x', { ...remote, ttlMs: 1_000, autoRenew: false })
  t.ok(local.token >= 1 && remoteOk.token === 1, 'local and remote leases still work; they are separate namespaces')
  await Promise.all([local.release(), remoteOk.release()])
})
