import t from 'tap'
import { createRuntime } from '../../../../../lib/index.ts'
import { ManualClock, repoHooks } from '../../../../../lib/testing/index.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

const T0 = 1_800_000_000_000

t.test('durable timers fire on the injected clock, once, and survive a restart', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const path = box.repo('r')
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  const repo = repoHooks(await rt.repo(path))
  await repo.timers.schedule('soon', T0 + 1_000, { n: 1 })
  await repo.timers.schedule('later', T0 + 60_000, { n: 2 })
  t.same((await repo.timers.list()).map((x) => x.id).sort(), ['later', 'soon'])

  await clock.advance(999)
  t.equal((await repo.records.count()).count, 0, 'nothing fires before its deadline')
  await clock.advance(1)
  await eventually(async () => (await repo.records.count()).count === 1)
  const [rec] = await repo.records.scan()
  t.same(rec!.value, { timer: 'soon', deadline: T0 + 1_000, payload: { n: 1 } })
  t.same((await repo.timers.list()).map((x) => x.id), ['later'], 'a fired timer is forgotten')
  await rt.stop()

  // Down while 'later' comes due: it fires once on restore.
  await clock.advance(120_000)
  const rt2 = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  const repo2 = repoHooks(await rt2.repo(path))
  await eventually(async () => (await repo2.records.count()).count === 2)
  // The fire is visible once committed; the timer leaves the list once that commit is flushed.
  await eventually(async () => (await repo2.timers.list()).length === 0)
  t.equal((await repo2.records.count()).count, 2)
  await rt2.stop()

  const rt3 = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(() => rt3.stop())
  const repo3 = repoHooks(await rt3.repo(path))
  await clock.advance(1_000_000)
  const values = (await repo3.records.scan()).map((r) => (r.value as { timer: string }).timer)
  t.same(values, ['soon', 'later'], 'each timer fired exactly once')
})
