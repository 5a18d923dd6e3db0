/**
 * The Sync machine, stepped purely: single-flight joins, queueing of other
 * runs, the phase order, backoff doubling and its reset, and that it only
 * decides (every effect is a named action or invoked actor).
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { pack, unpack } from 'msgpackr'
import { backoffDelay, BACKOFF_MAX_MS, errorOf, syncMachine, type RunSpec, type SyncEvent } from '../../../../actors/sync/machine.ts'
import type { Envelope } from '../../../../protocol/envelope.ts'
import { doneEvent, errorEvent, invokeId, summarize } from '../../../helpers/steps.ts'

const m = syncMachine
type Snap = ReturnType<typeof initialTransition<typeof m>>[0]
const req = (id: number): Envelope => ({ v: 1, id, type: 'sync.run', from: 'supervisor', to: 'sync:r', body: {} })
const spec = (remote: string, push = true): RunSpec => ({ key: `remote:p${push ? 'P' : ''}:${remote}`, kind: 'remote', remote, pull: true, push })
const A = spec('file:///a.git')
const B = spec('file:///b.git')
const step = (s: Snap, e: SyncEvent | ReturnType<typeof doneEvent> | ReturnType<typeof errorEvent>) => transition(m, s, e as SyncEvent)
const idle = (): Snap => initialTransition(m)[0]
const done = (s: Snap, state: string) => step(s, doneEvent(invokeId(m, state), undefined))
const fail = (s: Snap, state: string, error: unknown) => step(s, errorEvent(invokeId(m, state), error))

t.test('a run goes fetching → ingesting → pushing → idle and settles its key once', async (t) => {
  let [s, actions] = step(idle(), { type: 'SYNC', req: req(1), spec: A })
  t.equal(s.value, 'fetching')
  t.same(summarize(actions).filter((a) => a.type === 'join'), [{ type: 'join', params: { req: req(1), spec: A } }])
  ;[s] = done(s, 'fetching')
  t.equal(s.value, 'ingesting')
  ;[s] = done(s, 'ingesting')
  t.equal(s.value, 'pushing', 'push requested: the push phase runs')
  ;[s, actions] = done(s, 'pushing')
  t.equal(s.value, 'idle')
  t.same(summarize(actions).filter((a) => a.type === 'settle'), [{ type: 'settle', params: { key: A.key, error: null } }])
  t.match(s.context, { runs: 1, failures: 0, current: null, lastRun: { key: A.key, ok: true } })
})

t.test('a pull-only run skips the push phase', async (t) => {
  const pullOnly = { ...A, key: 'x', push: false }
  let [s] = step(idle(), { type: 'SYNC', req: req(1), spec: pullOnly })
  ;[s] = done(s, 'fetching')
  const [after, actions] = done(s, 'ingesting')
  t.equal(after.value, 'idle')
  t.same(summarize(actions).filter((a) => a.type === 'settle'), [{ type: 'settle', params: { key: 'x', error: null } }])
})

t.test('the same run joins; a different one queues and starts when the first ends', async (t) => {
  let [s] = step(idle(), { type: 'SYNC', req: req(1), spec: A })
  let actions
  ;[s, actions] = step(s, { type: 'SYNC', req: req(2), spec: A })
  t.same(summarize(actions), [{ type: 'join', params: { req: req(2), spec: A } }], 'joins: no second run')
  t.same(s.context.queue, [])
  ;[s, actions] = step(s, { type: 'SYNC', req: req(3), spec: B })
  t.same(s.context.queue, [B], 'another remote queues')
  ;[s] = step(s, { type: 'SYNC', req: req(4), spec: B })
  t.same(s.context.queue, [B], 'and a second request for it joins the queued run')
  ;[s] = done(s, 'fetching')
  ;[s] = done(s, 'ingesting')
  ;[s] = done(s, 'pushing')
  t.equal(s.value, 'fetching', 'the queued run starts at once')
  t.same(s.context.current, B)
  t.same(s.context.queue, [])
})

t.test('failures back off, doubling, and keep the reason; RETRY resumes queued work; success resets', async (t) => {
  let [s] = step(idle(), { type: 'SYNC', req: req(1), spec: A })
  let actions
  ;[s, actions] = fail(s, 'fetching', { code: 'UNREACHABLE', message: 'no route' })
  t.equal(s.value, 'backoff')
  t.same(summarize(actions).filter((a) => a.type !== 'xstate.stopChild'), [
    { type: 'settle', params: { key: A.key, error: { code: 'UNREACHABLE', message: 'no route' } } },
    { type: 'armRetry', params: { ms: 100 } },
  ])
  t.match(s.context, { failures: 1, backoffMs: 100, lastError: { code: 'UNREACHABLE' } })
  ;[s, actions] = step(s, { type: 'SYNC', req: req(2), spec: A })
  t.equal(s.value, 'backoff', 'a request during backoff waits')
  t.same(s.context.queue, [A])
  ;[s] = step(s, { type: 'RETRY' })
  t.equal(s.value, 'fetching', 'after the wait the queued run starts')
  ;[s, actions] = fail(s, 'fetching', new Error('boom'))
  t.match(s.context, { failures: 2, backoffMs: 200, lastError: { code: 'INTERNAL', message: 'boom' } }, 'uncoded errors are INTERNAL')
  ;[s] = step(s, { type: 'RETRY' })
  t.equal(s.value, 'idle', 'nothing queued: back to idle')
  ;[s] = step(s, { type: 'SYNC', req: req(3), spec: A })
  ;[s] = done(s, 'fetching')
  ;[s] = fail(s, 'ingesting', { code: 'INVALID_FORMAT', message: 'bad chunk' })
  t.equal(s.context.failures, 3)
  ;[s] = step(s, { type: 'RETRY' })
  ;[s] = step(s, { type: 'SYNC', req: req(4), spec: A })
  ;[s] = done(s, 'fetching')
  ;[s] = done(s, 'ingesting')
  ;[s] = done(s, 'pushing')
  t.match(s.context, { failures: 0, lastError: null, backoffMs: null }, 'a success resets the backoff')
})

t.test('backoff doubles from 100 ms up to its cap', async (t) => {
  t.same([1, 2, 3, 4].map(backoffDelay), [100, 200, 400, 800])
  t.equal(backoffDelay(9), 25_600)
  t.equal(backoffDelay(10), BACKOFF_MAX_MS)
  t.equal(backoffDelay(10_000), BACKOFF_MAX_MS, 'no overflow for long outages')
  t.same(errorOf('plain'), { code: 'INTERNAL', message: 'plain' })
})

t.test('STATUS answers in every state; STOP and FAIL end it; the context survives msgpack', async (t) => {
  let [s] = step(idle(), { type: 'SYNC', req: req(1), spec: A })
  const [, actions] = step(s, { type: 'STATUS', req: req(9) })
  t.same(summarize(actions), [{ type: 'answerStatus', params: { req: req(9) } }])
  t.same(unpack(pack(s.context)), s.context, 'plain data')
  ;[s] = step(s, { type: 'STOP' })
  t.equal(s.value, 'stopped')
  t.equal(s.status, 'done')
  t.equal(step(idle(), { type: 'FAIL' })[0].value, 'failed')
})
