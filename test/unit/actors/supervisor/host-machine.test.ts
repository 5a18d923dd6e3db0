/**
 * The per-repository host machine, stepped purely with `transition` /
 * `initialTransition`: no thread, no timer, no randomness. Each test asserts
 * the next state and the effects the engine is asked to carry out.
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { hostMachine, hostState } from '../../../../actors/supervisor/host-machine.ts'
import type { RestartPolicy } from '../../../../actors/supervisor/restart-policy.ts'
import { summarize } from '../../../helpers/steps.ts'

const m = hostMachine
type Snap = ReturnType<typeof initialTransition<typeof m>>[0]
type Ev = Parameters<typeof transition<typeof m>>[2]

const POLICY: RestartPolicy = { maxRestarts: 2, withinMs: 10_000, initialBackoffMs: 100, maxBackoffMs: 1_000 }
const input = { repoId: 'r1', path: '/src/app/.git', policy: POLICY }
const died = { message: 'worker exited with code: 1', name: 'Error' }

function step(s: Snap, ev: Ev) {
  const [next, actions] = transition(m, s, ev)
  return { s: next, state: hostState(next.value), actions: summarize(actions) }
}
const starting = (): Snap => initialTransition(m, input)[0]
const ready = (): Snap => step(starting(), { type: 'READY', threadId: 7 }).s
const exit = (at: number, jitter = 0.5): Ev => ({ type: 'EXITED', cause: died, at, jitter })

t.test('first launch: starting, generation 1, launch asked for', async (t) => {
  const [s, actions] = initialTransition(m, input)
  t.equal(hostState(s.value), 'starting')
  t.equal(s.context.generation, 1)
  t.strictSame(summarize(actions), [{ type: 'launch', params: { generation: 1 } }])
})

t.test('READY: ready, the thread recorded, a first start announced', async (t) => {
  const r = step(starting(), { type: 'READY', threadId: 7 })
  t.equal(r.state, 'ready')
  t.equal(r.s.context.threadId, 7)
  t.strictSame(r.actions, [{ type: 'announceReady', params: { generation: 1, threadId: 7, first: true } }])
})

t.test('a thread that dies before its first READY fails fast with its cause, no relaunch', async (t) => {
  const cause = { message: "Cannot find module '/x/host.js'", name: 'Error', code: 'ERR_MODULE_NOT_FOUND' }
  const r = step(starting(), { type: 'EXITED', cause, at: 1000, jitter: 0 })
  t.equal(r.state, 'failed')
  t.match(r.s.context.failure, { code: 'UNAVAILABLE', details: { cause } })
  t.match(r.s.context.failure!.message, /could not start: Cannot find module/)
  t.same(r.actions.map((a) => a.type), ['threadDied', 'gaveUp'], 'reported, not relaunched')
  t.match(r.actions[0], { params: { cause, generation: 1 } })
})

t.test('a host that refuses its store fails with that error, code kept', async (t) => {
  const error = { code: 'FOREIGN_STORE' as const, message: 'store belongs to another application' }
  const r = step(starting(), { type: 'START_FAILED', error })
  t.equal(r.state, 'failed')
  t.strictSame(r.s.context.failure, error)
  t.strictSame(r.actions, [{ type: 'gaveUp', params: { kind: null, error } }])
  t.equal(step(r.s, { type: 'STOP' }).state, 'stopped', 'a failed host stops at once')
})

t.test('thread death while ready: fail in-flight, back off by the policy, relaunch', async (t) => {
  const r = step(ready(), exit(5_000, 0.5))
  t.equal(r.state, 'restarting')
  t.strictSame(r.s.value, { restarting: 'backoff' })
  t.equal(r.s.context.backoffMs, 50, 'full jitter: 0.5 × initialBackoffMs × 2^0')
  t.same(r.actions.map((a) => a.type), ['threadDied', 'failInFlight', 'xstate.raise'])
  t.match(r.actions[0], { params: { threadId: 7, generation: 1, cause: died } })
  t.match(r.actions[2], { params: { delay: 50 } }, 'the backoff is a delayed event on the injected clock')
  for (const a of Object.values(r.s.context.actors)) {
    t.equal(a.state, 'restarting')
    t.strictSame(a.history.recent, [5_000])
    t.strictSame(a.lastFailure, { cause: died, at: 5_000 })
  }
  const afterKey = (r.actions[2] as { params: { event: { type: string } } }).params.event.type
  const l = step(r.s, { type: afterKey } as Ev)
  t.strictSame(l.s.value, { restarting: 'launching' })
  // Leaving a state with an `after` always cancels its timer, fired or not.
  t.strictSame(l.actions.filter((a) => a.type !== 'xstate.cancel'), [{ type: 'launch', params: { generation: 2 } }])
  const back = step(l.s, { type: 'READY', threadId: 9 })
  t.equal(back.state, 'ready')
  t.strictSame(back.actions, [{ type: 'announceReady', params: { generation: 2, threadId: 9, first: false } }])
  for (const a of Object.values(back.s.context.actors)) t.equal(a.state, 'running')
})

t.test('restart intensity: past maxRestarts within the window the host fails with ACTOR_FAILED', async (t) => {
  let s = ready()
  for (const at of [1_000, 2_000]) {
    const r = step(s, exit(at))
    t.equal(r.state, 'restarting')
    const key = (r.actions.at(-1) as { params: { event: { type: string } } }).params.event.type
    s = step(step(r.s, { type: key } as Ev).s, { type: 'READY', threadId: 7 }).s
  }
  const r = step(s, exit(3_000))
  t.equal(r.state, 'failed')
  t.match(r.s.context.failure, { code: 'ACTOR_FAILED', details: { cause: died } })
  t.same(r.actions.map((a) => a.type), ['threadDied', 'failInFlight', 'gaveUp'])
  t.equal(r.s.context.actors['repo-worker'].history.total, 2)

  // Outside the window the history is forgotten: the same third death restarts.
  const late = step(s, exit(2_000 + POLICY.withinMs + 1))
  t.equal(late.state, 'restarting')
})

t.test('the backoff grows with recent restarts and is capped', async (t) => {
  let s = ready()
  const delays: number[] = []
  const policy = { ...POLICY, maxRestarts: 10, maxBackoffMs: 300 }
  s = initialTransition(m, { ...input, policy })[0]
  s = step(s, { type: 'READY', threadId: 1 }).s
  for (let i = 0; i < 4; i++) {
    const r = step(s, exit(1_000 + i, 0.999))
    delays.push(r.s.context.backoffMs)
    const key = (r.actions.at(-1) as { params: { event: { type: string } } }).params.event.type
    s = step(step(r.s, { type: key } as Ev).s, { type: 'READY', threadId: 1 }).s
  }
  t.strictSame(delays, [99, 199, 299, 299])
})

t.test('a death during a relaunch counts again and backs off again', async (t) => {
  const r = step(ready(), exit(1_000))
  const key = (r.actions.at(-1) as { params: { event: { type: string } } }).params.event.type
  const l = step(r.s, { type: key } as Ev)
  const again = step(l.s, exit(1_100))
  t.strictSame(again.s.value, { restarting: 'backoff' })
  t.equal(again.s.context.actors.sync.history.total, 2)
  const gaveUp = step(step(step(again.s, { type: key } as Ev).s, { type: 'STOP' }).s, { type: 'READY', threadId: 1 })
  t.equal(gaveUp.state, 'stopping', 'a STOP during a relaunch waits for the host, then stops it')
  t.strictSame(gaveUp.actions, [{ type: 'sendStop', params: { generation: 3 } }])
})

t.test('one actor failing restarts only that actor, after its backoff', async (t) => {
  const r = step(ready(), { type: 'ACTOR_FAILED', kind: 'repo-worker', cause: { message: 'boom' }, at: 1_000, jitter: 0.5 })
  t.equal(r.state, 'ready', 'the host and its other actors keep serving')
  t.equal(r.s.context.actors['repo-worker'].state, 'restarting')
  t.equal(r.s.context.actors['lock-keeper'].state, 'running')
  t.strictSame(r.actions, [
    { type: 'actorFailing', params: { kind: 'repo-worker', cause: { message: 'boom' }, restartInMs: 50 } },
    { type: 'xstate.raise', params: { event: { type: 'ACTOR_RESTART_DUE', kind: 'repo-worker', generation: 1 }, id: 'restart:repo-worker', delay: 50 } },
  ])

  const due = step(r.s, { type: 'ACTOR_RESTART_DUE', kind: 'repo-worker', generation: 1 })
  t.strictSame(due.actions, [{ type: 'restartActor', params: { kind: 'repo-worker', generation: 1 } }])
  const back = step(due.s, { type: 'ACTOR_RESTARTED', kind: 'repo-worker', generation: 1 })
  t.equal(back.s.context.actors['repo-worker'].state, 'running')
  t.strictSame(back.actions, [{ type: 'actorRestarted', params: { kind: 'repo-worker', generation: 1 } }])

  const stale = step(r.s, { type: 'ACTOR_RESTART_DUE', kind: 'repo-worker', generation: 0 })
  t.strictSame(stale.actions, [], 'a timer of an older generation does nothing')
})

t.test('an actor past its intensity gives up alone; requests to it are refused, the host stays ready', async (t) => {
  let s = ready()
  for (let i = 0; i < 2; i++) {
    s = step(s, { type: 'ACTOR_FAILED', kind: 'sync', cause: { message: 'bad remote' }, at: 1_000 + i, jitter: 0 }).s
    s = step(s, { type: 'ACTOR_RESTARTED', kind: 'sync', generation: 1 }).s
  }
  const r = step(s, { type: 'ACTOR_FAILED', kind: 'sync', cause: { message: 'bad remote' }, at: 1_002, jitter: 0 })
  t.equal(r.state, 'ready')
  t.equal(r.s.context.actors.sync.state, 'failed')
  t.equal(r.actions.length, 2)
  t.strictSame(r.actions[0], { type: 'actorFailing', params: { kind: 'sync', cause: { message: 'bad remote' }, restartInMs: null } })
  t.match(r.actions[1], { type: 'gaveUp', params: { kind: 'sync', error: { code: 'ACTOR_FAILED', details: { cause: { message: 'bad remote' } } } } })
  t.strictSame(step(r.s, { type: 'ACTOR_FAILED', kind: 'sync', cause: { message: 'x' }, at: 1_003, jitter: 0 }).actions, [], 'a given-up actor is not decided on again')
})

t.test('STOP while starting is honoured: the host is stopped as soon as it is ready', async (t) => {
  const s = step(starting(), { type: 'STOP' })
  t.strictSame(s.s.value, { stopping: 'awaitingReady' })
  t.strictSame(s.actions, [], 'nothing can reach a booting host yet')
  const r = step(s.s, { type: 'READY', threadId: 3 })
  t.strictSame(r.s.value, { stopping: 'draining' })
  t.strictSame(r.actions, [{ type: 'sendStop', params: { generation: 1 } }])
  t.equal(step(r.s, { type: 'EXITED', cause: null, at: 2, jitter: 0 }).state, 'stopped')
  t.equal(step(s.s, exit(1)).state, 'stopped', 'or when its boot dies')
  t.equal(step(s.s, { type: 'START_FAILED', error: { code: 'STORE_TOO_NEW', message: 'newer' } }).state, 'stopped')
})

t.test('STOP while ready drains the host; STOP during a backoff cancels the relaunch', async (t) => {
  const r = step(ready(), { type: 'STOP' })
  t.strictSame(r.s.value, { stopping: 'draining' })
  t.strictSame(r.actions, [{ type: 'sendStop', params: { generation: 1 } }])
  t.equal(step(r.s, exit(9)).state, 'stopped', 'a thread dying while stopping just ends it')
  t.equal(step(r.s, { type: 'EXITED', cause: null, at: 9, jitter: 0 }).s.status, 'done', 'stopped is final')

  const b = step(step(ready(), exit(1)).s, { type: 'STOP' })
  t.equal(b.state, 'stopped')
  t.same(b.actions.map((a) => a.type), ['xstate.cancel'], 'the pending backoff is cancelled')
})

t.test('a task that returns on its own while ready counts as a death', async (t) => {
  const r = step(ready(), { type: 'EXITED', cause: null, at: 1, jitter: 0 })
  t.equal(r.state, 'restarting')
  t.match(r.actions[0], { type: 'threadDied', params: { cause: { message: 'host task ended unexpectedly' } } })
})
