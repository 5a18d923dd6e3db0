/**
 * A one-shot `cairn` command through the daemon pays for every module the
 * bin loads before it runs: the bin's static import graph must not reach the
 * heavy packages only the daemon, the embedded runtime, doctor's repair,
 * `cairn mcp` or the board need (they are imported where they are used).
 * Measured: nodegit and LMDB in that graph made `cairn issue list` 0.44 s
 * instead of 0.16 s (a bare `node -e 0` is 0.07 s here).
 */
import t from 'tap'
import { importGraph } from '../../../helpers/import-graph.ts'

const HEAVY = ['nodegit', 'lmdb', 'zod', 'hono', '@hono/node-server', '@modelcontextprotocol/sdk', 'piscina', 'xstate']

t.test('the bin loads none of the heavy packages before a command runs', async (t) => {
  const g = importGraph('lib/cli/bin.ts')
  t.ok(g.seen.size > 10, `the walk followed the bin's imports (${g.seen.size} modules)`)
  t.ok(g.seen.has('pkg:commander'), 'it sees package imports (commander)')
  t.same(g.reaching(HEAVY), [], 'no static path from lib/cli/bin.ts to a heavy package')
})

t.test("the bin's codec loads msgpackr's plain entry, not its Node one with the native extractor", async (t) => {
  const g = importGraph('lib/cli/bin.ts')
  t.ok(g.seen.has('pkg:msgpackr/pack'), 'the codec imports msgpackr/pack')
  // The Node entry loads msgpackr-extract through node-gyp-build-optional-packages: ~12 ms of every call.
  t.notOk(g.seen.has('pkg:msgpackr'), 'no static path from lib/cli/bin.ts to the msgpackr entry')
})
