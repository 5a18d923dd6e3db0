/**
 * The LockKeeper's remote lane: its machine stepped purely, and its shell
 * over an in-memory LeaseRefs port whose compare-and-swap a test can make
 * lose (another machine appending just before), to reach every answer to a
 * lost race: LEASE_HELD, retry once on a dead winner, BUSY, LEASE_LOST, and
 * the retry after an append whose answer was missed.
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { remoteLaneMachine } from '../../../../actors/lock-keeper/remote/machine.ts'
import { MAX_REMOTE_QUEUE, RemoteLane } from '../../../../actors/lock-keeper/remote/lane.ts'
import { acquireRecord, releaseRecord } from '../../../../actors/lock-keeper/remote/chain.ts'
import { CairnError } from '../../../../protocol/errors.ts'
import type { Envelope } from '../../../../protocol/envelope.ts'
import { MESSAGE_TYPES as M } from '../../../../protocol/messages.ts'
import type { LeaseRecord, LeaseRefs, LeaseTip } from '../../../../lib/kernel/ports/lease-refs.ts'
import { summarize } from '../../../helpers/steps.ts'
import { ALICE, BOB } from './fixtures.ts'

t.test('machine: one request at a time; STOP drains', async (t) => {
  const m = remoteLaneMachine
  const req: Envelope = { v: 1, id: 1, type: M.lockRemoteStatus, from: 'a', to: 'b', body: {} }
  const [idle] = initialTransition(m)
  const [busy, actions] = transition(m, idle, { type: 'REQUEST', req })
  t.equal(busy.value, 'working', 'a request starts the work')
  t.same(summarize(actions).map((a) => a.type), ['enqueue', 'xstate.spawnChild'], 'enqueues, then works')
  const [still, more] = transition(m, busy, { type: 'REQUEST', req })
  t.equal(still.value, 'working', 'a request during work only queues')
  t.same(summarize(more).map((a) => a.type), ['enqueue'])
  t.equal(transition(m, busy, { type: 'STOP' })[0].value, 'draining')
  t.equal(transition(m, idle, { type: 'STOP' })[0].value, 'draining', 'draining from idle too, so close() waits for nothing in flight')
})

/** An in-memory remote: chains by ref, CAS on append; `before` runs just ahead of the next append (another machine). */
class FakeRemote implements LeaseRefs {
  chains = new Map<string, LeaseTip[]>()
  before: (() => void)[] = []
  appends = 0
  reads = 0
  missNextAnswer = false
  async resolve(remote: string) { return { url: `fake:${remote}` } }
  async read(_r: unknown, ref: string) { this.reads++; return this.chains.get(ref)?.at(-1) ?? null }
  tip(ref: string) { return this.chains.get(ref)?.at(-1) ?? null }
  push(ref: string, record: LeaseRecord) {
    const chain = this.chains.get(ref) ?? []
    chain.push({ commit: `c${record.seq}-${record.holder.actor.slice(0, 1)}`, record })
    this.chains.set(ref, chain)
  }
  async append(_r: unknown, ref: string, expected: string | null, record: LeaseRecord) {
    this.appends++
    this.before.shift()?.()
    if ((this.tip(ref)?.commit ?? null) !== expected) return { ok: false as const }
    this.push(ref, record)
    if (this.missNextAnswer) {
      this.missNextAnswer = false
      throw new CairnError('UNREACHABLE', 'connection dropped after the remote applied the push')
    }
    return { ok: true as const, commit: this.tip(ref)!.commit }
  }
  async close() {}
}

function lane(now = { t: 1_000 }) {
  const remote = new FakeRemote()
  const replies: { ok: boolean; value: unknown }[] = []
  const l = new RemoteLane({
    clock: { now: () => now.t, at: () => () => {} } as never,
    gitDir: '/x/.git',
    replyOk: (_req, value) => replies.push({ ok: true, value }),
    replyError: (_req, error) => replies.push({ ok: false, value: error }),
  }, () => 500, async () => remote)
  let id = 0
  const ask = async (type: string, body: Record<string, unknown>) => {
    l.enqueue({ v: 1, id: ++id, type, from: 't', to: 'lk', body })
    await l.work(false)
    const r = replies.pop() as { ok: boolean; value: unknown }
    return r.ok ? r.value as Record<string, unknown> : r.value as CairnError
  }
  return { l, remote, replies, now, ask }
}

const acquireBody = (holder = ALICE) => ({ resource: 'path:a', remote: 'o', actor: holder.actor, session: holder.session, ttlMs: 1_000 })
const REF = (r: FakeRemote) => [...r.chains.keys()][0] as string

t.test('acquire: a lost race to a live winner is LEASE_HELD; to a dead one, one retry', async (t) => {
  const { remote, ask, now } = lane()
  const first = await ask(M.lockRemoteAcquire, acquireBody()) as { token: number; id: string }
  t.equal(first.token, 1, 'first grant on an empty remote')
  const ref = REF(remote)
  await ask(M.lockRemoteRelease, { ...acquireBody(), token: 1, leaseId: first.id })
  // Race 1: Bob acquires just before our append and is live -> LEASE_HELD after one re-read.
  remote.before.push(() => remote.push(ref, (acquireRecord(remote.tip(ref)!.record, { resource: 'path:a', holder: BOB, ttlMs: 1_000, graceMs: 0 }, now.t) as { record: LeaseRecord }).record))
  const appends = remote.appends
  const held = await ask(M.lockRemoteAcquire, acquireBody()) as CairnError
  t.equal(held.code, 'LEASE_HELD', 'the winner is live')
  t.equal(remote.appends - appends, 1, 'no second append against a live winner')
  // Race 2: Bob's lease is already released when we re-read -> one retry wins.
  now.t += 2_000
  remote.before.push(() => {
    const tip = remote.tip(ref)!.record
    remote.push(ref, releaseRecord(tip, { resource: 'path:a', token: tip.epoch, holder: BOB }, now.t))
  })
  const won = await ask(M.lockRemoteAcquire, acquireBody()) as { token: number; id: string }
  t.equal(won.token, 5, 'granted on the fresh tip: 1 acq, 2 rel, 3 Bob acq, 4 Bob rel, 5 ours')
  // Race 3: lost twice, nobody live at the end -> BUSY; never a third append.
  await ask(M.lockRemoteRelease, { ...acquireBody(), token: 5, leaseId: won.id })
  const bump = () => { const tip = remote.tip(ref)!.record; remote.push(ref, { ...tip, seq: tip.seq + 1, heartbeatAt: now.t }) }
  remote.before.push(bump, bump)
  const before = remote.appends
  t.equal((await ask(M.lockRemoteAcquire, acquireBody()) as CairnError).code, 'BUSY', 'a chain that keeps moving is BUSY')
  t.equal(remote.appends - before, 2, 'after exactly two tries')
})

t.test('renew: fenced on our commit; a missed answer is recovered; a takeover is LEASE_LOST', async (t) => {
  const { remote, ask, now } = lane()
  const got = await ask(M.lockRemoteAcquire, acquireBody()) as { token: number; id: string }
  const ref = REF(remote)
  remote.missNextAnswer = true
  t.equal((await ask(M.lockRemoteRenew, { ...acquireBody(), token: got.token, leaseId: got.id }) as CairnError).code, 'UNREACHABLE', 'the answer was lost...')
  now.t += 100
  const renewed = await ask(M.lockRemoteRenew, { ...acquireBody(), token: got.token, leaseId: got.id }) as { expiresAt: number }
  t.equal(renewed.expiresAt, now.t + 1_000, '...the next renew finds our own commit at the tip and extends it')
  t.same(remote.chains.get(ref)!.map((c) => c.record.op), ['acquire', 'renew', 'renew'])
  // Bob takes over behind our back (our lease lapsed past grace on his clock).
  const tip = remote.tip(ref)!.record
  remote.push(ref, (acquireRecord(tip, { resource: 'path:a', holder: BOB, ttlMs: 1_000, graceMs: 0 }, tip.expiresAt + tip.graceMs) as { record: LeaseRecord }).record)
  const lost = await ask(M.lockRemoteRenew, { ...acquireBody(), token: got.token, leaseId: got.id }) as CairnError
  t.equal(lost.code, 'LEASE_LOST', 'the chain moved past our commit')
  t.equal(lost.details?.currentToken, 4, 'naming the epoch now at the tip')
})

t.test('holders: only the lease id renews or releases; a break is a recorded commit that ends it', async (t) => {
  const { remote, ask, now } = lane()
  const got = await ask(M.lockRemoteAcquire, acquireBody()) as { token: number; id: string }
  t.match(got.id, /^[0-9a-f]{32}$/, 'the holder is told the lease id')
  const ref = REF(remote)
  t.match(remote.tip(ref)!.record.idHash, /^[0-9a-f]{64}$/, 'the remote holds only its hash')
  t.notOk(JSON.stringify(remote.tip(ref)!.record).includes(got.id), 'never the id')
  const appends = remote.appends
  for (const [who, body] of [['bob with the token', { ...acquireBody(BOB), token: got.token }], ['alice without the id', { ...acquireBody(), token: got.token }],
    ['bob with a guessed id', { ...acquireBody(BOB), token: got.token, leaseId: 'f'.repeat(32) }]] as const) {
    t.match(await ask(M.lockRemoteRelease, body), { code: 'LEASE_NOT_HELD' }, `release by ${who}: LEASE_NOT_HELD`)
    t.match(await ask(M.lockRemoteRenew, body), { code: 'LEASE_NOT_HELD' }, `renew by ${who}: LEASE_NOT_HELD`)
  }
  t.equal(remote.appends, appends, 'nothing was appended for them')
  const elsewhere = await ask(M.lockRemoteRenew, { ...acquireBody(), session: 'another-session', token: got.token, leaseId: got.id }) as { token: number }
  t.equal(elsewhere.token, got.token, 'the id renews from another session (a restarted daemon that kept it)')
  now.t += 50
  const broken = await ask(M.lockRemoteBreak, { resource: 'path:a', remote: 'o', actor: BOB.actor, agent: 'bob', reason: 'stuck for an hour' }) as Record<string, unknown>
  t.match(broken, { resource: 'path:a', token: got.token, burned: 3, by: { actor: BOB.actor, agent: 'bob' }, at: now.t, reason: 'stuck for an hour' })
  t.match(remote.tip(ref)!.record, { op: 'break', expiresAt: 0, broken: { reason: 'stuck for an hour' } }, 'a break commit on the chain')
  const renew = await ask(M.lockRemoteRenew, { ...acquireBody(), token: got.token, leaseId: got.id }) as CairnError
  t.match(renew, { code: 'LEASE_LOST', details: { broken: { reason: 'stuck for an hour' } } }, 'the old holder is told who broke it and why')
  const next = await ask(M.lockRemoteAcquire, acquireBody(BOB)) as { token: number }
  t.equal(next.token, 4, 'free at once; the next epoch is past the burned one')
  t.match(await ask(M.lockRemoteBreak, { resource: 'path:b', remote: 'o', actor: BOB.actor, reason: 'x' }), { code: 'NOT_FOUND' }, 'nothing to break')
  t.match(await ask(M.lockRemoteBreak, { resource: 'path:a', remote: 'o', actor: BOB.actor, reason: '' }), { code: 'INVALID_ARGUMENT', details: { field: 'reason' } })
})

t.test('bad requests are answered at once; the queue is bounded; stop answers what is queued', async (t) => {
  const { l, replies, ask } = lane()
  t.match(await ask(M.lockRemoteAcquire, { ...acquireBody(), remote: '-oops' }), { code: 'INVALID_ARGUMENT', details: { field: 'remote' } })
  t.match(await ask(M.lockRemoteRenew, { ...acquireBody(), token: 0 }), { code: 'INVALID_ARGUMENT', details: { field: 'token' } })
  const req = (id: number): Envelope => ({ v: 1, id, type: M.lockRemoteStatus, from: 't', to: 'lk', body: { resource: 'path:a', remote: 'o' } })
  for (let i = 0; i <= MAX_REMOTE_QUEUE; i++) l.enqueue(req(i))
  t.match(replies.pop()?.value, { code: 'BUSY' }, `request ${MAX_REMOTE_QUEUE + 1} is refused, not dropped`)
  await l.work(true)
  t.equal(replies.length, MAX_REMOTE_QUEUE, 'every queued request was answered')
  t.ok(replies.every((r) => (r.value as CairnError).code === 'STOPPED'), 'with STOPPED')
})

t.test('a port that cannot open is an answer, and the next request opens again', async (t) => {
  let opens = 0
  const replies: unknown[] = []
  const l = new RemoteLane({
    clock: { now: () => 0, at: () => () => {} } as never, gitDir: '/nope/.git',
    replyOk: (_r, v) => replies.push(v), replyError: (_r, e) => replies.push(e),
  }, () => 0, async () => { opens++; throw new CairnError('NOT_FOUND', 'no git repository') })
  for (let i = 0; i < 2; i++) {
    l.enqueue({ v: 1, id: i, type: M.lockRemoteStatus, from: 't', to: 'lk', body: { resource: 'path:a', remote: 'o' } })
    await l.work(false)
  }
  t.same(replies.map((e) => (e as CairnError).code), ['NOT_FOUND', 'NOT_FOUND'])
  t.equal(opens, 2)
  await l.close()
})
