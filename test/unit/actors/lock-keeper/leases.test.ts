/**
 * The pure lease table: resources, conflicts, grants, fencing tokens, grace,
 * renew/release, housekeeping and immutability. The seeded property test is
 * in leases-property.test.ts.
 */
import t from 'tap'
import {
  acquire,
  conflicts,
  emptyLeaseTable,
  expire,
  liveLeases,
  nextDeadline,
  parseResource,
  release,
  renew,
  status,
  type AcquireResult,
  type Holder,
  type Lease,
  type LeaseTable,
} from '../../../../actors/lock-keeper/leases.ts'
import { isCairnError } from '../../../../protocol/errors.ts'
import { mulberry32 } from '../../../helpers/prng.ts'
import { ALICE, ALICE_2, BOB, deepFreeze } from './fixtures.ts'

const TTL = 1_000
const GRACE = 500


function granted(r: AcquireResult): Extract<AcquireResult, { granted: true }> {
  if (!r.granted) throw new Error(`expected a grant, got a conflict with ${r.conflict.resource}`)
  return r
}

/** Acquires on a frozen table and returns the grant; throws on a conflict. */
function grant(state: LeaseTable, resource: string, holder: Holder, now: number, ttlMs = TTL) {
  return granted(acquire(deepFreeze(state), { resource, holder, ttlMs }, now, GRACE))
}

const res = (s: string) => parseResource(s)

t.test('parseResource accepts and normalises valid resources', async (t) => {
  t.strictSame(res('repo:main'), { kind: 'repo', name: 'main', key: 'repo:main' })
  t.strictSame(res('repo:a:b'), { kind: 'repo', name: 'a:b', key: 'repo:a:b' }, 'only the first colon splits')
  t.strictSame(res('path:src'), { kind: 'path', name: 'src', key: 'path:src' })
  t.strictSame(res('path:src/lib/a.ts'), { kind: 'path', name: 'src/lib/a.ts', key: 'path:src/lib/a.ts' })
  t.equal(res('path:.github/ci.yml').key, 'path:.github/ci.yml', 'dot files are not . segments')
  t.equal(res('path:a/..b/c..').key, 'path:a/..b/c..')
  t.equal(res('path:my dir/é.txt').key, 'path:my dir/é.txt')
  t.strictSame(res('issue:beef'), { kind: 'issue', name: 'beef', key: 'issue:beef' })
  t.strictSame(res('issue:BeEf'), { kind: 'issue', name: 'beef', key: 'issue:beef' }, 'issue ids are lowercased')
  t.equal(res(`issue:${'F'.repeat(32)}`).key, `issue:${'f'.repeat(32)}`)
  t.equal(res(`repo:${'x'.repeat(1024)}`).name.length, 1024, '1024 characters is the limit')
  t.equal(res(`path:${'a/'.repeat(511)}b`).name.length, 1023)
})

t.test('parseResource refuses every invalid form with INVALID_ARGUMENT resource', async (t) => {
  const bad: unknown[] = [
    undefined, null, 5, {}, ['repo:a'],
    '', 'repo', 'main', ':x', 'foo:bar', 'REPO:x', 'Path:a', ' repo:x', 'repos:x',
    'repo:', 'path:', 'issue:',
    `repo:${'x'.repeat(1025)}`, `path:${'a/'.repeat(512)}b`,
    'repo:a\nb', 'repo:\u0000', 'path:a\tb', 'path:a\u007f', 'issue:beef\u0085', 'repo:\u001b[31m',
    'path:/', 'path:/a', 'path:a/', 'path:a//b', 'path:.', 'path:..', 'path:./a', 'path:a/.', 'path:a/./b', 'path:a/../b', 'path:../a',
    'issue:abc', `issue:${'a'.repeat(33)}`, 'issue:xyz1', 'issue:-abc', 'issue:ab cd', 'issue:0x12', 'issue: beef',
  ]
  for (const s of bad) {
    t.throws(() => parseResource(s), { code: 'INVALID_ARGUMENT', details: { field: 'resource' } }, JSON.stringify(s)?.slice(0, 40))
  }
})

t.test('conflict matrix', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['repo:main', 'repo:main', true],
    ['repo:main', 'repo:other', true],
    ['repo:main', 'path:a', true],
    ['repo:main', 'path:a/b/c', true],
    ['repo:main', 'issue:beef', true],
    ['path:a', 'path:a', true],
    ['path:a', 'path:a/b', true],
    ['path:a', 'path:a/b/c', true],
    ['path:a/b', 'path:a/b/c', true],
    ['path:a', 'path:ab', false],
    ['path:a', 'path:ab/c', false],
    ['path:a/b', 'path:a/bc', false],
    ['path:a/b', 'path:a/c', false],
    ['path:a.ts', 'path:a', false],
    ['path:b', 'path:a/b', false],
    ['issue:beef', 'issue:beef', true],
    ['issue:beef', 'issue:BEEF', true],
    ['issue:beef', 'issue:beef01', false],
    ['issue:beef', 'issue:cafe', false],
    ['path:beef', 'issue:beef', false],
    ['path:a', 'issue:abcd', false],
  ]
  for (const [a, b, expected] of cases) {
    t.equal(conflicts(res(a), res(b)), expected, `${a} x ${b}`)
    t.equal(conflicts(res(b), res(a)), expected, `${b} x ${a} (symmetric)`)
  }
})

t.test('acquire grants, then refuses a live conflicting lease', async (t) => {
  const g = grant(emptyLeaseTable(), 'path:src', ALICE, 100)
  t.strictSame(g.lease, { resource: 'path:src', holder: ALICE, token: 1, ttlMs: TTL, grantedAt: 100, expiresAt: 1100, heartbeatAt: 100, graceMs: GRACE })
  t.strictSame(g.replaced, [])
  t.strictSame(g.state, { leases: { 'path:src': g.lease }, lastToken: { 'path:src': 1 } })

  for (const r of ['path:src', 'path:src/a.ts', 'repo:main']) {
    const c = acquire(g.state, { resource: r, holder: BOB, ttlMs: TTL }, 200, GRACE)
    t.strictSame(c, { granted: false, conflict: g.lease }, `${r} conflicts`)
  }
  t.ok(acquire(g.state, { resource: 'path:srcs', holder: BOB, ttlMs: TTL }, 200, GRACE).granted, 'a sibling prefix is free')
  t.ok(acquire(g.state, { resource: 'issue:beef', holder: BOB, ttlMs: TTL }, 200, GRACE).granted)
})

t.test('the same holder re-acquiring gets a conflict too; renew is the way to extend', async (t) => {
  const g = grant(emptyLeaseTable(), 'issue:beef', ALICE, 0)
  const again = acquire(g.state, { resource: 'issue:BEEF', holder: ALICE, ttlMs: TTL }, 10, GRACE)
  t.strictSame(again, { granted: false, conflict: g.lease })
  const otherSession = acquire(g.state, { resource: 'issue:beef', holder: ALICE_2, ttlMs: TTL }, 10, GRACE)
  t.notOk(otherSession.granted, 'a new session of the same actor is another holder')

  const p = grant(emptyLeaseTable(), 'path:a/b', ALICE, 0)
  t.notOk(acquire(p.state, { resource: 'path:a', holder: ALICE, ttlMs: TTL }, 10, GRACE).granted, 'own lease on a conflicting resource')
})

t.test('the conflict reported is the live one with the smallest key', async (t) => {
  let s = grant(emptyLeaseTable(), 'path:z', ALICE, 0).state
  s = grant(s, 'issue:beef', BOB, 0).state
  s = grant(s, 'path:b/c', BOB, 0).state
  s = grant(s, 'path:b/a', ALICE, 0).state
  const c = acquire(s, { resource: 'repo:main', holder: ALICE_2, ttlMs: TTL }, 10, GRACE)
  t.equal(!c.granted && c.conflict.resource, 'issue:beef')
  const p = acquire(s, { resource: 'path:b', holder: ALICE_2, ttlMs: TTL }, 10, GRACE)
  t.equal(!p.granted && p.conflict.resource, 'path:b/a')
})

t.test('tokens strictly increase per resource across release and re-acquire', async (t) => {
  let s = emptyLeaseTable()
  const tokens: number[] = []
  for (let i = 0; i < 5; i++) {
    const g = grant(s, 'path:a', i % 2 ? ALICE : BOB, i * 10)
    tokens.push(g.lease.token)
    s = release(deepFreeze(g.state), { resource: 'path:a', token: g.lease.token }, i * 10 + 1).state
    t.equal(s.lastToken['path:a'], g.lease.token, 'release keeps lastToken')
    t.strictSame(s.leases, {})
  }
  t.strictSame(tokens, [1, 2, 3, 4, 5])
})

t.test('tokens are independent per resource', async (t) => {
  let s = emptyLeaseTable()
  const a1 = grant(s, 'path:a', ALICE, 0)
  s = release(a1.state, { resource: 'path:a', token: 1 }, 1).state
  const a2 = grant(s, 'path:a', ALICE, 2)
  const b1 = grant(a2.state, 'path:b', BOB, 3)
  const i1 = grant(b1.state, 'issue:beef', BOB, 4)
  t.equal(a2.lease.token, 2)
  t.equal(b1.lease.token, 1)
  t.equal(i1.lease.token, 1)
  t.strictSame(i1.state.lastToken, { 'path:a': 2, 'path:b': 1, 'issue:beef': 1 })
})

t.test('TTL lapsed within grace: still live, no takeover', async (t) => {
  // Heartbeat at 0, TTL 1000, grace 1500: expired at 1000 but protected until 1500.
  const g = granted(acquire(emptyLeaseTable(), { resource: 'path:a', holder: ALICE, ttlMs: 1000 }, 0, 1500))
  for (const now of [999, 1000, 1499]) {
    t.notOk(acquire(g.state, { resource: 'path:a', holder: BOB, ttlMs: TTL }, now, 1500).granted, `at ${now}`)
    t.equal(status(g.state, 'path:a', now, 1500).live, true)
  }
  t.strictSame(status(g.state, 'path:a', 1499, 1500), { lease: g.lease, live: true, takeoverAt: 1500 })
  const r = renew(g.state, { resource: 'path:a', token: 1 }, 1499, 1500)
  t.equal(r.lease.expiresAt, 2499, 'the holder may still renew within grace')
  const taken = granted(acquire(g.state, { resource: 'path:a', holder: BOB, ttlMs: TTL }, 1500, 1500))
  t.equal(taken.lease.token, 2, 'taken over at the takeover time')
})

t.test('a recent heartbeat does not outlive the TTL; grace shorter than TTL changes nothing', async (t) => {
  const g = grant(emptyLeaseTable(), 'path:a', ALICE, 0) // expires 1000, grace 500
  t.notOk(acquire(g.state, { resource: 'path:a', holder: BOB, ttlMs: TTL }, 999, GRACE).granted)
  t.ok(acquire(g.state, { resource: 'path:a', holder: BOB, ttlMs: TTL }, 1000, GRACE).granted)
})

t.test('lapse beyond grace: takeover reports the replaced leases; tokens go on', async (t) => {
  let s = grant(emptyLeaseTable(), 'path:a/b', ALICE, 0).state
  s = grant(s, 'path:a/c', BOB, 0).state
  s = grant(s, 'issue:beef', BOB, 0).state
  s = grant(s, 'path:a', ALICE_2, 5_000).state // path:a/* lapsed at 1000, takeover of both
  const after = s
  t.strictSame(Object.keys(after.leases).sort(), ['issue:beef', 'path:a'])

  const again = grant(emptyLeaseTable(), 'path:a/b', ALICE, 0)
  const t1 = grant(again.state, 'path:a/b', BOB, 2_000)
  t.equal(t1.lease.token, 2, 'takeover of the same resource gets the next token')
  t.strictSame(t1.replaced, [again.lease])

  const repo = grant(after, 'repo:main', BOB, 10_000)
  t.strictSame(repo.replaced.map((l) => l.resource), ['issue:beef', 'path:a'], 'replaced in key order')
  t.strictSame(Object.keys(repo.state.leases), ['repo:main'])
  t.strictSame(repo.state.lastToken, { 'path:a/b': 1, 'path:a/c': 1, 'issue:beef': 1, 'path:a': 1, 'repo:main': 1 })
  const b2 = grant(repo.state, 'path:a/b', ALICE, 20_000)
  t.equal(b2.lease.token, 2, 'lastToken survives the lease being replaced by another resource')
})

t.test('tokens go on across expire()', async (t) => {
  const g = grant(emptyLeaseTable(), 'issue:beef', ALICE, 0)
  const e = expire(deepFreeze(g.state), 2_000, GRACE)
  t.strictSame(e.expired, [g.lease])
  t.strictSame(e.state, { leases: {}, lastToken: { 'issue:beef': 1 } })
  t.equal(grant(e.state, 'issue:beef', BOB, 2_000).lease.token, 2)
})

t.test('a table whose lastToken was lost still never repeats the current token', async (t) => {
  const g = grant(emptyLeaseTable(), 'path:a', ALICE, 0)
  const damaged: LeaseTable = { leases: g.state.leases, lastToken: {} }
  t.equal(grant(damaged, 'path:a', BOB, 5_000).lease.token, 2)
})

t.test('renew extends and keeps the token', async (t) => {
  const g = grant(emptyLeaseTable(), 'path:a', ALICE, 0)
  const r = renew(deepFreeze(g.state), { resource: 'path:a', token: 1 }, 800, GRACE)
  t.strictSame(r.lease, { ...g.lease, expiresAt: 1800, heartbeatAt: 800 })
  t.strictSame(r.state.leases['path:a'], r.lease)
  t.strictSame(r.state.lastToken, { 'path:a': 1 })
  const longer = renew(r.state, { resource: 'path:a', token: 1, ttlMs: 5_000 }, 900, GRACE)
  t.match(longer.lease, { token: 1, ttlMs: 5_000, expiresAt: 5_900, heartbeatAt: 900, grantedAt: 0 })
  t.notOk(acquire(longer.state, { resource: 'path:a', holder: BOB, ttlMs: TTL }, 5_000, GRACE).granted)
  t.equal(renew(longer.state, { resource: 'path:a', token: 1 }, 1000, GRACE).lease.expiresAt, 6_000, 'the new ttl sticks')
})

t.test('renew and release with a stale or unknown token: LEASE_LOST with details', async (t) => {
  const first = grant(emptyLeaseTable(), 'path:a', ALICE, 0)
  const second = grant(first.state, 'path:a', BOB, 5_000) // takeover: token 2
  const s = deepFreeze(second.state)
  const stale = { code: 'LEASE_LOST', details: { resource: 'path:a', token: 1, currentToken: 2 } }
  t.throws(() => renew(s, { resource: 'path:a', token: 1 }, 5_001, GRACE), stale)
  t.throws(() => release(s, { resource: 'path:a', token: 1 }, 5_001), stale)
  t.throws(() => release(s, { resource: 'path:a', token: 3 }, 5_001), { code: 'LEASE_LOST', details: { token: 3, currentToken: 2 } })
  const none = { code: 'LEASE_LOST', details: { resource: 'path:b', token: 1, currentToken: null } }
  t.throws(() => renew(s, { resource: 'path:b', token: 1 }, 5_001, GRACE), none)
  t.throws(() => release(s, { resource: 'path:b', token: 1 }, 5_001), none)
  const released = release(s, { resource: 'path:a', token: 2 }, 5_002)
  t.strictSame(released.released, second.lease)
  t.throws(() => release(released.state, { resource: 'path:a', token: 2 }, 5_003), { code: 'LEASE_LOST', details: { currentToken: null } })
  t.throws(() => renew(released.state, { resource: 'path:a', token: 2 }, 5_003, GRACE), { code: 'LEASE_LOST' })
})

t.test('renew after lapsing past grace: LEASE_LOST, even before anyone takes over', async (t) => {
  const g = grant(emptyLeaseTable(), 'path:a', ALICE, 0)
  t.throws(() => renew(g.state, { resource: 'path:a', token: 1 }, 1_000 + GRACE, GRACE), {
    code: 'LEASE_LOST',
    details: { resource: 'path:a', token: 1, currentToken: 1 },
  })
  const { released } = release(g.state, { resource: 'path:a', token: 1 }, 9_999)
  t.equal(released.token, 1, 'a lapsed lease nobody took can still be released')
})

t.test('renew and release normalise the resource', async (t) => {
  const g = grant(emptyLeaseTable(), 'issue:BEEF', ALICE, 0)
  t.equal(g.lease.resource, 'issue:beef')
  t.equal(renew(g.state, { resource: 'issue:Beef', token: 1 }, 1, GRACE).lease.resource, 'issue:beef')
  t.strictSame(release(g.state, { resource: 'issue:BEEF', token: 1 }, 1).state.leases, {})
})

t.test('nextDeadline, expire, liveLeases and status', async (t) => {
  t.equal(nextDeadline(emptyLeaseTable(), GRACE), null)
  let s = grant(emptyLeaseTable(), 'path:a', ALICE, 0, 1_000).state //  takeover at max(1000, 500) = 1000
  s = grant(s, 'path:b', BOB, 100, 200).state //                        takeover at max(300, 600) = 600
  s = grant(s, 'issue:beef', BOB, 200, 5_000).state //                  takeover at 5200
  deepFreeze(s)
  t.equal(nextDeadline(s, GRACE), 600)
  t.equal(nextDeadline(s, 2_000), 600, 'leases keep the grace they were granted with; the argument does not change it')
  const legacy = { leases: { 'path:a': { ...(s.leases['path:a'] as Lease), graceMs: undefined } }, lastToken: s.lastToken }
  t.equal(nextDeadline(legacy, 2_000), 2_000, 'a lease stored without its grace gets the argument; grace can dominate: heartbeat 0 + 2000')

  t.strictSame(liveLeases(s, 599, GRACE).map((l) => l.resource), ['issue:beef', 'path:a', 'path:b'])
  t.strictSame(liveLeases(s, 600, GRACE).map((l) => l.resource), ['issue:beef', 'path:a'])
  t.strictSame(status(s, 'path:b', 600, GRACE), { lease: s.leases['path:b'], live: false, takeoverAt: 600 })
  t.strictSame(status(s, 'path:zzz', 600, GRACE), { lease: null, live: false, takeoverAt: null })
  t.strictSame(status(s, 'path:a/b', 0, GRACE).lease, null, 'status looks at the exact resource only')

  const e1 = expire(s, 599, GRACE)
  t.strictSame(e1.expired, [])
  t.strictSame(e1.state, s)
  t.not(e1.state, s, 'a new object even when nothing expired')
  const e2 = expire(s, 1_000, GRACE)
  t.strictSame(e2.expired.map((l) => l.resource), ['path:a', 'path:b'])
  t.strictSame(Object.keys(e2.state.leases), ['issue:beef'])
  t.equal(nextDeadline(e2.state, GRACE), 5_200)
  t.strictSame(e2.state.lastToken, s.lastToken)

  // Renewing moves the deadline.
  const r = renew(s, { resource: 'path:b', token: 1 }, 599, GRACE)
  t.equal(nextDeadline(r.state, GRACE), 1_000)
})

t.test('arguments are validated with the field named', async (t) => {
  const s = grant(emptyLeaseTable(), 'path:a', ALICE, 0).state
  const field = (f: string) => ({ code: 'INVALID_ARGUMENT', details: { field: f } })
  for (const ttlMs of [0, -1, 1.5, 86_400_001, NaN, Infinity, '10', undefined]) {
    t.throws(() => acquire(s, { resource: 'path:b', holder: ALICE, ttlMs: ttlMs as number }, 0, GRACE), field('ttlMs'), `acquire ttl ${String(ttlMs)}`)
  }
  t.ok(acquire(s, { resource: 'path:b', holder: ALICE, ttlMs: 86_400_000 }, 0, GRACE).granted, 'the maximum ttl')
  t.ok(acquire(s, { resource: 'path:b', holder: ALICE, ttlMs: 1 }, 0, GRACE).granted, 'the minimum ttl')
  t.throws(() => renew(s, { resource: 'path:a', token: 1, ttlMs: 0 }, 0, GRACE), field('ttlMs'))
  for (const token of [0, -1, 1.5, 2 ** 53, NaN, '1', undefined]) {
    t.throws(() => renew(s, { resource: 'path:a', token: token as number }, 0, GRACE), field('token'), `renew token ${String(token)}`)
    t.throws(() => release(s, { resource: 'path:a', token: token as number }, 0), field('token'), `release token ${String(token)}`)
  }
  for (const actor of ['A'.repeat(32), 'a'.repeat(31), 'a'.repeat(33), 'g'.repeat(32), 42, undefined]) {
    t.throws(() => acquire(s, { resource: 'path:b', holder: { actor, session: 's' } as Holder, ttlMs: TTL }, 0, GRACE), field('actor'))
  }
  for (const session of ['', 'x'.repeat(129), 7, undefined]) {
    t.throws(() => acquire(s, { resource: 'path:b', holder: { actor: ALICE.actor, session } as Holder, ttlMs: TTL }, 0, GRACE), field('session'))
  }
  t.ok(acquire(s, { resource: 'path:b', holder: { actor: ALICE.actor, session: 'x'.repeat(128) }, ttlMs: TTL }, 0, GRACE).granted)
  t.throws(() => acquire(s, { resource: 'path:b', holder: null as unknown as Holder, ttlMs: TTL }, 0, GRACE), field('holder'))
  t.throws(() => acquire(s, null as never, 0, GRACE), field('request'))
  t.throws(() => acquire(s, { resource: 'nope', holder: ALICE, ttlMs: TTL }, 0, GRACE), field('resource'))
  t.throws(() => status(s, 'path:/a', 0, GRACE), field('resource'))

  for (const bad of [-1, 1.5, NaN, 2 ** 53, '0']) {
    const n = bad as number
    t.throws(() => acquire(s, { resource: 'path:b', holder: ALICE, ttlMs: TTL }, n, GRACE), field('now'))
    t.throws(() => acquire(s, { resource: 'path:b', holder: ALICE, ttlMs: TTL }, 0, n), field('graceMs'))
    t.throws(() => renew(s, { resource: 'path:a', token: 1 }, n, GRACE), field('now'))
    t.throws(() => renew(s, { resource: 'path:a', token: 1 }, 0, n), field('graceMs'))
    t.throws(() => release(s, { resource: 'path:a', token: 1 }, n), field('now'))
    t.throws(() => expire(s, n, GRACE), field('now'))
    t.throws(() => expire(s, 0, n), field('graceMs'))
    t.throws(() => nextDeadline(s, n), field('graceMs'))
    t.throws(() => liveLeases(s, n, GRACE), field('now'))
    t.throws(() => status(s, 'path:a', 0, n), field('graceMs'))
  }
  t.ok(acquire(s, { resource: 'path:b', holder: ALICE, ttlMs: TTL }, 0, 0).granted, 'zero grace is allowed')
})

t.test('the holder is copied, not aliased', async (t) => {
  const holder = { actor: ALICE.actor, session: 's', extra: 'x' }
  const g = grant(emptyLeaseTable(), 'path:a', holder, 0)
  t.strictSame(g.lease.holder, { actor: ALICE.actor, session: 's' })
  t.not(g.lease.holder, holder)
})

t.test('no function mutates its inputs; tables survive JSON', async (t) => {
  let s = deepFreeze(grant(emptyLeaseTable(), 'path:a', ALICE, 0).state)
  const snapshot = JSON.stringify(s)
  s = deepFreeze(grant(s, 'issue:beef', BOB, 0).state)
  s = deepFreeze(renew(s, { resource: 'path:a', token: 1 }, 100, GRACE).state)
  s = deepFreeze(grant(s, 'repo:main', BOB, 10_000).state)
  s = deepFreeze(release(s, { resource: 'repo:main', token: 1 }, 10_001).state)
  s = deepFreeze(expire(s, 20_000, GRACE).state)
  t.equal(snapshot, JSON.stringify(grant(emptyLeaseTable(), 'path:a', ALICE, 0).state), 'the first table is unchanged')
  t.strictSame(JSON.parse(JSON.stringify(s)), s)
  t.strictSame(s.lastToken, { 'path:a': 1, 'issue:beef': 1, 'repo:main': 1 })
})

t.test('grace is per lease: granted with the request\'s or the table\'s, kept by renew, validated', async (t) => {
  const own = granted(acquire(emptyLeaseTable(), { resource: 'path:a', holder: ALICE, ttlMs: 100, graceMs: 2_000 }, 0, GRACE))
  t.equal(own.lease.graceMs, 2_000)
  t.equal(status(own.state, 'path:a', 0, GRACE).takeoverAt, 2_000, 'its own grace, not the argument')
  t.equal(acquire(own.state, { resource: 'path:a', holder: BOB, ttlMs: 100 }, 1_999, GRACE).granted, false, 'protected until heartbeat + 2000')
  const renewed = renew(own.state, { resource: 'path:a', token: 1, ttlMs: 50 }, 1_000, GRACE)
  t.equal(renewed.lease.graceMs, 2_000, 'renew keeps the grace of the grant')
  t.equal(granted(acquire(own.state, { resource: 'path:a', holder: BOB, ttlMs: 100 }, 2_000, GRACE)).lease.graceMs, GRACE, 'the taker gets the table\'s')
  const zero = granted(acquire(emptyLeaseTable(), { resource: 'path:z', holder: ALICE, ttlMs: 100, graceMs: 0 }, 0, GRACE))
  t.equal(acquire(zero.state, { resource: 'path:z', holder: BOB, ttlMs: 100 }, 100, GRACE).granted, true, 'grace 0: takeover right at expiry')
  for (const graceMs of [-1, 1.5, 3_600_001, NaN, '5']) {
    t.throws(() => acquire(emptyLeaseTable(), { resource: 'path:b', holder: ALICE, ttlMs: 100, graceMs: graceMs as number }, 0, GRACE),
      { code: 'INVALID_ARGUMENT', details: { field: 'graceMs' } }, `graceMs ${String(graceMs)}`)
  }
})
