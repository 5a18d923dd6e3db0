/**
 * Cross-machine lease chains, pure: the next commit's record, liveness on
 * the taker's clock (expiry + the holder's grace), fencing of renew and
 * release on (epoch, holder), and lease.json's wire format.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { acquireRecord, isLive, leaseRef, releaseRecord, renewRecord, takeoverAt } from '../../../../actors/lock-keeper/remote/chain.ts'
import { decodeLeaseRecord, encodeLeaseRecord } from '../../../../lib/adapters/git/lease-format.ts'
import type { LeaseRecord } from '../../../../lib/kernel/ports/lease-refs.ts'
import { ALICE, ALICE_2, BOB } from './fixtures.ts'

const req = (holder = ALICE) => ({ resource: 'path:a', holder, ttlMs: 1_000, graceMs: 500 })

function granted(tip: LeaseRecord | null, now: number, holder = ALICE): LeaseRecord {
  const r = acquireRecord(tip, req(holder), now)
  if (!r.ok) throw new Error('expected a grant')
  return r.record
}

t.test('the ref is the first 16 hex of sha256 of the resource key', async (t) => {
  t.equal(leaseRef('issue:beef'), `refs/cairn/leases/${createHash('sha256').update('issue:beef').digest('hex').slice(0, 16)}`)
  t.not(leaseRef('path:a'), leaseRef('path:a/b'), 'each resource has its own chain')
})

t.test('acquire: epoch = seq = chain length; refused while the tip is live on the taker\'s clock', async (t) => {
  const first = granted(null, 100)
  t.strictSame(first, { v: 1, op: 'acquire', resource: 'path:a', holder: ALICE, epoch: 1, seq: 1, ttlMs: 1_000, graceMs: 500, grantedAt: 100, expiresAt: 1_100, heartbeatAt: 100 })
  t.equal(takeoverAt(first), 1_600, 'expiry + the holder\'s grace')
  for (const [now, holder, ok] of [[1_599, BOB, false], [1_599, ALICE, false], [1_599, ALICE_2, false], [1_600, BOB, true]] as const) {
    t.equal(acquireRecord(first, req(holder), now).ok, ok, `at ${now} for ${holder.actor.slice(0, 1)}/${holder.session}`)
  }
  const taken = granted(first, 1_600, BOB)
  t.match(taken, { epoch: 2, seq: 2, holder: BOB, expiresAt: 2_600 }, 'a takeover gets the next epoch')
  const released = releaseRecord(taken, { resource: 'path:a', token: 2, holder: BOB }, 1_700)
  t.match(released, { op: 'release', epoch: 2, seq: 3, expiresAt: 0, heartbeatAt: 1_700 })
  t.equal(isLive(released, 0), false, 'a release frees the resource at once')
  t.match(granted(released, 1_700), { epoch: 4, seq: 4 }, 'the next acquire continues the count')
})

t.test('renew and release are fenced on epoch and holder; renew also on the grace', async (t) => {
  const first = granted(null, 0)
  const renewed = renewRecord(first, { resource: 'path:a', token: 1, holder: ALICE, ttlMs: 2_000 }, 900)
  t.match(renewed, { op: 'renew', epoch: 1, seq: 2, ttlMs: 2_000, expiresAt: 2_900, heartbeatAt: 900, grantedAt: 0 })
  t.equal(renewRecord(renewed, { resource: 'path:a', token: 1, holder: ALICE }, 3_399).expiresAt, 3_399 + 2_000, 'within grace a renew still goes, keeping its ttl')
  const cases: [string, LeaseRecord | null, { token: number; holder: typeof ALICE }, number, string][] = [
    ['no chain', null, { token: 1, holder: ALICE }, 0, 'no lease chain'],
    ['a later epoch', granted(first, 1_500, BOB), { token: 1, holder: ALICE }, 1_500, 'moved on to epoch 2'],
    ['another session', first, { token: 1, holder: ALICE_2 }, 0, 'another holder'],
    ['released', releaseRecord(first, { resource: 'path:a', token: 1, holder: ALICE }, 10), { token: 1, holder: ALICE }, 20, 'released'],
  ]
  for (const [name, tip, who, now, why] of cases) {
    t.throws(() => renewRecord(tip, { resource: 'path:a', ...who }, now), { code: 'LEASE_LOST', message: new RegExp(why) }, `renew: ${name}`)
    t.throws(() => releaseRecord(tip, { resource: 'path:a', ...who }, now), { code: 'LEASE_LOST' }, `release: ${name}`)
  }
  t.throws(() => renewRecord(first, { resource: 'path:a', token: 1, holder: ALICE }, 1_500), { code: 'LEASE_LOST', message: /grace/ }, 'renew past grace')
  t.equal(releaseRecord(first, { resource: 'path:a', token: 1, holder: ALICE }, 1_500).op, 'release', 'a lapsed lease nobody took can be released')
})

t.test('lease.json round-trips and every malformed field is INVALID_FORMAT naming the commit', async (t) => {
  const r = granted(null, 5)
  const bytes = Buffer.from(encodeLeaseRecord(r))
  t.strictSame(decodeLeaseRecord(bytes, 'c1'), r)
  t.match(bytes.toString(), /^\{\n {2}"v": 1,\n {2}"op": "acquire",/, 'pretty JSON, version first')
  const bad: [string, unknown][] = [
    ['not json', '{'], ['array', '[]'], ['v 2', { ...r, v: 2 }], ['op', { ...r, op: 'steal' }], ['resource', { ...r, resource: 7 }],
    ['actor', { ...r, holder: { actor: 'A'.repeat(32), session: 's' } }], ['session', { ...r, holder: { actor: 'a'.repeat(32), session: '' } }],
    ['epoch 0', { ...r, epoch: 0 }], ['epoch > seq', { ...r, epoch: 2, seq: 1 }], ['negative time', { ...r, expiresAt: -1 }], ['float', { ...r, ttlMs: 1.5 }],
  ]
  for (const [name, value] of bad) {
    const b = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
    t.throws(() => decodeLeaseRecord(b, 'c2'), { code: 'INVALID_FORMAT', details: { commit: 'c2' } }, name)
  }
})
