import t from 'tap'
import { decodeFromCompressedBase64 } from 'hdr-histogram-js'
import { CDF_PERCENTILES, MAX_TRACKABLE_US, cdfOf, encodeHdr, latencyHistogram, recordMs, summarizeHdr } from '../../../bench/lib/hdr.ts'

t.test('percentiles from the histogram, in ms, within 3 significant digits', async (t) => {
  const h = latencyHistogram()
  for (let i = 1; i <= 1000; i++) recordMs(h, i / 100) // 0.01 .. 10 ms
  const s = summarizeHdr(h)!
  t.equal(s.count, 1000)
  t.equal(s.min, 0.01)
  t.equal(s.max, 10)
  const near = (got: number, want: number): boolean => Math.abs(got - want) / want < 1e-3
  t.ok(near(s.p50, 5), `p50 ${s.p50}`)
  t.ok(near(s.p95, 9.5), `p95 ${s.p95}`)
  t.ok(near(s.p99, 9.9), `p99 ${s.p99}`)
  t.ok(near(s.mean, 5.005), `mean ${s.mean}`)
  t.ok(s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max)
})

t.test('the CDF is sampled at fixed percentiles, never decreases and ends at the observed max', async (t) => {
  const h = latencyHistogram()
  for (const v of [1, 2, 2, 3, 50, 10_000.7]) recordMs(h, v)
  const cdf = cdfOf(h)
  t.same(cdf.map(([p]) => p), CDF_PERCENTILES)
  for (let i = 1; i < cdf.length; i++) t.ok(cdf[i]![1] >= cdf[i - 1]![1], `non-decreasing at p${cdf[i]![0]}`)
  t.equal(cdf[0]![1], 1)
  t.equal(cdf[cdf.length - 1]![1], summarizeHdr(h)!.max)
  t.ok(Math.abs(cdf[cdf.length - 1]![1] - 10_000.7) / 10_000.7 < 1e-3)
})

t.test('empty, bad and huge values', async (t) => {
  const h = latencyHistogram()
  t.equal(summarizeHdr(h), null)
  t.same(cdfOf(h), [])
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) t.throws(() => recordMs(h, bad), RangeError)
  recordMs(h, 0) // below 1 µs is kept as 1 µs, not dropped
  recordMs(h, 10 * 3_600_000) // 10 h: clamped to the trackable max, not dropped
  const s = summarizeHdr(h)!
  t.equal(s.count, 2)
  t.equal(s.min, 0.001)
  t.ok(Math.abs(s.max - MAX_TRACKABLE_US / 1000) / (MAX_TRACKABLE_US / 1000) < 1e-3)
})

t.test('the encoded histogram decodes to the same counts', async (t) => {
  const h = latencyHistogram()
  for (let i = 0; i < 500; i++) recordMs(h, 0.5 + (i % 50))
  const back = decodeFromCompressedBase64(encodeHdr(h))
  t.equal(back.totalCount, 500)
  t.equal(back.getValueAtPercentile(50), h.getValueAtPercentile(50))
})
