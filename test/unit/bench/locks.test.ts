import t from 'tap'
import { fatalFailures, renderChecks, type Check } from '../../../bench/lib/checks.ts'
import { DEFAULT_OUT_DIR } from '../../../bench/lib/params.ts'
import { quarterRates } from '../../../bench/lib/stats.ts'
import { claimChecks, type Win } from '../../../bench/locks/claim-check.ts'
import { claimBoards, claimBudget, locksParams, parseLocksArgs } from '../../../bench/locks/params.ts'

const win = (issueId: string, agent: string, resource = `issue:${issueId}`): Win => ({ issueId, agent, resource })

t.test('locks: defaults, --quick, and the sizes the task asks for', async (t) => {
  t.same(parseLocksArgs([]), { outDir: DEFAULT_OUT_DIR, params: locksParams(false) })
  t.same(parseLocksArgs(['--quick', '--out=o']), { outDir: 'o', params: locksParams(true) })
  t.throws(() => parseLocksArgs(['--clients', '3']))
  for (const p of [locksParams(false), locksParams(true)]) {
    t.equal(p.pairClients, 20)
    t.equal(p.claimClients, 50)
    t.equal(p.claimTtlMs, 60_000)
    t.ok(p.claimBudgetMs < p.claimTtlMs, 'no lease of the claim phase can lapse within it')
    t.ok(p.maxPairsPerClient > 0 && p.pairDurationMs > 0 && p.seedTimeoutMs > 0, 'every loop has a count and a time bound')
  }
  t.same(claimBoards(locksParams(false)), [1000, 10_000], 'claimNext over 1,000 and 10,000 ready issues')
  t.same(claimBoards(locksParams(true)), [300, 1000])
})

t.test('claim budget: 10 s short of the TTL', async (t) => {
  t.equal(claimBudget(60_000), 50_000)
  t.throws(() => claimBudget(10_000), RangeError)
  t.throws(() => claimBudget(1.5e4 + 0.5), RangeError)
})

t.test('quarter rates', async (t) => {
  t.same(quarterRates([10, 20, 30, 40], 4), [100, 100, 100, 100])
  t.same(quarterRates([50, 100, 200, 300, 500, 700, 1500, 2300], 8), [20, 10, 5, 1.25], 'a slowing rate')
  t.same(quarterRates([10, 20, 30], 8), [100], 'quarters not reached are left out')
  t.same(quarterRates([0], 1), [Infinity])
  t.same(quarterRates([], 0), [])
  t.throws(() => quarterRates([], -1), RangeError)
})

t.test('claim checks: a clean drain passes everything', async (t) => {
  const checks = claimChecks({
    seeded: ['a', 'b', 'c'], wins: [win('b', 'c1'), win('a', 'c0'), win('c', 'c1')],
    board: new Map([['a', ['c0']], ['b', ['c1']], ['c', ['c1']]]), stoppedByBudget: false,
  })
  t.same(checks.map((c) => c.pass), [true, true, true, true])
  t.same(checks.map((c) => c.fatal), [true, true, true, false])
  t.match(checks[0]?.detail, '3 wins, 3 distinct issues')
  t.same(fatalFailures(checks), [])
})

t.test('claim checks: a double win, a stray lease and a disagreeing board are fatal', async (t) => {
  const checks = claimChecks({
    seeded: ['a', 'b', 'c'], wins: [win('a', 'c0'), win('a', 'c1'), win('x', 'c2'), win('b', 'c3', 'path:b')],
    board: new Map([['a', ['c0', 'c1']], ['b', ['c3']], ['c', ['c9']]]), stoppedByBudget: true,
  })
  t.same(checks.map((c) => c.pass), [false, false, false, false])
  t.match(checks[0]?.detail, /4 wins, 3 distinct issues; won twice: a by c0 and c1/)
  t.match(checks[1]?.detail, /2 not: x leased as issue:x, b leased as path:b/)
  t.match(checks[2]?.detail, /1 of 3 disagree: c assigned to \[c9\], won by \[\]/)
  t.match(checks[3]?.detail, /2 of N = 3 won; the time bound stopped/)
  t.equal(fatalFailures(checks).length, 3)
})

t.test('claim checks: an issue missing from the board, and an incomplete drain alone is not fatal', async (t) => {
  const missing = claimChecks({ seeded: ['a', 'b'], wins: [win('a', 'c0')], board: new Map([['a', ['c0']]]), stoppedByBudget: false })
  t.match(missing[2], { pass: false, detail: /b missing from the board/ })
  const partial = claimChecks({ seeded: ['a', 'b'], wins: [win('a', 'c0')], board: new Map([['a', ['c0']], ['b', []]]), stoppedByBudget: true })
  t.same(partial.map((c) => c.pass), [true, true, true, false])
  t.same(fatalFailures(partial), [])
})

t.test('checks markdown', async (t) => {
  t.same(renderChecks([]), [])
  const checks: Check[] = [
    { name: 'safe', pass: true, fatal: true, detail: 'd1' },
    { name: 'broken', pass: false, fatal: true, detail: 'd2' },
    { name: 'slow', pass: false, fatal: false, detail: 'd3' },
  ]
  t.same(renderChecks(checks), ['### Checks', '', '- PASS: safe (d1)', '- FAIL: broken (d2)', '- NOT MET: slow (d3)'])
})
