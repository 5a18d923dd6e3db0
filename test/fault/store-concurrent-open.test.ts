/**
 * A process that opens a store while another process commits must not set
 * the store back. lmdb-js 3.5.6's copy of LMDB writes the shared id of the
 * last commit from the meta page the opener read, without the writer lock
 * (LMDB ITS#9496, fixed upstream in 2021): the next commit then builds on
 * the older snapshot, and an acknowledged commit is overwritten, or the
 * B-tree breaks (`mdb_page_touch no parent`). scripts/patch-lmdb.mjs
 * builds lmdb with the fix; on the prebuilt library this test lost a
 * commit in each of 6 runs of 10 s here (and broke the tree in 2).
 *
 * Real processes: one commits through openStore and the write chain and
 * reads each commit back; another opens and closes the same store as fast
 * as it can, for a few seconds.
 */
import t from 'tap'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openStore } from '../../lib/kernel/store/open-store.ts'
import { lmdbFix } from '../../lib/kernel/store/lmdb-fix.ts'
import { RuntimeChild } from '../fixtures/child-process.ts'
import { sandbox } from '../helpers/tmp-repos.ts'

const FIXTURE = fileURLToPath(new URL('../fixtures/store-open-race.ts', import.meta.url))
const RUN_MS = 6_000

t.test('this install\'s lmdb is built with LMDB\'s fix for openers racing commits', async (t) => {
  const lib = lmdbFix()
  t.ok(lib.dir, 'the lmdb package is found')
  t.ok(lib.fixed, `lmdb ${lib.version} in ${lib.dir} carries the fix (scripts/patch-lmdb.mjs builds it)`)
})

t.test('a process opening the store again and again while another commits loses none of its commits', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const dir = join(box.dir, 'store')
  await (await openStore(dir, 'repo')).close()

  const writer = new RuntimeChild('script', '', '', {}, [FIXTURE, 'writer', dir, String(RUN_MS)])
  const opener = new RuntimeChild('script', '', '', {}, [FIXTURE, 'opener', dir, String(RUN_MS)])
  t.teardown(async () => { await writer.kill(); await opener.kill() })
  await Promise.all([writer.line('ready', 60_000), opener.line('ready', 60_000)])
  const [w, o] = await Promise.all([writer.line('done', RUN_MS + 60_000), opener.line('done', RUN_MS + 60_000)])

  t.ok((o.opens as number) > 50, `the store was opened ${String(o.opens)} times meanwhile`)
  t.ok((w.commits as number) > 50, `${String(w.commits)} blocks committed meanwhile`)
  t.same(writer.lines.filter((l) => l.older === true), [], 'no acknowledged commit read back older')
  t.equal(w.older, 0, 'the writer counted none')
  t.equal(writer.stderr.trim(), '', 'the writer failed no commit')
  t.equal(opener.stderr.trim(), '', 'the opener failed no open')

  const env = await openStore(dir, 'repo')
  t.teardown(() => env.close())
  t.equal(env.openDB({ name: 'counter' }).get('c'), w.last, 'the store holds the last acknowledged value')
})
