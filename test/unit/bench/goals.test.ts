import t from 'tap'
import { checkGoals, renderGoals } from '../../../bench/lib/goals.ts'
import type { BenchResult } from '../../../bench/lib/report.ts'

const results: BenchResult[] = [
  { name: 'rate', group: 'g', unit: 'events/s', value: 12_345 },
  { name: 'open', group: 'g', unit: 'ms', value: 300 },
]

t.test('verdicts: >= is inclusive, < is strict, missing results are not checked', async (t) => {
  const checks = checkGoals([
    { result: 'rate', op: '>=', target: 12_345 },
    { result: 'rate', op: '>=', target: 20_000, context: 'claim' },
    { result: 'open', op: '<', target: 300 },
    { result: 'open', op: '<', target: 301 },
    { result: 'gone', op: '<', target: 1 },
  ], results)
  t.same(checks.map((c) => c.met), [true, false, false, true, null])
  t.match(checks[0], { unit: 'events/s', value: 12_345 })
  t.match(checks[4], { unit: null, value: null })
  t.equal(checks[1]?.context, 'claim', 'goal fields are kept')
})

t.test('markdown: one bullet per goal with its verdict', async (t) => {
  t.same(renderGoals([]), [])
  const lines = renderGoals(checkGoals([
    { result: 'rate', op: '>=', target: 10_000, context: 'grite claims 1,000/s' },
    { result: 'open', op: '<', target: 250 },
    { result: 'gone', op: '<', target: 1 },
  ], results))
  t.same(lines, [
    '### Goals',
    '',
    '- MET: rate = 12,345 events/s (goal ≥ 10,000 events/s; grite claims 1,000/s)',
    '- MISSED: open = 300 ms (goal < 250 ms)',
    '- NOT CHECKED: gone = no result in this run (goal < 1)',
  ])
})
