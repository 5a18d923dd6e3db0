/**
 * What `import { createRuntime } from 'cairn'` loads on the embedder's main
 * thread. The main thread runs the Supervisor, the router and the store
 * reader (LMDB, xstate, Piscina, msgpackr); git work runs on the repository
 * threads or through the git binary, and MCP, the board and the CLI are other
 * entry points. A static path to any of those packages costs every embedder
 * at idle: nodegit alone, reached through a pure path helper, was 35 MiB of
 * RSS and 11 MiB of heap on the main thread and ~0.3 s of import
 * (bench:package's idle RSS, 133 -> ~100 MiB).
 */
import t from 'tap'
import { importGraph } from '../../helpers/import-graph.ts'

const NOT_AT_IDLE = ['nodegit', 'zod', 'hono', '@hono/node-server', '@modelcontextprotocol/sdk', 'puppeteer-core', 'commander']

t.test("Cairn's entry loads no package the main thread does not need at idle", async (t) => {
  const g = importGraph('lib/index.ts')
  t.ok(g.seen.has('lib/api/create-runtime.ts'), `the walk followed the entry's imports (${g.seen.size} modules)`)
  t.ok(g.seen.has('pkg:lmdb') && g.seen.has('pkg:xstate'), 'it sees the packages the main thread does need (lmdb, xstate)')
  t.same(g.reaching(NOT_AT_IDLE), [], 'no static path from lib/index.ts to nodegit, zod, hono, the MCP SDK, puppeteer or commander')
})

t.test('the walk finds nodegit where it is imported', async (t) => {
  // The guard above can fail: the adapter that wraps nodegit reaches it.
  t.match(importGraph('lib/adapters/git/nodegit-remote.ts').reaching(['nodegit']), [/^pkg:nodegit <- lib\/adapters\/git\/nodegit-api\.ts/])
})
