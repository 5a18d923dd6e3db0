import t from 'tap'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { measureDurablePairs } from '../../../bench/baselines/lmdb-put.ts'

// A smoke run with tiny sizes, as in baselines.test.ts: real lmdb, real flushes, temp dir removed.
t.test('durable put+remove pairs: per-writer keys, bounded by count, latency per pair, temp dir removed', async (t) => {
  const before = new Set((await readdir(tmpdir())).filter((n) => n.startsWith('cairn-bench-lmdb-')))
  const seen: string[] = []
  const r = await measureDurablePairs({
    writers: 3, durationMs: 10_000, warmupMs: 20, maxPairsPerWriter: 4, dbName: 'leases',
    record: (w, i) => {
      seen.push(`${w}:${i}`)
      return [`path:bench/${w}`, { w, i }]
    },
  })
  t.equal(r.count, 12, 'the count bound stops the writers long before the time bound')
  t.equal(r.latencyMs.count, 12)
  t.ok(r.rate > 0 && r.latencyMs.p99 >= r.latencyMs.p50)
  for (let w = 0; w < 3; w++) t.ok(seen.includes(`${w}:0`) && seen.includes(`${w}:3`), `writer ${w} numbers its own pairs`)
  const after = (await readdir(tmpdir())).filter((n) => n.startsWith('cairn-bench-lmdb-') && !before.has(n))
  t.same(after, [])
})
