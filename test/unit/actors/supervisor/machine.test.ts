/**
 * The Supervisor lifecycle machine, stepped purely with `transition` /
 * `initialTransition`: no store is opened, nothing is reconciled or drained.
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { supervisorMachine } from '../../../../actors/supervisor/machine.ts'
import { doneEvent, errorEvent, invokeId, summarize } from '../../../helpers/steps.ts'

const m = supervisorMachine
type Snap = ReturnType<typeof initialTransition<typeof m>>[0]
type Ev = Parameters<typeof transition<typeof m>>[2]

const BOOT_ID = '0.supervisor.booting'
const RECONCILE_ID = '0.supervisor.reconciling'
const DRAIN_ID = '0.supervisor.draining'

const spawn = (id: string, src: string) => ({ type: 'xstate.spawnChild', id, src })
const stop = (id: string) => ({ type: 'xstate.stopChild', id })

const booting = (): Snap => initialTransition(m)[0]
const reconciling = (): Snap => transition(m, booting(), doneEvent<Ev>(BOOT_ID))[0]
const serving = (): Snap => transition(m, reconciling(), doneEvent<Ev>(RECONCILE_ID))[0]
const draining = (): Snap => transition(m, serving(), { type: 'STOP' })[0]

t.test('the invoke ids the done/error events are addressed to', async (t) => {
  t.equal(invokeId(m, 'booting'), BOOT_ID)
  t.equal(invokeId(m, 'reconciling'), RECONCILE_ID)
  t.equal(invokeId(m, 'draining'), DRAIN_ID)
  t.strictSame(m.root.states.serving!.invoke, [], 'serving invokes nothing')
})

t.test('booting → reconciling → serving → STOP → draining → stopped', async (t) => {
  const [b, a0] = initialTransition(m)
  t.equal(b.value, 'booting')
  t.strictSame(b.context, { error: null, stopRequested: false })
  t.strictSame(summarize(a0), [spawn(BOOT_ID, 'boot')], 'boot is invoked on start')
  t.strictSame(Object.keys(b.children), [BOOT_ID])

  const [r, a1] = transition(m, b, doneEvent<Ev>(BOOT_ID))
  t.equal(r.value, 'reconciling')
  t.strictSame(summarize(a1), [stop(BOOT_ID), spawn(RECONCILE_ID, 'reconcile')])
  t.strictSame(Object.keys(r.children), [RECONCILE_ID])

  const [s, a2] = transition(m, r, doneEvent<Ev>(RECONCILE_ID))
  t.equal(s.value, 'serving')
  t.equal(s.status, 'active')
  t.strictSame(summarize(a2), [stop(RECONCILE_ID)])
  t.strictSame(s.children, {}, 'nothing is invoked while serving')

  const [d, a3] = transition(m, s, { type: 'STOP' })
  t.equal(d.value, 'draining')
  t.strictSame(summarize(a3), [spawn(DRAIN_ID, 'drain')])
  t.strictSame(Object.keys(d.children), [DRAIN_ID])

  const [x, a4] = transition(m, d, doneEvent<Ev>(DRAIN_ID))
  t.equal(x.value, 'stopped')
  t.equal(x.status, 'done', 'stopped is final')
  t.strictSame(summarize(a4), [stop(DRAIN_ID)])
  t.strictSame(x.context, { error: null, stopRequested: false }, 'a clean run records no error')
})

t.test('a boot error drains, with context.error set', async (t) => {
  const [d, actions] = transition(m, booting(), errorEvent<Ev>(BOOT_ID, new Error('home store locked')))
  t.equal(d.value, 'draining')
  t.equal(d.status, 'active', 'draining is not final: the drain still runs')
  t.strictSame(d.context, { error: 'home store locked', stopRequested: false }, "the Error's message")
  t.strictSame(summarize(actions), [stop(BOOT_ID), spawn(DRAIN_ID, 'drain')])

  const [d2] = transition(m, booting(), errorEvent<Ev>(BOOT_ID, 'not an Error'))
  t.strictSame(d2.context.error, 'not an Error', 'a non-Error rejection is stringified')

  const [x] = transition(m, d, doneEvent<Ev>(DRAIN_ID))
  t.equal(x.value, 'stopped')
  t.strictSame(x.context.error, 'home store locked', 'the error is kept through to stopped')
})

t.test('a reconcile error drains, with context.error set', async (t) => {
  const [d, actions] = transition(m, reconciling(), errorEvent<Ev>(RECONCILE_ID, new Error('repo r1 unreadable')))
  t.equal(d.value, 'draining')
  t.strictSame(d.context.error, 'repo r1 unreadable')
  t.strictSame(summarize(actions), [stop(RECONCILE_ID), spawn(DRAIN_ID, 'drain')])
})

t.test('a failed drain still ends stopped', async (t) => {
  const [x, actions] = transition(m, draining(), errorEvent<Ev>(DRAIN_ID, new Error('host did not stop')))
  t.equal(x.value, 'stopped')
  t.equal(x.status, 'done')
  t.strictSame(summarize(actions), [stop(DRAIN_ID)])
})

t.test('STOP while booting is honoured: the boot step finishes, then the runtime drains', async (t) => {
  const before = booting()
  const [s, actions] = transition(m, before, { type: 'STOP' })
  t.equal(s.value, 'booting', 'the boot step is not cut off halfway (its stores would be left half open)')
  t.strictSame(s.context, { error: null, stopRequested: true })
  t.strictSame(summarize(actions), [], 'nothing else happens yet')
  t.strictSame(Object.keys(s.children), [BOOT_ID], 'the boot invoke keeps running')

  const [d, a1] = transition(m, s, doneEvent<Ev>(BOOT_ID))
  t.equal(d.value, 'draining', 'boot done: drain instead of reconciling')
  t.strictSame(summarize(a1), [stop(BOOT_ID), spawn(DRAIN_ID, 'drain')])
  const [x] = transition(m, d, doneEvent<Ev>(DRAIN_ID))
  t.equal(x.value, 'stopped')
  t.equal(x.status, 'done')

  const [e] = transition(m, s, errorEvent<Ev>(BOOT_ID, new Error('home locked')))
  t.equal(e.value, 'draining', 'a boot that fails after a STOP drains too')
})

t.test('STOP while reconciling is honoured: drains once reconciliation settles, never serves', async (t) => {
  const [s, actions] = transition(m, reconciling(), { type: 'STOP' })
  t.equal(s.value, 'reconciling')
  t.equal(s.context.stopRequested, true)
  t.strictSame(summarize(actions), [])
  const [d, a1] = transition(m, s, doneEvent<Ev>(RECONCILE_ID))
  t.equal(d.value, 'draining')
  t.strictSame(summarize(a1), [stop(RECONCILE_ID), spawn(DRAIN_ID, 'drain')])
})

t.test('without a STOP, boot and reconcile lead to serving', async (t) => {
  t.equal(serving().value, 'serving')
  t.equal(serving().context.stopRequested, false)
})

t.test('a second STOP while draining changes nothing', async (t) => {
  const before = draining()
  const [s, actions] = transition(m, before, { type: 'STOP' })
  t.equal(s.value, 'draining')
  t.strictSame(summarize(actions), [], 'the drain is not restarted')
  t.strictSame(Object.keys(s.children), [DRAIN_ID])
})
