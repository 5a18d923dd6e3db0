/**
 * A runtime's spare threads are bare until they host a repository: only the
 * first thread loads the host module at boot (its probe proves the module
 * loads), the others start and are listed but load it with their first
 * repository. The host module graph (LMDB, xstate, the three actors) was
 * about 8 MiB of RSS and heap in every idle thread.
 */
import t from 'tap'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { resolveOptions } from '../../../../lib/api/options.ts'
import { Supervisor } from '../../../../actors/supervisor/supervisor.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

const COUNTING_HOST = pathToFileURL(fileURLToPath(new URL('../../../fixtures/hosts/counting-host.ts', import.meta.url))).href

t.test('only the threads that host a repository load the host module', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const loads = join(box.dir, 'host-loads')
  process.env.CAIRN_TEST_HOST_LOADS = loads
  const loaded = (): number[] => existsSync(loads) ? readFileSync(loads, 'utf8').trim().split('\n').map(Number) : []
  const sup = new Supervisor({ ...resolveOptions({ home: box.home, threads: 3, watchdog: false }), hostEntry: COUNTING_HOST })
  await sup.start()
  t.teardown(() => sup.stop())

  t.equal(loaded().length, 1, 'boot: one thread loaded the host module (the probe)')
  // The spare threads' start tasks are not awaited by boot; they answer soon after.
  for (let i = 0; i < 100 && sup.threads().length < 3; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(sup.threads().length, 3, 'every thread is started and listed')
  t.equal(loaded().length, 1, 'the spare threads did not load it')

  const a = box.repo('a')
  const b = box.repo('b')
  await sup.openRepo(a)
  t.same(loaded(), [sup.threads().find((x) => x.repos.length === 1)!.threadId], 'the first repository went to the thread that had it loaded')
  await sup.openRepo(b)
  const hosting = sup.threads().filter((x) => x.repos.length === 1).map((x) => x.threadId).sort()
  t.equal(hosting.length, 2, 'the second repository went to a spare thread')
  t.same([...loaded()].sort(), hosting, 'which loaded the host module with it, and no other thread did')
  t.equal((await sup.status()).actors.filter((x) => x.supervision === 'running').length, 6, "both repositories' actors run")
})
