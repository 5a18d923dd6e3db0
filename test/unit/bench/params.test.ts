import t from 'tap'
import { DEFAULT_OUT_DIR, coreParams, parseCoreArgs } from '../../../bench/lib/params.ts'

t.test('defaults, --quick and --out', async (t) => {
  t.same(parseCoreArgs([]), { outDir: DEFAULT_OUT_DIR, params: coreParams(false) })
  t.equal(DEFAULT_OUT_DIR, 'bench-out')
  const q = parseCoreArgs(['--quick', '--out', '/tmp/x'])
  t.equal(q.outDir, '/tmp/x')
  t.equal(q.params.quick, true)
  t.ok(q.params.durationMs < coreParams(false).durationMs, 'quick is shorter')
  t.equal(parseCoreArgs(['--out=dir']).outDir, 'dir')
})

t.test('the task sizes hold in both modes', async (t) => {
  for (const quick of [false, true]) {
    const p = coreParams(quick)
    t.equal(p.rttSamples, 5000)
    t.equal(p.window, 256)
    t.equal(p.writesInFlight, 64)
  }
  t.equal(coreParams(false).durationMs, 1000)
})

t.test('unknown or malformed options throw', async (t) => {
  t.throws(() => parseCoreArgs(['--nope']))
  t.throws(() => parseCoreArgs(['positional']))
  t.throws(() => parseCoreArgs(['--out']))
  t.throws(() => parseCoreArgs(['--out', '']), /--out needs a directory/)
})
