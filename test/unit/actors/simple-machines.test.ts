/**
 * The LockKeeper and Sync lifecycle machines, stepped purely: REQUEST is
 * counted and answered, FAIL and STOP end in their final states.
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { lockKeeperMachine } from '../../../actors/lock-keeper/machine.ts'
import { syncMachine } from '../../../actors/sync/machine.ts'
import type { Envelope } from '../../../protocol/envelope.ts'
import { summarize } from './steps.ts'

const req1: Envelope = { v: 1, id: 21, type: 'ping', from: 'host:1', to: 'x', body: {} }
const req2: Envelope = { v: 1, id: 22, type: 'ping', from: 'host:2', to: 'x', body: { n: 2 } }

t.test('lock-keeper', async (t) => {
  const m = lockKeeperMachine
  type Snap = ReturnType<typeof initialTransition<typeof m>>[0]
  const ready = (): Snap => initialTransition(m)[0]

  t.test('starts ready with no requests and no tokens', async (t) => {
    const [s, actions] = initialTransition(m)
    t.equal(s.value, 'ready')
    t.equal(s.status, 'active')
    t.strictSame(s.context, { tokens: {}, requests: 0 })
    t.strictSame(summarize(actions), [])
  })

  t.test('REQUEST increments requests and answers the req', async (t) => {
    let [s, actions] = transition(m, ready(), { type: 'REQUEST', req: req1 })
    t.equal(s.value, 'ready')
    t.strictSame(s.context, { tokens: {}, requests: 1 })
    t.strictSame(summarize(actions), [{ type: 'answer', params: { req: req1 } }], 'only answer: the count is an assign')
    t.equal((actions[0]!.params as { req: Envelope }).req, req1, 'the very request object')
    ;[s, actions] = transition(m, s, { type: 'REQUEST', req: req2 })
    t.strictSame(s.context, { tokens: {}, requests: 2 })
    t.strictSame(summarize(actions), [{ type: 'answer', params: { req: req2 } }])
  })

  t.test('REQUEST keeps the fencing tokens', async (t) => {
    const restored = m.resolveState({ value: 'ready', context: { tokens: { 'lock/a': 3, 'lock/b': 9 }, requests: 4 } })
    const [s] = transition(m, restored, { type: 'REQUEST', req: req1 })
    t.strictSame(s.context, { tokens: { 'lock/a': 3, 'lock/b': 9 }, requests: 5 })
  })

  t.test('FAIL → failed (final)', async (t) => {
    const [s, actions] = transition(m, ready(), { type: 'FAIL' })
    t.equal(s.value, 'failed')
    t.equal(s.status, 'done')
    t.strictSame(summarize(actions), [])
  })

  t.test('STOP → stopped (final)', async (t) => {
    const [after1] = transition(m, ready(), { type: 'REQUEST', req: req1 })
    const [s, actions] = transition(m, after1, { type: 'STOP' })
    t.equal(s.value, 'stopped')
    t.equal(s.status, 'done')
    t.strictSame(s.context, { tokens: {}, requests: 1 }, 'context survives into the final state (it is persisted)')
    t.strictSame(summarize(actions), [])
  })
})

t.test('sync', async (t) => {
  const m = syncMachine
  type Snap = ReturnType<typeof initialTransition<typeof m>>[0]
  const idle = (): Snap => initialTransition(m)[0]

  t.test('starts idle with no requests and no anchors', async (t) => {
    const [s, actions] = initialTransition(m)
    t.equal(s.value, 'idle')
    t.equal(s.status, 'active')
    t.strictSame(s.context, { anchors: {}, requests: 0 })
    t.strictSame(summarize(actions), [])
  })

  t.test('REQUEST increments requests and answers the req', async (t) => {
    let [s, actions] = transition(m, idle(), { type: 'REQUEST', req: req1 })
    t.equal(s.value, 'idle')
    t.strictSame(s.context, { anchors: {}, requests: 1 })
    t.strictSame(summarize(actions), [{ type: 'answer', params: { req: req1 } }])
    t.equal((actions[0]!.params as { req: Envelope }).req, req1, 'the very request object')
    ;[s, actions] = transition(m, s, { type: 'REQUEST', req: req2 })
    t.strictSame(s.context, { anchors: {}, requests: 2 })
    t.strictSame(summarize(actions), [{ type: 'answer', params: { req: req2 } }])
  })

  t.test('REQUEST keeps the anchors', async (t) => {
    const restored = m.resolveState({ value: 'idle', context: { anchors: { origin: 'abc123' }, requests: 0 } })
    const [s] = transition(m, restored, { type: 'REQUEST', req: req1 })
    t.strictSame(s.context, { anchors: { origin: 'abc123' }, requests: 1 })
  })

  t.test('FAIL → failed (final)', async (t) => {
    const [s, actions] = transition(m, idle(), { type: 'FAIL' })
    t.equal(s.value, 'failed')
    t.equal(s.status, 'done')
    t.strictSame(summarize(actions), [])
  })

  t.test('STOP → stopped (final)', async (t) => {
    const [after1] = transition(m, idle(), { type: 'REQUEST', req: req1 })
    const [s, actions] = transition(m, after1, { type: 'STOP' })
    t.equal(s.value, 'stopped')
    t.equal(s.status, 'done')
    t.strictSame(s.context, { anchors: {}, requests: 1 })
    t.strictSame(summarize(actions), [])
  })
})
