import t from 'tap'
import { CairnError } from '../../../protocol/errors.ts'
import { MAX_BUCKETS, RunMetrics, SLOT_MS, bucketFactor, errorCode, rebin } from '../../../bench/harness/metrics.ts'
import { cpuMsFromStat, rssMiBFromStatus } from '../../../bench/harness/proc-usage.ts'

t.test('error codes: Cairn codes, Node codes, else UNKNOWN', async (t) => {
  t.equal(errorCode(new CairnError('LEASE_HELD', 'held')), 'LEASE_HELD')
  t.equal(errorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'ECONNRESET')
  t.equal(errorCode(new Error('plain')), 'UNKNOWN')
  t.equal(errorCode(Object.assign(new Error('x'), { code: 'not a code!' })), 'UNKNOWN')
  t.equal(errorCode(null), 'UNKNOWN')
  t.equal(errorCode('string'), 'UNKNOWN')
})

t.test('recording: ok, failures by code, completions per slot', async (t) => {
  const m = new RunMetrics(1000)
  m.record('create', 1000, 1010)
  m.record('create', 1000, 1000 + SLOT_MS * 2 + 1)
  m.record('close', 1050, 1060, new CairnError('NOT_FOUND', 'gone'))
  m.record('close', 1050, 1070, new CairnError('NOT_FOUND', 'gone again'))
  const create = m.ops.get('create')!
  t.match(create, { ok: 2, failed: 0 })
  t.same(create.slots, [1, 0, 1])
  const close = m.ops.get('close')!
  t.match(close, { ok: 0, failed: 2 })
  t.same([...close.errors], [['NOT_FOUND', 2]])
  t.same([...close.samples], [['NOT_FOUND', 'gone']], 'the first message per code')
  t.equal(m.completed, 4)
  m.sampleRss(1000, 100 * 2 ** 20)
  m.sampleRss(1001, 120 * 2 ** 20)
  m.sampleRss(1000 + SLOT_MS, 90 * 2 ** 20)
  t.same(m.rssSlots, [120, 90], 'highest sample per slot, MiB')
})

t.test('rebinning', async (t) => {
  t.same(rebin([1, 2, 3, 4, 5], 2, (a, b) => a + b), [3, 7, 5])
  t.same(rebin([1, 5, 2], 3, Math.max), [5])
  t.same(rebin([], 4, Math.max), [])
  t.throws(() => rebin([1], 0, Math.max), RangeError)
  t.equal(bucketFactor(10), 1)
  t.equal(bucketFactor(MAX_BUCKETS), 1)
  t.equal(bucketFactor(MAX_BUCKETS + 1), 2)
  t.equal(Math.ceil(6000 / bucketFactor(6000)) <= MAX_BUCKETS, true)
})

t.test('/proc parsing for the daemon\'s CPU and RSS', async (t) => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i))
  fields[11] = '250' // utime (field 14)
  fields[12] = '50' //  stime (field 15)
  t.equal(cpuMsFromStat(`42 (node (x) y) ${fields.join(' ')}`), 3000, 'a command name with spaces and parentheses')
  t.equal(cpuMsFromStat('garbage'), null)
  t.equal(rssMiBFromStatus('Name:\tnode\nVmRSS:\t  204800 kB\nThreads: 9\n'), 200)
  t.equal(rssMiBFromStatus('Name:\tnode\n'), null)
})
