/**
 * What `import { createRuntime } from 'cairn'` and then createRuntime()
 * load on the embedder's main thread. The main thread runs the Supervisor,
 * the router and the store reader (LMDB, xstate, Piscina, msgpackr); git
 * work runs on the repository threads or through the git binary, and MCP,
 * the board and the CLI are other entry points. A static path to any of
 * those packages costs every embedder at idle: nodegit alone, reached
 * through a pure path helper, was 35 MiB of RSS and 11 MiB of heap on the
 * main thread and ~0.3 s of import (bench:package's idle RSS, 133 -> ~100 MiB).
 */
import t from 'tap'
import { importGraph } from '../../helpers/import-graph.ts'

const NOT_AT_IDLE = ['nodegit', 'zod', 'hono', '@hono/node-server', '@modelcontextprotocol/sdk', 'puppeteer-core', 'commander']

t.test("Cairn's entry loads no package the main thread does not need at idle", async (t) => {
  const entry = importGraph('lib/index.ts')
  t.ok(entry.seen.has('lib/api/create-runtime.ts'), `the walk followed the entry's imports (${entry.seen.size} modules)`)
  t.ok(entry.seen.has('pkg:piscina'), 'it sees the thread pool createRuntime starts first (piscina)')
  // createRuntime starts the repository threads, then loads the runtime (lib/api/runtime.ts), so the two load at once.
  t.same(entry.reaching(['lmdb', 'xstate', ...NOT_AT_IDLE]), [], "import 'cairn' itself loads neither LMDB nor xstate")
  const runtime = importGraph('lib/api/runtime.ts')
  t.ok(runtime.seen.has('pkg:lmdb') && runtime.seen.has('pkg:xstate'), 'the runtime createRuntime loads reaches what the main thread needs (lmdb, xstate)')
  t.same(runtime.reaching(NOT_AT_IDLE), [], 'no static path from it to nodegit, zod, hono, the MCP SDK, puppeteer or commander')
})

t.test('the walk finds nodegit where it is imported', async (t) => {
  // The guard above can fail: the adapter that wraps nodegit reaches it.
  t.match(importGraph('lib/adapters/git/nodegit-remote.ts').reaching(['nodegit']), [/^pkg:nodegit <- lib\/adapters\/git\/nodegit-api\.ts/])
})
