/**
 * The claim record's rules (protocol/claim-record.ts), pure: who may claim
 * on which tip, that done is terminal, that only the holder renews,
 * releases or finishes its claim, what collection may delete, and that a
 * forged or foreign commit message is refused.
 */
import t from 'tap'
import {
  ADOPT_MIN_MS, adoptable, claimRecord, claimRef, collectable, decodeClaim, doneClaim, encodeClaim, isLive, releaseClaim, renewClaim, type ClaimRecord,
} from '../../../protocol/claim-record.ts'

const issue = 'ab'.repeat(16)
const a = { actor: '1'.repeat(32), session: 's-a' }
const b = { actor: '2'.repeat(32), session: 's-b' }
const req = (holder = a) => ({ issue, holder, ttlMs: 1_000, graceMs: 200 })
const granted = (step: ReturnType<typeof claimRecord>): ClaimRecord => {
  if (!step.ok) throw new Error(`refused: ${step.why}`)
  return step.record
}
const code = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}

t.test('a first claim is epoch 1; a live claim refuses everyone else, its holder included', async (t) => {
  const r = granted(claimRecord(null, req(), 100))
  t.match(r, { state: 'held', epoch: 1, seq: 1, holder: a, expiresAt: 1_100 })
  t.match(claimRecord(r, req(b), 500), { ok: false, why: 'held' })
  t.match(claimRecord(r, req(a), 500), { ok: false, why: 'held' }, 'one token names one grant')
  t.match(claimRecord(r, req(b), 1_299), { ok: false, why: 'held' }, 'held through the grace')
  const next = granted(claimRecord(r, req(b), 1_300))
  t.match(next, { epoch: 2, seq: 2, holder: b }, 'taken over once expiry + grace passed, with a higher epoch')
})

t.test('done is terminal: nobody claims a finished issue again, however late', async (t) => {
  const r = granted(claimRecord(null, req(), 0))
  const done = doneClaim(r, { issue, holder: a, token: 1 }, 10)!
  t.match(done, { state: 'done', epoch: 1, seq: 2, expiresAt: 0 })
  t.ok(isLive(done, Number.MAX_SAFE_INTEGER), 'done holds the issue for ever')
  t.match(claimRecord(done, req(b), 1e12), { ok: false, why: 'done' })
  t.equal(doneClaim(done, { issue, holder: b, token: null }, 20), null, 'closing twice changes nothing')
})

t.test('renew, release and done only by the holder of that epoch', async (t) => {
  const r = granted(claimRecord(null, req(), 0))
  t.equal(code(() => renewClaim(r, { issue, token: 2, holder: a }, 10)), 'LEASE_LOST', 'another epoch')
  t.equal(code(() => renewClaim(r, { issue, token: 1, holder: b }, 10)), 'LEASE_LOST', 'another holder')
  t.equal(code(() => renewClaim(r, { issue, token: 1, holder: a }, 1_200)), 'LEASE_LOST', 'lapsed past its grace')
  const renewed = renewClaim(r, { issue, token: 1, holder: a }, 500)
  t.match(renewed, { seq: 2, epoch: 1, expiresAt: 1_500 })
  const released = releaseClaim(renewed, { issue, token: 1, holder: a }, 600)
  t.match(released, { state: 'released', seq: 3, expiresAt: 0 })
  t.notOk(isLive(released, 600), 'a released claim frees the issue at once')
  t.equal(code(() => releaseClaim(released, { issue, token: 1, holder: a }, 700)), 'LEASE_LOST', 'released twice')
  t.match(granted(claimRecord(released, req(b), 601)), { epoch: 4, seq: 4 })
})

t.test('a close without a claim: refused while someone else holds it, allowed once free', async (t) => {
  const r = granted(claimRecord(null, req(), 0))
  t.equal(code(() => doneClaim(r, { issue, holder: b, token: null }, 10)), 'LEASE_HELD')
  t.match(doneClaim(r, { issue, holder: b, token: null }, 5_000), { state: 'done', holder: b, seq: 2 })
  t.match(doneClaim(null, { issue, holder: b, token: null }, 5), { state: 'done', seq: 1, epoch: 1 })
  t.equal(code(() => doneClaim(r, { issue, holder: b, token: 1 }, 10)), 'LEASE_LOST', 'a token that is not the caller\'s')
})

t.test('collection: released after a grace, lapsed after two, done after the retention; live never', async (t) => {
  const r = granted(claimRecord(null, req(), 0))
  t.notOk(collectable(r, 1_000, 0), 'a live claim stays')
  t.notOk(collectable(r, 1_399, 0))
  t.ok(collectable(r, 1_400, 0), 'lapsed past twice its grace')
  const released = releaseClaim(r, { issue, token: 1, holder: a }, 100)
  t.notOk(collectable(released, 299, 0))
  t.ok(collectable(released, 300, 0))
  const done = doneClaim(r, { issue, holder: a, token: 1 }, 100)!
  t.notOk(collectable(done, 100 + 59_999, 60_000), 'done stays for its retention')
  t.ok(collectable(done, 100 + 60_000, 60_000))
})

t.test('a done claim is claimed again only by a board that saw the issue reopened after it', async (t) => {
  const r = granted(claimRecord(null, req(), 0))
  const done = doneClaim(r, { issue, holder: a, token: 1 }, 100)!
  t.match(claimRecord(done, { ...req(b), reopenedAt: 100 }, 500), { ok: false, why: 'done' }, 'a reopen not after the done record is no reopen of it')
  t.match(claimRecord(done, { ...req(b), reopenedAt: 50 }, 500), { ok: false, why: 'done' })
  const again = granted(claimRecord(done, { ...req(b), reopenedAt: 101 }, 500))
  t.match(again, { state: 'held', holder: b, epoch: 3, seq: 3 }, 'reopened after it: claimed on top of the done record, next epoch')
})

t.test('a done record is taken at its word by a board that never saw the close, only once the holder had its time', async (t) => {
  const long = { ...req(), ttlMs: 4_000, graceMs: 2_000 }
  const r = granted(claimRecord(null, long, 0))
  const done = doneClaim(r, { issue, holder: a, token: 1 }, 1_000)!
  t.notOk(adoptable(done, 500, 1_000 + 5_999), 'not before ttl + grace past the done record')
  t.ok(adoptable(done, 500, 1_000 + 6_000), 'a board unchanged since before the done record closes it then')
  t.notOk(adoptable(done, 1_500, 1e9), 'an issue changed here after the done record (reopened) is left open')
  t.notOk(adoptable(r, 0, 1e9), 'a held claim is never adopted')
  const bare = doneClaim(null, { issue, holder: b, token: null }, 1_000)!
  t.notOk(adoptable(bare, 0, 1_000 + ADOPT_MIN_MS - 1), 'a done record without a claim waits the least time')
  t.ok(adoptable(bare, 0, 1_000 + ADOPT_MIN_MS))
})

t.test('the record round-trips through a commit message; forged ones are INVALID_FORMAT', async (t) => {
  const r = granted(claimRecord(null, req(), 123))
  const msg = encodeClaim(r)
  t.match(msg, /^cairn claim: held (ab){16} epoch 1\n\n\{/)
  t.same(decodeClaim(msg, 'c'.repeat(40)), r)
  const body = JSON.parse(msg.slice(msg.indexOf('\n\n') + 2)) as Record<string, unknown>
  const bad: [string, string][] = [
    ['not json', 'x\n\nnope'],
    ['an array', 'x\n\n[]'],
    ['version 2', `x\n\n${JSON.stringify({ ...body, v: 2 })}`],
    ['a bad state', `x\n\n${JSON.stringify({ ...body, state: 'stolen' })}`],
    ['a bad issue', `x\n\n${JSON.stringify({ ...body, issue: 'zz' })}`],
    ['a bad actor', `x\n\n${JSON.stringify({ ...body, holder: { actor: 'me', session: 's' } })}`],
    ['epoch past seq', `x\n\n${JSON.stringify({ ...body, epoch: 3, seq: 2 })}`],
    ['a negative expiry', `x\n\n${JSON.stringify({ ...body, expiresAt: -1 })}`],
    ['a huge message', `x\n\n${' '.repeat(5_000)}${JSON.stringify(body)}`],
  ]
  for (const [name, m] of bad) t.equal(code(() => decodeClaim(m, 'c'.repeat(40))), 'INVALID_FORMAT', name)
  t.equal(code(() => claimRef('../../heads/main')), 'INVALID_ARGUMENT', 'a ref name is never built from anything but an issue id')
  t.equal(claimRef(issue), `refs/cairn/claims/${issue}`)
})

t.test('a close fenced on a claim that another holder finished is LEASE_LOST, never done twice quietly', async (t) => {
  const r = granted(claimRecord(null, req(), 0))
  const taken = granted(claimRecord(r, req(b), 2_000))
  const doneByB = doneClaim(taken, { issue, holder: b, token: taken.epoch }, 2_100)!
  t.equal(code(() => doneClaim(doneByB, { issue, holder: a, token: r.epoch }, 2_200)), 'LEASE_LOST', 'the first holder, resumed, cannot close on its old epoch')
  t.equal(doneClaim(doneByB, { issue, holder: b, token: taken.epoch }, 2_200), null, 'its finisher closing again changes nothing')
  t.equal(doneClaim(doneByB, { issue, holder: a, token: null }, 2_200), null, 'an unfenced close of a finished issue changes nothing')
})
