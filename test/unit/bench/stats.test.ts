import t from 'tap'
import { LatencyRecorder, percentile, percentileOfSorted, ratePerSecond, summarize } from '../../../bench/lib/stats.ts'

const oneToHundred = Float64Array.from({ length: 100 }, (_, i) => i + 1)

t.test('nearest-rank percentiles return observed samples', async (t) => {
  t.equal(percentileOfSorted(oneToHundred, 50), 50)
  t.equal(percentileOfSorted(oneToHundred, 95), 95)
  t.equal(percentileOfSorted(oneToHundred, 99), 99)
  t.equal(percentileOfSorted(oneToHundred, 100), 100)
  t.equal(percentileOfSorted(oneToHundred, 0), 1)
  t.equal(percentileOfSorted([1, 2, 3, 4], 50), 2)
  t.equal(percentileOfSorted([1, 2, 3, 4], 51), 3)
  t.equal(percentileOfSorted([1, 2, 3, 4], 99), 4)
  t.equal(percentileOfSorted([7], 99), 7)
  t.equal(percentile([30, 10, 20], 50), 20, 'unsorted input is sorted first')
})

t.test('percentile rejects empty input and out-of-range p', async (t) => {
  t.throws(() => percentileOfSorted([], 50), RangeError)
  t.throws(() => percentileOfSorted([1], -1), RangeError)
  t.throws(() => percentileOfSorted([1], 101), RangeError)
  t.throws(() => percentileOfSorted([1], Number.NaN), RangeError)
})

t.test('summarize computes every field without touching its input', async (t) => {
  const samples = Float64Array.from([5, 1, 4, 2, 3])
  const s = summarize(samples)
  t.same(s, { count: 5, min: 1, mean: 3, p50: 3, p95: 5, p99: 5, max: 5 })
  t.same([...samples], [5, 1, 4, 2, 3], 'input order kept')
  const big = summarize([...oneToHundred].reverse())
  t.equal(big.p50, 50)
  t.equal(big.p95, 95)
  t.equal(big.p99, 99)
  t.equal(big.max, 100)
  t.equal(big.mean, 50.5)
  t.throws(() => summarize([]), RangeError)
})

t.test('sorting is numeric, not lexicographic', async (t) => {
  const s = summarize([100, 9, 20])
  t.equal(s.min, 9)
  t.equal(s.p50, 20)
  t.equal(s.max, 100)
})

t.test('recorder grows past its capacity and resets', async (t) => {
  const rec = new LatencyRecorder(2)
  for (let i = 1; i <= 10; i++) rec.record(i)
  t.equal(rec.count, 10)
  t.same([...rec.samples()], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.equal(summarize(rec.samples()).p99, 10)
  rec.reset()
  t.equal(rec.count, 0)
  t.equal(rec.samples().length, 0)
  rec.record(0)
  t.same([...rec.samples()], [0])
  t.equal(new LatencyRecorder(0).samples().length, 0, 'zero capacity is accepted')
})

t.test('recorder rejects samples that would poison the statistics', async (t) => {
  const rec = new LatencyRecorder()
  t.throws(() => rec.record(Number.NaN), RangeError)
  t.throws(() => rec.record(Number.POSITIVE_INFINITY), RangeError)
  t.throws(() => rec.record(-1), RangeError)
  t.equal(rec.count, 0)
})

t.test('ratePerSecond', async (t) => {
  t.equal(ratePerSecond(500, 250), 2000)
  t.equal(ratePerSecond(0, 10), 0)
  t.throws(() => ratePerSecond(1, 0), RangeError)
})
