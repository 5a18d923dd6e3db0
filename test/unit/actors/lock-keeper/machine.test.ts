/**
 * The LockKeeper lifecycle machine, stepped purely with
 * transition(): which actions each event asks for and where it leads.
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { lockKeeperMachine } from '../../../../actors/lock-keeper/machine.ts'
import type { Envelope } from '../../../../protocol/envelope.ts'
import { summarize } from '../../../helpers/steps.ts'

const req1: Envelope = { v: 1, id: 21, type: 'ping', from: 'host:1', to: 'x', body: {} }
const req2: Envelope = { v: 1, id: 22, type: 'ping', from: 'host:2', to: 'x', body: { n: 2 } }

t.test('lock-keeper', async (t) => {
  const m = lockKeeperMachine
  type Snap = ReturnType<typeof initialTransition<typeof m>>[0]
  const idle = (): Snap => initialTransition(m)[0]
  const types = (actions: unknown[]) => summarize(actions as never).map((a) => a.type)

  t.test('starts idle', async (t) => {
    const [s, actions] = initialTransition(m)
    t.equal(s.value, 'idle')
    t.strictSame(summarize(actions), [])
  })

  t.test('READ is answered at once in every state', async (t) => {
    const [s, actions] = transition(m, idle(), { type: 'READ', req: req1 })
    t.equal(s.value, 'idle')
    t.strictSame(summarize(actions), [{ type: 'answerRead', params: { req: req1 } }])
    const [busy] = transition(m, idle(), { type: 'WRITE', req: req1 })
    const [s2, a2] = transition(m, busy, { type: 'READ', req: req2 })
    t.equal(s2.value, 'committing', 'a read does not wait for the commit in flight')
    t.ok(types(a2).includes('answerRead'))
  })

  t.test('WRITE enqueues and starts a commit; writes during it join the next batch', async (t) => {
    const [s, actions] = transition(m, idle(), { type: 'WRITE', req: req1 })
    t.equal(s.value, 'committing')
    t.ok(types(actions).includes('enqueue'))
    t.ok(types(actions).some((x) => x.includes('commitBatch') || x === 'xstate.spawnChild'), 'the commit is invoked')
    const [s2, a2] = transition(m, s, { type: 'WRITE', req: req2 })
    t.equal(s2.value, 'committing', 'still the same commit')
    t.ok(types(a2).includes('enqueue'))
  })

  t.test('WAKE starts a commit that re-examines waiters', async (t) => {
    const [s, actions] = transition(m, idle(), { type: 'WAKE' })
    t.equal(s.value, 'committing')
    t.ok(types(actions).includes('enqueueWake'))
  })

  t.test('STOP while idle stops; while committing it drains first', async (t) => {
    t.equal(transition(m, idle(), { type: 'STOP' })[0].value, 'stopped')
    const [busy] = transition(m, idle(), { type: 'WRITE', req: req1 })
    const [s] = transition(m, busy, { type: 'STOP' })
    t.equal(s.value, 'draining')
    t.equal(s.status, 'active', 'draining is not final: the batch in hand completes')
  })

  t.test('FAIL → failed (final), from any state', async (t) => {
    const [busy] = transition(m, idle(), { type: 'WRITE', req: req1 })
    for (const from of [idle(), busy]) {
      const [s] = transition(m, from, { type: 'FAIL' })
      t.equal(s.value, 'failed')
      t.equal(s.status, 'done')
    }
  })
})
