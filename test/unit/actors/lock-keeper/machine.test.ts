/**
 * The LockKeeper lifecycle machine, stepped purely with transition(): which
 * actions each event asks for (the named implementations and the commit
 * invoked, with its input) and where it leads, including how a commit's
 * result and failure move it.
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { lockKeeperMachine, type LockKeeperEvent } from '../../../../actors/lock-keeper/machine.ts'
import type { Envelope } from '../../../../protocol/envelope.ts'
import { doneEvent, errorEvent, invokeId, summarize } from '../../../helpers/steps.ts'

const req1: Envelope = { v: 1, id: 21, type: 'locks.acquire', from: 'host:1', to: 'x', body: {} }
const req2: Envelope = { v: 1, id: 22, type: 'locks.list', from: 'host:2', to: 'x', body: { n: 2 } }

const m = lockKeeperMachine
type Snap = ReturnType<typeof initialTransition<typeof m>>[0]
const COMMIT = invokeId(m, 'committing')
const DRAIN = invokeId(m, 'draining')
const idle = (): Snap => initialTransition(m)[0]
const committing = (): Snap => transition(m, idle(), { type: 'WRITE', req: req1 })[0]
const commitStarted = { type: 'xstate.spawnChild', id: COMMIT, src: 'commitBatch', input: { drain: false } }
/** Leaving `committing` stops its (settled) invocation: XState's bookkeeping, no effect of ours. */
const commitEnded = { type: 'xstate.stopChild', id: COMMIT }

t.test('starts idle, asking for nothing', async (t) => {
  const [s, actions] = initialTransition(m)
  t.equal(s.value, 'idle')
  t.strictSame(summarize(actions), [])
})

t.test('READ is answered at once in every state, and only answered', async (t) => {
  const [s, actions] = transition(m, idle(), { type: 'READ', req: req1 })
  t.equal(s.value, 'idle')
  t.strictSame(summarize(actions), [{ type: 'answerRead', params: { req: req1 } }])
  const [s2, a2] = transition(m, committing(), { type: 'READ', req: req2 })
  t.equal(s2.value, 'committing', 'a read does not wait for the commit in flight')
  t.strictSame(summarize(a2), [{ type: 'answerRead', params: { req: req2 } }], 'and starts no commit')
})

t.test('WRITE enqueues and invokes one commit; writes during it join the next batch', async (t) => {
  const [s, actions] = transition(m, idle(), { type: 'WRITE', req: req1 })
  t.equal(s.value, 'committing')
  t.strictSame(summarize(actions), [{ type: 'enqueue', params: { req: req1 } }, commitStarted])
  const [s2, a2] = transition(m, s, { type: 'WRITE', req: req2 })
  t.equal(s2.value, 'committing', 'still the same commit')
  t.strictSame(summarize(a2), [{ type: 'enqueue', params: { req: req2 } }], 'no second commit is invoked')
})

t.test('WAKE starts a commit that re-examines waiters', async (t) => {
  const [s, actions] = transition(m, idle(), { type: 'WAKE' })
  t.equal(s.value, 'committing')
  t.strictSame(summarize(actions), [{ type: 'enqueueWake', params: undefined }, commitStarted])
  const [, a2] = transition(m, s, { type: 'WAKE' })
  t.strictSame(summarize(a2), [{ type: 'enqueueWake', params: undefined }], 'during a commit it only queues')
})

t.test('a finished commit goes idle, or commits again when it says more is queued', async (t) => {
  const [done, a1] = transition(m, committing(), doneEvent<LockKeeperEvent>(COMMIT, { more: false }))
  t.equal(done.value, 'idle')
  t.strictSame(summarize(a1), [commitEnded], 'nothing but the finished invocation\'s end: no new commit')
  const [again, a2] = transition(m, committing(), doneEvent<LockKeeperEvent>(COMMIT, { more: true }))
  t.equal(again.value, 'committing')
  t.strictSame(summarize(a2), [commitEnded, commitStarted], 'a new commit for what arrived meanwhile')
})

t.test('a commit that fails leaves the machine failed (final): the host reports the actor failed', async (t) => {
  const [s, actions] = transition(m, committing(), errorEvent<LockKeeperEvent>(COMMIT, new Error('disk full')))
  t.equal(s.value, 'failed')
  t.equal(s.status, 'done')
  t.strictSame(summarize(actions), [commitEnded], 'and asks for nothing more')
  t.equal(transition(m, s, { type: 'WRITE', req: req1 })[0].value, 'failed', 'a failed machine takes no more writes')
})

t.test('STOP while idle stops; while committing it drains first, then stops or fails', async (t) => {
  const [stopped] = transition(m, idle(), { type: 'STOP' })
  t.equal(stopped.value, 'stopped')
  t.equal(stopped.status, 'done')
  const [draining, actions] = transition(m, committing(), { type: 'STOP' })
  t.equal(draining.value, 'draining')
  t.equal(draining.status, 'active', 'draining is not final: the batch in hand completes')
  t.strictSame(summarize(actions).filter((a) => a.type === 'xstate.spawnChild'), [{ type: 'xstate.spawnChild', id: DRAIN, src: 'commitBatch', input: { drain: true } }])
  t.equal(transition(m, draining, { type: 'WRITE', req: req2 })[0].value, 'draining', 'writes after STOP are not taken into the drain')
  t.equal(transition(m, draining, doneEvent<LockKeeperEvent>(DRAIN, { more: false }))[0].value, 'stopped')
  t.equal(transition(m, draining, errorEvent<LockKeeperEvent>(DRAIN, new Error('disk full')))[0].value, 'failed')
})
