/**
 * A session's leases, stepped on a manual clock against a scripted daemon:
 * renewed every ttl/3 for as long as the session lives, retried while a
 * renewal cannot get through, dropped with a note when refused or lapsed,
 * and released when the session ends.
 */
import t from 'tap'
import { CairnError } from '../../../../protocol/errors.ts'
import { ManualClock } from '../../../../lib/adapters/manual-clock.ts'
import { SessionLeases, type RenewCall } from '../../../../lib/mcp/session-leases.ts'

interface Seen { method: string; args: Record<string, unknown>; at: number }

function daemon(clock: ManualClock, answer: (s: Seen) => unknown = (s) => ({ resource: s.args.resource, token: s.args.token, expiresAt: s.at + (s.args.ttlMs as number ?? 0) })) {
  const seen: Seen[] = []
  const call: RenewCall = async (method, args) => {
    const s = { method, args, at: clock.now() }
    seen.push(s)
    const r = answer(s)
    if (r instanceof Error) throw r
    return r
  }
  return { seen, call }
}

const settle = () => new Promise((r) => setImmediate(r))

t.test('renewed every ttl/3 while held; released when the session ends', async (t) => {
  const clock = new ManualClock(1_000)
  const d = daemon(clock)
  const leases = new SessionLeases(d.call, clock)
  leases.hold({ resource: 'issue:ab12', token: 4, expiresAt: 4_000 }, 3_000)
  await clock.advance(999)
  t.equal(d.seen.length, 0, 'nothing before a third of the TTL')
  for (let i = 1; i <= 5; i++) {
    await clock.advance(1_000)
    await settle()
    t.equal(d.seen.length, i, `renewal ${i} at ${clock.now()}`)
  }
  t.same(d.seen.map((s) => s.method), Array(5).fill('locks.renew'))
  t.same(d.seen[0]!.args, { resource: 'issue:ab12', token: 4, ttlMs: 3_000 }, 'renewed by token with the TTL it was taken with')
  t.equal(leases.held()[0]!.expiresAt, d.seen[4]!.at + 3_000, 'the expiry the daemon answered')
  await leases.releaseAll(1_000)
  t.same(d.seen.at(-1), { method: 'locks.release', args: { resource: 'issue:ab12', token: 4 }, at: clock.now() }, 'released at the end')
  t.same(leases.held(), [])
  await clock.advance(10_000)
  t.equal(d.seen.length, 6, 'no renewal after the end')
  t.equal(clock.pending(), 0, 'no timer left behind')
})

t.test('a refused renewal drops the lease and leaves a note; forget stops renewing without releasing', async (t) => {
  const clock = new ManualClock(0)
  const d = daemon(clock, (s) => (s.args.resource === 'path:lost' ? new CairnError('LEASE_LOST', 'taken') : { ...s.args, expiresAt: s.at + 900 }))
  const leases = new SessionLeases(d.call, clock)
  leases.hold({ resource: 'path:lost', token: 1, expiresAt: 900 }, 900)
  leases.hold({ resource: 'path:kept', token: 2, expiresAt: 900 }, 900)
  leases.hold({ resource: 'issue:cafe', token: 3, expiresAt: 900 }, 900)
  t.same(leases.forget('issue:cafe').map((l) => l.token), [3], 'forget answers what it stopped keeping')
  await clock.advance(300)
  await settle()
  t.same(leases.held().map((l) => l.resource), ['path:kept'])
  t.match(leases.takeNotes(), [/path:lost \(token 1\) was lost: LEASE_LOST/])
  t.same(leases.takeNotes(), [], 'each note is handed over once')
  t.notOk(d.seen.some((s) => s.args.resource === 'issue:cafe'), 'a forgotten lease is neither renewed nor released')
})

t.test('a renewal that cannot get through is retried until the lease would lapse, then dropped', async (t) => {
  const clock = new ManualClock(0)
  let down = true
  const d = daemon(clock, (s) => (down ? new CairnError('UNAVAILABLE', 'daemon restarting') : { ...s.args, expiresAt: s.at + 3_000 }))
  const leases = new SessionLeases(d.call, clock)
  leases.hold({ resource: 'path:a', token: 1, expiresAt: 3_000 }, 3_000)
  leases.hold({ resource: 'path:b', token: 2, expiresAt: 3_000 }, 3_000)
  await clock.advance(1_000)
  await settle()
  t.equal(d.seen.length, 2, 'one attempt each at a third of the TTL')
  await clock.advance(299)
  await settle()
  t.equal(d.seen.length, 2, 'no retry before ttl/10 (at most 1 s)')
  await clock.advance(1)
  await settle()
  t.equal(d.seen.length, 4, 'retried after ttl/10')
  await clock.advance(300)
  await settle()
  t.equal(d.seen.length, 6, 'and again while the lease lasts')
  down = false
  leases.forget('path:b')
  await clock.advance(300)
  await settle()
  t.same(leases.held().map((l) => [l.resource, l.expiresAt]), [['path:a', 1_900 + 3_000]], 'a retry that gets through keeps the lease')
  down = true
  await clock.advance(5_000)
  await settle()
  await clock.advance(1_000)
  await settle()
  t.same(leases.held(), [], 'past its expiry without a renewal the lease is dropped')
  t.match(leases.takeNotes(), [/path:a \(token 1\) lapsed: it could not be renewed \(UNAVAILABLE\)/])
})

t.test('releaseAll is bounded: a release that never answers does not hold the session', async (t) => {
  const clock = new ManualClock(0)
  const leases = new SessionLeases(() => new Promise(() => undefined), clock)
  leases.hold({ resource: 'path:x', token: 1, expiresAt: 60_000 }, 60_000)
  const done = leases.releaseAll(5_000)
  let finished = false
  void done.then(() => { finished = true })
  await settle()
  t.notOk(finished)
  await clock.advance(5_000)
  await done
  t.ok(finished, 'gave up at the deadline; the lease lapses on its TTL')
})
