import t from 'tap'
import {
  decideRestart,
  DEFAULT_RESTART_POLICY,
  EMPTY_HISTORY,
  type RestartHistory,
  type RestartPolicy,
} from '../../../../actors/supervisor/restart-policy.ts'

const policy: RestartPolicy = { maxRestarts: 3, withinMs: 1_000, initialBackoffMs: 100, maxBackoffMs: 1_000 }
const zero = (): number => 0
const almostOne = (): number => 0.999
const one = (): number => 1 - Number.EPSILON

t.test('restarts up to maxRestarts within the window, then fails', async (t) => {
  let history: RestartHistory = EMPTY_HISTORY
  const now = 10_000
  for (let i = 0; i < policy.maxRestarts; i++) {
    const d = decideRestart(policy, history, now + i, zero)
    t.equal(d.action, 'restart', `restart #${i + 1} is allowed`)
    if (d.action !== 'restart') return
    t.same(d.history.recent, [...history.recent, now + i], 'the restart time is appended to the recent list')
    t.equal(d.history.total, i + 1, 'total counts it')
    history = d.history
  }
  const d = decideRestart(policy, history, now + 10, zero)
  t.equal(d.action, 'fail', `restart #${policy.maxRestarts + 1} within the window fails`)
  if (d.action !== 'fail') return
  t.match(d.reason, /restart intensity exceeded: 3 restarts within 1000 ms/, 'the reason names the intensity')
  t.same(d.history.recent, history.recent, 'a failure does not record a restart')
  t.equal(d.history.total, 3, 'nor count one')
  t.same(EMPTY_HISTORY, { recent: [], total: 0 }, 'EMPTY_HISTORY is not mutated')
})

t.test('the default policy allows 5 restarts in 10 s', async (t) => {
  let history: RestartHistory = EMPTY_HISTORY
  for (let i = 0; i < 5; i++) {
    const d = decideRestart(DEFAULT_RESTART_POLICY, history, 1_000 + i * 100, zero)
    t.equal(d.action, 'restart')
    history = d.history
  }
  t.equal(decideRestart(DEFAULT_RESTART_POLICY, history, 1_600, zero).action, 'fail', 'the 6th within 10 s fails')
  t.equal(decideRestart(DEFAULT_RESTART_POLICY, history, 1_000 + 10_000, zero).action, 'restart',
    'once the oldest leaves the window, restarting is allowed again')
})

t.test('restarts outside the window are forgotten', async (t) => {
  const history: RestartHistory = { recent: [0, 100, 200], total: 3 }
  const full = decideRestart(policy, history, 999, zero)
  t.equal(full.action, 'fail', 'three restarts within 1000 ms of now=999 fail')

  // At 1000 the restart at 0 is exactly withinMs old: outside the window.
  const d = decideRestart(policy, history, 1_000, zero)
  t.equal(d.action, 'restart', 'the oldest restart leaving the window frees a slot')
  t.same(d.history.recent, [100, 200, 1_000], 'the forgotten restart is dropped from recent')
  t.equal(d.history.total, 4, 'but total still counts every restart')

  const later = decideRestart(policy, history, 50_000, zero)
  t.equal(later.action, 'restart')
  t.same(later.history.recent, [50_000], 'all old restarts are forgotten long after')
  t.equal(later.history.total, 4)

  const failed = decideRestart(policy, { recent: [0, 500, 600, 700], total: 9 }, 1_200, zero)
  t.equal(failed.action, 'fail', 'still three inside the window: fail')
  t.same(failed.history.recent, [500, 600, 700], 'a fail also prunes the history it returns')
  t.equal(failed.history.total, 9, 'total is kept on fail')
})

t.test('the backoff ceiling doubles per recent restart and is capped', async (t) => {
  const p: RestartPolicy = { maxRestarts: 100, withinMs: 1e9, initialBackoffMs: 10, maxBackoffMs: 300 }
  const ceilings: number[] = []
  let history: RestartHistory = EMPTY_HISTORY
  for (let i = 0; i < 8; i++) {
    // random = just below 1 gives floor(ceiling * (1 - eps)) = ceiling - 1.
    const d = decideRestart(p, history, i, one)
    if (d.action !== 'restart') return t.fail('unexpected fail')
    ceilings.push(d.delayMs + 1)
    history = d.history
  }
  t.same(ceilings, [10, 20, 40, 80, 160, 300, 300, 300], 'ceilings double from initialBackoffMs and stop at maxBackoffMs')

  // The ceiling depends on restarts inside the window, so forgotten ones reset it.
  const reset = decideRestart(p, { recent: [], total: 50 }, 0, one)
  t.equal(reset.action === 'restart' && reset.delayMs, 9, 'no recent restarts: back to initialBackoffMs')

  // A long history cannot overflow into Infinity/NaN.
  const huge = decideRestart({ ...p, maxRestarts: 5000 }, { recent: Array.from({ length: 2000 }, (_, i) => i), total: 2000 }, 2000, one)
  t.equal(huge.action === 'restart' && huge.delayMs, 299, '2^2000 * initial is still capped at maxBackoffMs')
})

t.test('full jitter uses the injected random', async (t) => {
  const history: RestartHistory = { recent: [0, 1], total: 2 } // ceiling 100 * 2^2 = 400
  const at = (random: () => number): number => {
    const d = decideRestart(policy, history, 2, random)
    return d.action === 'restart' ? d.delayMs : -1
  }
  t.equal(at(zero), 0, 'random 0 -> no delay')
  t.equal(at(almostOne), 399, 'random 0.999 -> just under the ceiling (floor(0.999 * 400))')
  t.equal(at(() => 0.5), 200, 'random 0.5 -> half the ceiling')
  t.equal(at(() => 0.25), 100)
  let calls = 0
  decideRestart(policy, history, 2, () => { calls++; return 0.1 })
  t.equal(calls, 1, 'random is called once per restart decision')
  calls = 0
  decideRestart(policy, { recent: [0, 1, 2], total: 3 }, 3, () => { calls++; return 0.1 })
  t.equal(calls, 0, 'a fail decision draws no random number')
  for (const r of [0, 0.1, 0.37, 0.5, 0.9, 0.999, one()]) {
    const d = at(() => r)
    t.ok(Number.isInteger(d) && d >= 0 && d < 400, `delay ${d} for random ${r} is an integer in [0, ceiling)`)
  }
})

t.test('total counts every restart across windows', async (t) => {
  let history: RestartHistory = EMPTY_HISTORY
  let restarts = 0
  // One restart every 600 ms: never more than 2 inside a 1000 ms window, so none fail.
  for (let i = 0; i < 20; i++) {
    const d = decideRestart(policy, history, i * 600, zero)
    t.equal(d.action, 'restart', `restart at ${i * 600} ms`)
    restarts++
    history = d.history
    t.ok(history.recent.length <= 2, 'recent holds only the window')
  }
  t.equal(history.total, restarts, 'total = 20')
  t.equal(history.total, 20)
})

t.test('the input history is never mutated', async (t) => {
  const recent = [100, 200]
  const history: RestartHistory = Object.freeze({ recent: Object.freeze(recent), total: 2 })
  const d = decideRestart(policy, history, 300, zero)
  t.equal(d.action, 'restart')
  t.same(recent, [100, 200], 'recent unchanged')
  t.not(d.history.recent, history.recent, 'a new array is returned')
})
