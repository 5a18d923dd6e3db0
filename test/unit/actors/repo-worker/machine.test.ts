/**
 * The RepoWorker machine, stepped purely: `transition` / `initialTransition`
 * return the next snapshot and the actions to run, and nothing is executed
 * (no commit, no LMDB, no threads).
 */
import t from 'tap'
import { createActor, fromPromise, getMicrosteps, initialTransition, transition } from 'xstate'
import { pack, unpack } from 'msgpackr'
import { repoWorkerMachine, type RepoWorkerEvent } from '../../../../actors/repo-worker/machine.ts'
import type { Envelope } from '../../../../protocol/envelope.ts'
import type { DurableTimer } from '../../../../lib/kernel/store/snapshots.ts'
import { doneEvent, errorEvent, invokeId, isPlainData, summarize } from '../../../helpers/steps.ts'

const m = repoWorkerMachine
type Snap = ReturnType<typeof initialTransition<typeof m>>[0]

const COMMIT_ID = '0.repo-worker.committing'
const DRAIN_ID = '0.repo-worker.draining'

const writeReq: Envelope = { v: 1, id: 7, type: 'append', from: 'host:1', to: 'repo-worker:r1', body: { value: 'x' } }
const writeReq2: Envelope = { v: 1, id: 8, type: 'append', from: 'host:1', to: 'repo-worker:r1', body: { value: 'y' } }
const readReq: Envelope = { v: 1, id: 9, type: 'count', from: 'host:1', to: 'repo-worker:r1', body: {} }
const timer: DurableTimer = { actor: 'repo-worker:r1', id: 't1', deadline: 1_700_000_000_000, payload: { n: 1 } }

const step = (s: Snap, e: RepoWorkerEvent) => transition(m, s, e)
const idle = (): Snap => initialTransition(m)[0]
/** idle → committing via one WRITE. */
const committing = (): Snap => step(idle(), { type: 'WRITE', reqs: [writeReq] })[0]
/** committing → draining via STOP. */
const draining = (): Snap => step(committing(), { type: 'STOP' })[0]

const spawnCommit = { type: 'xstate.spawnChild', id: COMMIT_ID, src: 'commitBatch', input: { drain: false } }
const stopCommit = { type: 'xstate.stopChild', id: COMMIT_ID }
const spawnDrain = { type: 'xstate.spawnChild', id: DRAIN_ID, src: 'commitBatch', input: { drain: true } }
const stopDrain = { type: 'xstate.stopChild', id: DRAIN_ID }

t.test('the invoke ids the done/error events are addressed to', async (t) => {
  t.equal(invokeId(m, 'committing'), COMMIT_ID, 'committing invokes commitBatch as 0.repo-worker.committing')
  t.equal(invokeId(m, 'draining'), DRAIN_ID, 'draining invokes commitBatch as 0.repo-worker.draining')
  t.strictSame(Object.keys(committing().children), [COMMIT_ID], 'the committing snapshot holds exactly that child')
  t.strictSame(Object.keys(draining().children), [DRAIN_ID], 'the draining snapshot holds exactly that child')
})

t.test('initial state is idle with an empty context and nothing to do', async (t) => {
  const [s, actions] = initialTransition(m)
  t.equal(s.value, 'idle')
  t.equal(s.status, 'active')
  t.strictSame(s.context, { queued: 0, staged: 0, commits: 0 })
  t.strictSame(s.children, {}, 'no commit is invoked while idle')
  t.strictSame(summarize(actions), [], 'no actions on start')
})

t.test('WRITE in idle enqueues the request and starts a commit', async (t) => {
  const [s, actions] = step(idle(), { type: 'WRITE', reqs: [writeReq] })
  t.equal(s.value, 'committing')
  t.strictSame(summarize(actions), [
    { type: 'enqueueWrites', params: { reqs: [writeReq] } },
    spawnCommit,
  ], 'enqueueWrite with the req, then commitBatch is invoked with drain: false')
  t.equal((actions[0]!.params as { reqs: Envelope[] }).reqs[0], writeReq, 'the very request object is passed on')
  t.notOk(actions.some((a) => a.type === 'countWrites'), 'countWrites is an assign: resolved into context, not returned')
  // countWrites made queued 1 during the transition; committing's entry then
  // resets it, since the commit just invoked journals everything queued so far.
  t.strictSame(s.context, { queued: 0, staged: 0, commits: 0 }, 'queued is counted then reset on entry to committing')
})

t.test('WRITE while committing only enqueues and counts; the commit in hand keeps running', async (t) => {
  let [s, actions] = step(committing(), { type: 'WRITE', reqs: [writeReq2] })
  t.equal(s.value, 'committing')
  t.strictSame(summarize(actions), [{ type: 'enqueueWrites', params: { reqs: [writeReq2] } }], 'no child is stopped or re-spawned')
  t.strictSame(s.context, { queued: 1, staged: 0, commits: 0 }, 'the next batch grows by one')
  ;[s, actions] = step(s, { type: 'WRITE', reqs: [writeReq] })
  t.strictSame(s.context, { queued: 2, staged: 0, commits: 0 }, 'and by one more')
  t.strictSame(summarize(actions), [{ type: 'enqueueWrites', params: { reqs: [writeReq] } }])
})

t.test('one WRITE carries the writes delivered together: enqueued in order, each counted', async (t) => {
  const [s, actions] = step(idle(), { type: 'WRITE', reqs: [writeReq, writeReq2] })
  t.equal(s.value, 'committing', 'from idle it starts one commit')
  t.strictSame(summarize(actions), [{ type: 'enqueueWrites', params: { reqs: [writeReq, writeReq2] } }, spawnCommit])
  const [s2, actions2] = step(s, { type: 'WRITE', reqs: [writeReq2, writeReq, writeReq2] })
  t.equal(s2.value, 'committing')
  t.strictSame(summarize(actions2), [{ type: 'enqueueWrites', params: { reqs: [writeReq2, writeReq, writeReq2] } }], 'one action for the three, in their order')
  t.strictSame(s2.context, { queued: 3, staged: 0, commits: 0 }, 'the next batch grows by three')
})

t.test('TIMER_FIRED enqueues the timer fire', async (t) => {
  const [s, actions] = step(idle(), { type: 'TIMER_FIRED', timer })
  t.equal(s.value, 'committing', 'from idle it starts a commit')
  t.strictSame(summarize(actions), [{ type: 'enqueueTimerFire', params: { timer } }, spawnCommit])
  t.strictSame(s.context, { queued: 0, staged: 0, commits: 0 })

  const [s2, actions2] = step(s, { type: 'TIMER_FIRED', timer })
  t.equal(s2.value, 'committing', 'while committing it stays')
  t.strictSame(summarize(actions2), [{ type: 'enqueueTimerFire', params: { timer } }])
  t.strictSame(s2.context, { queued: 1, staged: 0, commits: 0 }, 'and counts it for the next batch')
})

t.test('READ is answered in every non-final state without changing it', async (t) => {
  const cases: Array<[string, Snap]> = [['idle', idle()], ['committing', committing()], ['draining', draining()]]
  for (const [name, before] of cases) {
    const [after, actions] = step(before, { type: 'READ', req: readReq })
    t.strictSame(summarize(actions), [{ type: 'answerRead', params: { req: readReq } }], `${name}: answerRead with the req`)
    t.equal((actions[0]!.params as { req: Envelope }).req, readReq, `${name}: the very request object is passed on`)
    t.equal(after.value, name, `${name}: state unchanged`)
    t.strictSame(after.context, before.context, `${name}: context unchanged`)
    t.strictSame(Object.keys(after.children), Object.keys(before.children), `${name}: the invoked commit is untouched`)
  }
})

t.test('commit done with staged > 0: back to idle, whose always goes straight to committing', async (t) => {
  const before = committing()
  const event = doneEvent<RepoWorkerEvent>(COMMIT_ID, { staged: 2 })
  const micro = getMicrosteps(m, before, event)
  t.strictSame(micro.map(([s, a]) => [s.value, summarize(a)]), [
    ['idle', [stopCommit]],
    ['committing', [spawnCommit]],
  ], 'passes through idle, then the hasWork guard re-enters committing')
  const [s, actions] = transition(m, before, event)
  t.equal(s.value, 'committing')
  t.strictSame(s.context, { queued: 0, staged: 2, commits: 1 }, 'staged taken from the output, commits counted')
  t.strictSame(summarize(actions), [stopCommit, spawnCommit], 'the finished commit is stopped and the next one invoked')
  t.strictSame(Object.keys(s.children), [COMMIT_ID])
})

t.test('commit done with staged 0 and nothing queued: idle', async (t) => {
  const [s, actions] = transition(m, committing(), doneEvent<RepoWorkerEvent>(COMMIT_ID, { staged: 0 }))
  t.equal(s.value, 'idle')
  t.equal(s.status, 'active')
  t.strictSame(s.context, { queued: 0, staged: 0, commits: 1 })
  t.strictSame(summarize(actions), [stopCommit])
  t.strictSame(s.children, {}, 'no commit is running')
})

t.test('commit done with staged 0 but writes queued meanwhile: committing again, queue reset', async (t) => {
  let s = committing()
  ;[s] = step(s, { type: 'WRITE', reqs: [writeReq2] })
  ;[s] = step(s, { type: 'WRITE', reqs: [writeReq] })
  t.equal(s.context.queued, 2)
  const [next, actions] = transition(m, s, doneEvent<RepoWorkerEvent>(COMMIT_ID, { staged: 0 }))
  t.equal(next.value, 'committing')
  t.strictSame(next.context, { queued: 0, staged: 0, commits: 1 })
  t.strictSame(summarize(actions), [stopCommit, spawnCommit])
})

t.test('commit error: failed (final)', async (t) => {
  const before = committing()
  const [s, actions] = transition(m, before, errorEvent<RepoWorkerEvent>(COMMIT_ID, new Error('disk full')))
  t.equal(s.value, 'failed')
  t.equal(s.status, 'done', 'failed is a final state')
  t.strictSame(s.context, before.context, 'context unchanged')
  t.strictSame(summarize(actions), [stopCommit])
  t.strictSame(s.children, {})
})

t.test('STOP in idle: stopped (final)', async (t) => {
  const [s, actions] = step(idle(), { type: 'STOP' })
  t.equal(s.value, 'stopped')
  t.equal(s.status, 'done')
  t.strictSame(summarize(actions), [])
  t.strictSame(s.context, { queued: 0, staged: 0, commits: 0 })
})

t.test('STOP in committing: draining, then stopped when the drain is done', async (t) => {
  const before = committing()
  const [d, actions] = step(before, { type: 'STOP' })
  t.equal(d.value, 'draining')
  t.equal(d.status, 'active')
  t.strictSame(d.context, before.context)
  t.strictSame(summarize(actions), [stopCommit, spawnDrain], 'commitBatch is re-invoked with drain: true')

  const [late, lateActions] = transition(m, d, doneEvent<RepoWorkerEvent>(COMMIT_ID, { staged: 3 }))
  t.equal(late.value, 'draining', "the abandoned commit's done event is ignored")
  t.strictSame(late.context, d.context, 'and its output is not recorded')
  t.strictSame(summarize(lateActions), [])

  const [s, doneActions] = transition(m, d, doneEvent<RepoWorkerEvent>(DRAIN_ID, { staged: 0 }))
  t.equal(s.value, 'stopped')
  t.equal(s.status, 'done')
  t.strictSame(summarize(doneActions), [stopDrain])
  t.strictSame(s.children, {})
})

t.test('a failed drain: failed (final)', async (t) => {
  const [s, actions] = transition(m, draining(), errorEvent<RepoWorkerEvent>(DRAIN_ID, new Error('flush failed')))
  t.equal(s.value, 'failed')
  t.equal(s.status, 'done')
  t.strictSame(summarize(actions), [stopDrain])
})

t.test('BROKEN (a write block did not commit) fails the machine from every live state', async (t) => {
  const cases: [string, Snap, unknown[]][] = [
    ['idle', idle(), []],
    ['committing', committing(), [stopCommit]],
    ['draining', draining(), [stopDrain]],
  ]
  for (const [name, before, stops] of cases) {
    const [s, actions] = step(before, { type: 'BROKEN' })
    t.equal(s.value, 'failed', `${name} → failed`)
    t.equal(s.status, 'done', `${name}: failed is final`)
    t.strictSame(s.context, before.context, `${name}: context unchanged`)
    t.strictSame(summarize(actions), stops, `${name}: a running commit is stopped, nothing else runs`)
  }
})

t.test('persisted snapshots round-trip through msgpackr exactly', async (t) => {
  const noop = m.provide({
    actions: { enqueueWrites: () => {}, enqueueTimerFire: () => {}, answerRead: () => {} },
    // A commit that never settles: the actor stays where the test puts it.
    actors: { commitBatch: fromPromise<{ staged: number }, { drain: boolean }>(() => new Promise<never>(() => {})) },
  })
  const actor = createActor(noop)
  actor.start()
  t.teardown(() => actor.stop())

  const check = (label: string, expectedValue: string, expectedContext: object) => {
    const persisted = actor.getPersistedSnapshot() as unknown as { value: unknown; context: unknown }
    t.equal(persisted.value, expectedValue, `${label}: persisted in ${expectedValue}`)
    t.strictSame(persisted.context, expectedContext, `${label}: persisted context`)
    t.ok(isPlainData(persisted), `${label}: the persisted snapshot is plain data`)
    const decoded = unpack(pack(persisted))
    t.strictSame(decoded, persisted, `${label}: unpack(pack(snapshot)) deep-equals the snapshot`)
    // The decoded snapshot restores (without starting anything) to the same persisted form.
    const restored = createActor(noop, { snapshot: decoded as never })
    t.strictSame(restored.getPersistedSnapshot(), persisted, `${label}: restoring the decoded snapshot persists identically`)
  }

  check('idle', 'idle', { queued: 0, staged: 0, commits: 0 })
  actor.send({ type: 'WRITE', reqs: [writeReq] })
  actor.send({ type: 'TIMER_FIRED', timer })
  check('committing', 'committing', { queued: 1, staged: 0, commits: 0 })
  actor.send({ type: 'STOP' })
  check('draining', 'draining', { queued: 1, staged: 0, commits: 0 })

  // A final snapshot, stepped purely and persisted by the machine itself.
  const [stopped] = transition(m, draining(), doneEvent<RepoWorkerEvent>(DRAIN_ID, { staged: 0 }))
  const persistedStopped = m.getPersistedSnapshot(stopped)
  t.strictSame(unpack(pack(persistedStopped)), persistedStopped, 'stopped: round-trips too')
})
