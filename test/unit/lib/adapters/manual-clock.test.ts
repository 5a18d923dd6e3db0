import t from 'tap'
import { ManualClock, ManualClockView, TimerList } from '../../../../lib/adapters/manual-clock.ts'
import { SystemClock } from '../../../../lib/adapters/system-clock.ts'

const START = 1_700_000_000_000

t.test('timers fire inside advance, in deadline order, ties in registration order', async (t) => {
  const clock = new ManualClock(START)
  const fired: string[] = []
  const log = (name: string) => () => { fired.push(`${name}@${clock.now() - START}`) }
  clock.at(START + 30, log('c30'))
  clock.at(START + 10, log('a10'))
  clock.at(START + 20, log('b20-first'))
  clock.at(START + 20, log('b20-second'))
  clock.at(START + 10, log('a10-second'))
  clock.at(START + 100, log('late'))

  await clock.advance(5)
  t.same(fired, [], 'nothing is due at +5')
  await clock.advance(20)
  t.same(fired, ['a10@25', 'a10-second@25', 'b20-first@25', 'b20-second@25'], 'due timers ran in deadline order, ties by registration')

  const p = clock.advance(5)
  t.same(fired.slice(4), ['c30@30'], 'the timer ran synchronously inside advance(), before awaiting it')
  await p
  t.equal(clock.now(), START + 30, 'now() moved by the sum of advances')
  await clock.advance(1_000)
  t.same(fired.slice(5), ['late@1030'], 'a far timer fires once its deadline passes')
  await clock.advance(1_000)
  t.equal(fired.length, 6, 'every timer fires once only')
})

t.test('a timer due exactly at the new time fires; one ms later does not', async (t) => {
  const clock = new ManualClock(0)
  const fired: number[] = []
  clock.at(100, () => fired.push(100))
  clock.at(101, () => fired.push(101))
  await clock.advance(100)
  t.same(fired, [100], 'deadline == now fires, deadline == now + 1 waits')
  await clock.set(101)
  t.same(fired, [100, 101], 'set() to an absolute time fires it')
  await clock.set(50)
  t.equal(clock.now(), 101, 'set() never moves backwards')
})

t.test('cancel works', async (t) => {
  const clock = new ManualClock(0)
  const fired: string[] = []
  const cancelA = clock.at(10, () => fired.push('a'))
  clock.at(10, () => fired.push('b'))
  const cancelC = clock.at(20, () => fired.push('c'))
  cancelA()
  cancelA() // twice is harmless
  await clock.advance(15)
  t.same(fired, ['b'], 'a cancelled timer does not fire; the others still do')
  cancelC()
  await clock.advance(100)
  t.same(fired, ['b'], 'cancelling before the deadline prevents firing')

  // A timer cancelled by an earlier timer in the same advance does not fire.
  let cancelLater = (): void => {}
  clock.at(200, () => { fired.push('first'); cancelLater() })
  cancelLater = clock.at(201, () => fired.push('cancelled'))
  await clock.advance(200)
  t.same(fired, ['b', 'first'], 'cancelled by an earlier timer during the same advance')

  // Cancel of an immediate (past-deadline) timer before its microtask runs.
  const cancelPast = clock.at(0, () => fired.push('past'))
  cancelPast()
  await Promise.resolve()
  await new Promise<void>((r) => setImmediate(r))
  t.same(fired, ['b', 'first'], 'a past-deadline timer cancelled synchronously never fires')
})

t.test('a timer at or before now fires asynchronously, in a microtask', async (t) => {
  const clock = new ManualClock(1_000)
  const fired: string[] = []
  clock.at(1_000, () => fired.push('now'))
  clock.at(0, () => fired.push('past'))
  t.same(fired, [], 'not fired synchronously inside at()')
  await Promise.resolve()
  t.same(fired, ['now', 'past'], 'fired by the next microtask checkpoint, in registration order')

  // Registered from inside a firing timer: deferred, not run re-entrantly.
  const order: string[] = []
  clock.at(1_010, () => {
    order.push('outer-start')
    clock.at(clock.now(), () => order.push('inner'))
    order.push('outer-end')
  })
  const p = clock.advance(10)
  t.same(order, ['outer-start', 'outer-end'], 'a due timer registered during advance is not run synchronously')
  await p
  t.same(order, ['outer-start', 'outer-end', 'inner'], 'it runs soon after')
})

t.test('ManualClockView built from the same SharedArrayBuffer sees the time', async (t) => {
  const clock = new ManualClock(START)
  const d = clock.describe()
  t.equal(d.kind, 'manual')
  if (d.kind !== 'manual') return
  t.ok(d.cell instanceof SharedArrayBuffer, 'the descriptor carries a SharedArrayBuffer')
  const view = new ManualClockView(d.cell)
  t.equal(view.now(), START, 'the view reads the start time')
  await clock.advance(1_234)
  t.equal(view.now(), START + 1_234, 'the view sees an advance without any message')

  // The view's own timers run only on tick(), at the shared time.
  const fired: number[] = []
  view.at(START + 2_000, () => fired.push(view.now()))
  await clock.advance(1_000)
  t.same(fired, [], "the owner's advance does not run a view's timers by itself")
  t.equal(view.tick(), 1, 'tick() runs the one due timer')
  t.same(fired, [START + 2_234])
  t.equal(view.tick(), 0, 'and only once')

  // The view works across a structured clone (as when posted to a worker thread).
  const cloned = structuredClone(d)
  const remote = new ManualClockView(cloned.cell)
  await clock.advance(1)
  t.equal(remote.now(), START + 2_235, 'a cloned descriptor still shares the cell')
})

t.test('onAdvance listeners are awaited', async (t) => {
  const clock = new ManualClock(0)
  const events: string[] = []
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  const off = clock.onAdvance(async () => {
    events.push(`slow-start@${clock.now()}`)
    await gate
    events.push('slow-end')
  })
  clock.onAdvance(() => { events.push('sync') })

  let resolved = false
  const p = clock.advance(10).then(() => { resolved = true })
  await new Promise<void>((r) => setImmediate(r))
  t.same(events, ['slow-start@10', 'sync'], 'listeners are called after time moved')
  t.notOk(resolved, 'advance() has not resolved while a listener is pending')
  release()
  await p
  t.ok(resolved)
  t.same(events, ['slow-start@10', 'sync', 'slow-end'], 'advance() resolved only after the slow listener finished')

  off()
  await clock.advance(1)
  t.same(events.slice(3), ['sync'], 'an unsubscribed listener is not called')

  // A rejecting listener makes advance() reject.
  clock.onAdvance(async () => { throw new Error('worker died') })
  await t.rejects(clock.advance(1), { message: 'worker died' }, 'a listener failure surfaces from advance()')
})

t.test('advance rejects negative and NaN', async (t) => {
  const clock = new ManualClock(5)
  await t.rejects(clock.advance(-1), RangeError)
  await t.rejects(clock.advance(Number.NaN), RangeError)
  t.equal(clock.now(), 5, 'time did not move')
})

t.test('TimerList runs timers added while running', async (t) => {
  const list = new TimerList()
  const order: string[] = []
  list.add(5, () => { order.push('a'); list.add(3, () => order.push('added-earlier')) })
  list.add(7, () => order.push('b'))
  t.equal(list.size, 2)
  t.equal(list.runDue(10), 3, 'three timers ran')
  t.same(order, ['a', 'added-earlier', 'b'], 'a newly added due timer runs before later deadlines')
  t.equal(list.size, 0)
})

t.test('SystemClock: the offset applies to now()', async (t) => {
  const offset = 3_600_000
  const clock = new SystemClock(offset)
  const before = Date.now()
  const n = clock.now()
  const after = Date.now()
  t.ok(n >= before + offset && n <= after + offset, 'now() = Date.now() + offset')
  t.equal(clock.offsetMs, offset)
  t.same(clock.describe(), { kind: 'system', offsetMs: offset }, 'describe() carries the offset')
  const plain = new SystemClock()
  const m = plain.now()
  t.ok(m >= before && m <= Date.now(), 'default offset is 0')
  const back = new SystemClock(-offset).now()
  t.ok(back <= Date.now() - offset + 1, 'a negative offset moves now() back')
})

t.test('SystemClock: at() fires a past deadline asynchronously', async (t) => {
  const clock = new SystemClock()
  const fired: string[] = []
  const done = new Promise<void>((resolve) => {
    clock.at(clock.now() - 1_000, () => { fired.push('past'); resolve() })
  })
  t.same(fired, [], 'not fired synchronously inside at()')
  await Promise.resolve()
  await done
  t.same(fired, ['past'], 'fired soon after')

  // The offset applies to at(): a deadline in the future of the wall clock but
  // in the past of the shifted clock fires at once.
  const shifted = new SystemClock(10 * 60_000)
  const start = Date.now()
  await new Promise<void>((resolve) => { shifted.at(Date.now() + 60_000, resolve) })
  t.ok(Date.now() - start < 5_000, 'a wall-clock-future deadline that is past on the shifted clock fires immediately')

  // Cancelling a past-deadline timer before it runs prevents it.
  let ran = false
  const cancel = clock.at(clock.now() - 1, () => { ran = true })
  cancel()
  await new Promise<void>((r) => setTimeout(r, 5))
  t.notOk(ran, 'a cancelled past-deadline timer never fires')

  // atUnref with a past deadline fires too. Its timer does not keep the
  // process alive, so hold a ref'd one meanwhile.
  const keepAlive = setTimeout(() => {}, 5_000)
  await new Promise<void>((resolve) => { clock.atUnref(clock.now() - 5, resolve) })
  clearTimeout(keepAlive)
  t.pass('atUnref fires a past deadline')
})
