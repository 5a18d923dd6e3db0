import t from 'tap'
import { repeatBounded } from '../../../bench/lib/bounded.ts'

t.test('stops at the count when time allows', async (t) => {
  t.same(await repeatBounded(4, 1000, (i) => i * 2, () => 0), [0, 2, 4, 6])
  t.same(await repeatBounded(0, 1000, () => 1), [])
})

t.test('stops at the time budget, after at least one run', async (t) => {
  let clock = 0
  const now = (): number => clock
  const runs = await repeatBounded(100, 25, async (i) => { clock += 10; return i }, now)
  t.same(runs, [0, 1, 2], 'runs start at 0, 10 and 20; the one at 30 is past the budget')
  clock = 0
  t.same(await repeatBounded(5, 0, (i) => { clock += 1; return i }, now), [0], 'a zero budget still runs once')
})

t.test('rejects nonsense bounds', async (t) => {
  await t.rejects(repeatBounded(-1, 10, () => 0), RangeError)
  await t.rejects(repeatBounded(1.5, 10, () => 0), RangeError)
  await t.rejects(repeatBounded(1, Number.NaN, () => 0), RangeError)
})
