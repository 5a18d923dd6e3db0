import t from 'tap'
import { issuesParams, openEvents, parseIssuesArgs } from '../../../bench/issues/params.ts'
import { DEFAULT_OUT_DIR, parseBenchArgs } from '../../../bench/lib/params.ts'

t.test('the shared command line', async (t) => {
  t.same(parseBenchArgs([]), { outDir: DEFAULT_OUT_DIR, quick: false })
  t.same(parseBenchArgs(['--quick', '--out', 'x']), { outDir: 'x', quick: true })
  t.throws(() => parseBenchArgs(['--nope']))
  t.throws(() => parseBenchArgs(['--out', ' ']), /--out needs a directory/)
})

t.test('issues: defaults and --quick', async (t) => {
  t.same(parseIssuesArgs([]), { outDir: DEFAULT_OUT_DIR, params: issuesParams(false) })
  t.same(parseIssuesArgs(['--quick', '--out=o']), { outDir: 'o', params: issuesParams(true) })
  t.throws(() => parseIssuesArgs(['positional']))
})

t.test('the sizes the task asks for', async (t) => {
  const full = issuesParams(false)
  const quick = issuesParams(true)
  for (const p of [full, quick]) {
    t.equal(p.writers, 50)
    t.equal(p.listSmall, 1000)
    t.ok(p.listCalls >= 50)
    t.ok(p.openRepeats >= 3)
    t.ok(p.maxCallsPerWriter > 0 && p.populateTimeoutMs > 0, 'every loop has a count and a time bound')
  }
  t.equal(full.listLarge, 10_000)
  t.equal(openEvents(full), 100_000)
  t.equal(quick.writeDurationMs, 2000)
  t.equal(quick.listLarge, 2000)
  t.equal(openEvents(quick), 10_000)
})
