/**
 * sync() finishes while writes continue: ten writers keep writing through
 * a sync to a bare remote; the sync returns while they are still writing,
 * and every event acknowledged before it started is on the remote's ref
 * (it used to wait for the writers to pause, which 20 writers never did).
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime } from '../../../../lib/index.ts'
import { walEventIds } from '../../../helpers/git-wal.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

t.test('a sync under steady writes returns while they keep writing', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  const rt = await createRuntime({ threads: 1, home: join(box.dir, 'home') })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(box.repo('mine'), { agent: 'me' })
  const { id } = await repo.issues.create({ title: 'busy' })
  let writing = true
  let acknowledged = 0
  // A budget the writers spend in tens of seconds: a sync that waits for them to pause returns only after it is spent.
  const BUDGET = 3000
  let spent = 0
  const writers = Array.from({ length: 10 }, async (_, w) => {
    let i = 0
    for (; i < BUDGET && writing; i++) {
      await repo.issues.comment(id, `w${w}-${i}`)
      acknowledged++
    }
    if (i === BUDGET) spent++
  })
  t.teardown(() => { writing = false })
  await new Promise((r) => setTimeout(r, 500))
  const before = (await repo.issues.history(id)).map((e) => e.event.eventId)
  const atStart = acknowledged
  const report = await repo.sync({ remote })
  const stillWriting = spent === 0
  const during = acknowledged - atStart
  writing = false
  await Promise.all(writers)
  t.ok(stillWriting, `the sync returned while the writers kept writing (${during} writes acknowledged during it, ${spent} of 10 writers had spent their budget)`)
  t.ok(report.pushed !== undefined, 'and reported its run')
  const onRemote = new Set(walEventIds(remote, repo.actor))
  t.equal(before.filter((e) => !onRemote.has(e)).length, 0, `every one of the ${before.length} events acknowledged before it is on the remote`)
})
