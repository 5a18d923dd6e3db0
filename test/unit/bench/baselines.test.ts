import t from 'tap'
import { PORT_BASELINES, runMessagePortEcho } from '../../../bench/baselines/message-port-echo.ts'
import { LMDB_BASELINES, measureDurableWriters, runLmdbPut } from '../../../bench/baselines/lmdb-put.ts'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'

// Smoke runs with tiny sizes: the worker really starts (TypeScript in a
// thread), figures are positive, and everything is shut down (a leaked worker
// or env would keep this test process alive until tap's timeout).

t.test('message-port echo baseline', async (t) => {
  const [rtt, pipe] = await runMessagePortEcho({ rttSamples: 200, rttWarmup: 20, window: 16, durationMs: 50 })
  t.match(rtt, { name: PORT_BASELINES.roundTrip, unit: 'µs', group: 'messaging' })
  t.ok(rtt!.value > 0 && rtt!.p50 === rtt!.value && rtt!.p99! >= rtt!.p50!)
  t.match(rtt!.note, /n=200/)
  t.match(pipe, { name: PORT_BASELINES.pipelined, unit: 'msgs/s' })
  t.ok(pipe!.value > 0)
  t.equal(pipe!.baseline, undefined)
})

t.test('lmdb put baseline cleans up its temp dir', async (t) => {
  const before = new Set((await readdir(tmpdir())).filter((n) => n.startsWith('cairn-bench-lmdb-')))
  const [durable, batched] = await runLmdbPut({ inFlight: 4, batchSize: 50, durationMs: 50 })
  t.match(durable, { name: LMDB_BASELINES.durable, unit: 'puts/s', group: 'storage' })
  t.match(batched, { name: LMDB_BASELINES.batched, unit: 'puts/s' })
  t.ok(durable!.value > 0 && batched!.value > 0)
  const after = (await readdir(tmpdir())).filter((n) => n.startsWith('cairn-bench-lmdb-') && !before.has(n))
  t.same(after, [])
})

t.test('durable writers with caller-shaped records: bounded by count, latency recorded, temp dir removed', async (t) => {
  const before = new Set((await readdir(tmpdir())).filter((n) => n.startsWith('cairn-bench-lmdb-')))
  const r = await measureDurableWriters({
    writers: 3, durationMs: 10_000, warmupMs: 20, maxPutsPerWriter: 5, dbName: 'log', keyEncoding: 'uint32',
    record: (i) => [i + 1, { i, body: 'x'.repeat(100) }],
  })
  t.equal(r.count, 15, 'the count bound stops the writers long before the time bound')
  t.equal(r.latencyMs.count, 15)
  t.ok(r.rate > 0 && r.latencyMs.p99 >= r.latencyMs.p50)
  t.equal(typeof r.onTmpfs, 'boolean')
  const after = (await readdir(tmpdir())).filter((n) => n.startsWith('cairn-bench-lmdb-') && !before.has(n))
  t.same(after, [])
})
