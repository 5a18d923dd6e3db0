/**
 * A durable timer survives SIGKILL and fires exactly once after restart.
 * Time moves through the clock offset (CAIRN_CLOCK_OFFSET_MS), never by
 * sleeping until the deadline.
 */
import t from 'tap'
import { childTracker, scratchRepo, type Reconciliation } from '../fixtures/child-process.ts'

const BOOT_TIMEOUT_MS = 30_000

t.test('durable timer: scheduled, SIGKILLed, overdue on restart, fires once', async (t) => {
  const scratch = scratchRepo('cairn-fault-timer-')
  const kids = childTracker(t, scratch.cleanup)
  const { home, repo } = scratch

  // 1. Schedule t1 due in 60 s, then SIGKILL the process.
  const scheduler = kids.spawn('timer', home, repo, { CAIRN_TIMER_IN_MS: '60000' })
  const scheduled = await scheduler.line('scheduled', BOOT_TIMEOUT_MS)
  t.equal(scheduled.scheduled, true, 'timer t1 scheduled (durably: schedule resolved)')
  const exit = await scheduler.kill()
  t.equal(exit.signal, 'SIGKILL', `scheduler killed by SIGKILL (pid ${scheduler.pid})`)

  // 2. Restart "two minutes later": the deadline passed while nothing ran.
  const check1 = kids.spawn('timer-check', home, repo, { CAIRN_CLOCK_OFFSET_MS: '120000' })
  const first = await check1.line('fired', BOOT_TIMEOUT_MS)
  t.same(await check1.waitExit(BOOT_TIMEOUT_MS), { code: 0, signal: null }, 'first timer-check exits 0')
  const rec1 = first.reconciliation as Reconciliation
  t.same(rec1.previousSessions.map((s) => [s.pid, s.outcome]), [[scheduler.pid, 'crashed']], 'the killed scheduler is reported as a crashed session')
  const overdue = rec1.repos.reduce((n, r) => n + r.timersOverdue, 0)
  const restored = rec1.repos.reduce((n, r) => n + r.timersRestored, 0)
  t.ok(restored >= 1, `reconciliation restored the timer (timersRestored ${restored})`)
  t.ok(overdue >= 1, `reconciliation reports the timer overdue (timersOverdue ${overdue})`)
  t.equal(first.fired, 1, 'the overdue timer fired exactly once')
  t.same(first.timers, [], 'no timer is left pending after it fired')

  // 3. Start again: the firing was durable and is not repeated.
  const check2 = kids.spawn('timer-check', home, repo, { CAIRN_CLOCK_OFFSET_MS: '120000' })
  const second = await check2.line('fired', BOOT_TIMEOUT_MS)
  t.same(await check2.waitExit(BOOT_TIMEOUT_MS), { code: 0, signal: null }, 'second timer-check exits 0')
  const rec2 = second.reconciliation as Reconciliation
  t.same(rec2.previousSessions, [], 'the first timer-check stopped cleanly (no crashed session)')
  t.equal(second.fired, 1, 'still exactly one record for t1: it fired once')
  t.same(second.timers, [], 'still no timer pending')
})
