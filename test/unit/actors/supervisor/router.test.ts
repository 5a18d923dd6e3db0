import t from 'tap'
import { Router } from '../../../../actors/supervisor/router.ts'
import { ManualClock } from '../../../../lib/adapters/manual-clock.ts'
import { envelope, replyError, replyOk } from '../../../../protocol/envelope.ts'
import { CairnError } from '../../../../protocol/errors.ts'

function setup() {
  const clock = new ManualClock(1_000)
  const router = new Router(clock, 100)
  const sent: number[] = []
  const ask = (group: string, opts?: { timeoutMs?: number; signal?: AbortSignal }) => {
    const id = router.nextId()
    const p = router.request(group, id, () => sent.push(id), opts)
    p.catch(() => undefined)
    return { id, p }
  }
  return { clock, router, sent, ask }
}

t.test('a reply settles its request by correlation id', async (t) => {
  const { router, ask } = setup()
  const a = ask('g')
  const b = ask('g')
  const req = envelope(b.id, 'x', 'sup', 'actor', {})
  t.ok(router.deliver(replyOk(9, req, 'B')))
  t.equal(await b.p, 'B')
  t.ok(router.deliver(replyError(10, envelope(a.id, 'x', 'sup', 'actor', {}), new CairnError('NOT_FOUND', 'gone'))))
  await t.rejects(a.p, { code: 'NOT_FOUND' })
  t.notOk(router.deliver(replyOk(11, req, 'late')), 'a late duplicate reply is ignored')
})

t.test('deadlines on the injected clock: TIMEOUT exactly when due, one sweep for many', async (t) => {
  const { clock, router, ask } = setup()
  const short = ask('g', { timeoutMs: 50 })
  const long = ask('g', { timeoutMs: 500 })
  const dflt = ask('g')
  await clock.advance(49)
  t.equal(router.inFlight('g'), 3, 'nothing times out early')
  await clock.advance(1)
  await t.rejects(short.p, { code: 'TIMEOUT', details: { timeoutMs: 50 } })
  t.equal(router.inFlight('g'), 2)
  await clock.advance(50)
  await t.rejects(dflt.p, { code: 'TIMEOUT', details: { timeoutMs: 100 } })
  router.deliver(replyOk(1, envelope(long.id, 'x', 'sup', 'a', {}), 'ok'))
  t.equal(await long.p, 'ok', 'an answered request never times out')
  await clock.advance(10_000)
  t.equal(router.inFlight('g'), 0)
})

t.test('a later, shorter deadline re-arms the sweep earlier', async (t) => {
  const { clock, ask } = setup()
  const slow = ask('g', { timeoutMs: 1_000 })
  const fast = ask('g', { timeoutMs: 10 })
  await clock.advance(10)
  await t.rejects(fast.p, { code: 'TIMEOUT' })
  await clock.advance(989)
  let settled = false
  slow.p.then(() => { settled = true }, () => { settled = true })
  await Promise.resolve()
  t.notOk(settled, 'the long request is still waiting')
  await clock.advance(1)
  await t.rejects(slow.p, { code: 'TIMEOUT' })
})

t.test('abort before and during a request', async (t) => {
  const { ask, sent } = setup()
  const ac = new AbortController()
  ac.abort()
  const early = ask('g', { signal: ac.signal })
  await t.rejects(early.p, { code: 'ABORTED' })
  t.notOk(sent.includes(early.id), 'an aborted request is never sent')
  const ac2 = new AbortController()
  const mid = ask('g', { signal: ac2.signal })
  ac2.abort()
  await t.rejects(mid.p, { code: 'ABORTED' })
})

t.test('rejectGroup fails one group promptly and leaves the others', async (t) => {
  const { router, ask } = setup()
  const a1 = ask('a')
  const a2 = ask('a')
  const b = ask('b')
  t.equal(router.rejectGroup('a', () => new CairnError('UNAVAILABLE', 'thread died')), 2)
  await t.rejects(a1.p, { code: 'UNAVAILABLE' })
  await t.rejects(a2.p, { code: 'UNAVAILABLE' })
  t.equal(router.inFlight('b'), 1)
  router.rejectGroup(null, () => new CairnError('STOPPED', 'bye'))
  await t.rejects(b.p, { code: 'STOPPED' })
})

t.test('a send that throws rejects its request with a coded error', async (t) => {
  const { router } = setup()
  const id = router.nextId()
  await t.rejects(router.request('g', id, () => { throw new Error('port closed') }), { code: 'INTERNAL' })
  t.equal(router.inFlight('g'), 0)
})
