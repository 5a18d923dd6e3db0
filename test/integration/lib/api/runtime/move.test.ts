/**
 * runtime.move(path, threadId) under load and the load-aware placement of
 * new repositories, on real threads: 20 writers keep writing while the
 * repository is handed off between threads (there and back); every request
 * is answered, none is lost or applied twice.
 */
import t from 'tap'
import { createRuntime, type SupervisionEvent } from '../../../../../lib/index.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

t.test('move under 20 concurrent writers: every request answered, 0 lost, 0 duplicated', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 2, watchdog: false })
  t.teardown(() => rt.stop())
  const path = box.repo('hot')
  const repo = await rt.repo(path)
  const issue = await repo.issues.create({ title: 'hot' })
  const threads = (await rt.status()).threads
  t.equal(threads.length, 2, 'status() lists every thread, with or without repositories')
  const home = threads.find((x) => x.repos.includes(`${path}/.git`))!.threadId
  t.match(await rt.move(path, home), { from: home, to: home, ms: 0 }, 'moving to its own thread is a no-op')

  const acked: string[] = []
  const errors: unknown[] = []
  const ackTimes: number[] = []
  let stop = false
  const writers = Array.from({ length: 20 }, async (_, w) => {
    for (let i = 0; !stop && i < 10_000; i++) {
      const body = `w${w}-${i}`
      try {
        await repo.issues.comment(issue.id, body, { opId: body })
        acked.push(body)
        ackTimes.push(performance.now())
      } catch (err) {
        errors.push(err)
      }
    }
  })
  await eventually(() => acked.length >= 200)
  const other = threads.find((x) => x.threadId !== home)!.threadId
  const there = await rt.move(path, other)
  t.match(there, { repo: `${path}/.git`, from: home, to: other, ms: Number })
  t.same([...new Set((await rt.actors()).map((a) => a.thread))], [other], 'all three actors run on the target thread')
  const mid = acked.length
  await eventually(() => acked.length >= mid + 200)
  const back = await rt.move(path, home)
  t.match(back, { from: other, to: home })
  const end = acked.length
  await eventually(() => acked.length >= end + 200)
  stop = true
  await Promise.all(writers)

  t.same(errors, [], 'every request was answered with success')
  const comments = (await repo.issues.show(issue.id)).comments.map((c) => c.body)
  t.equal(comments.length, acked.length, `${acked.length} acknowledged, as many stored`)
  t.equal(new Set(comments).size, comments.length, '0 duplicated')
  t.ok(acked.every((b) => comments.includes(b)), '0 lost')
  let gap = 0
  for (let i = 1; i < ackTimes.length; i++) gap = Math.max(gap, ackTimes[i]! - ackTimes[i - 1]!)
  t.comment(`longest gap between acknowledgements: ${gap.toFixed(0)} ms; hand-offs ${there.ms} ms and ${back.ms} ms`)
})

t.test('new repositories go to the thread with the least load, not just the fewest repositories', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 2, watchdog: false })
  t.teardown(() => rt.stop())
  const seen: SupervisionEvent[] = []
  const ac = new AbortController()
  t.teardown(() => ac.abort())
  void (async () => { for await (const e of rt.watch({ signal: ac.signal })) if (e.type !== 'missed') seen.push(e) })()
  const a = await rt.repo(box.repo('a'))
  const b = await rt.repo(box.repo('b'))
  const threadOf = async (p: string): Promise<number> => (await rt.actors()).find((x) => x.repo === `${p}/.git`)!.thread!
  const ta = await threadOf(box.dir + '/a')
  const tb = await threadOf(box.dir + '/b')
  t.not(ta, tb, 'two idle repositories spread over the two threads')

  // Make a's thread busy, b's idle, then open c: it goes beside b, though both threads host one.
  const issue = await a.issues.create({ title: 'hot' })
  let stop = false
  const load = Promise.all(Array.from({ length: 8 }, async () => { for (let i = 0; !stop && i < 100_000; i++) await a.issues.comment(issue.id, 'x') }))
  await new Promise((r) => setTimeout(r, 500))
  await rt.repo(box.repo('c'))
  stop = true
  await load
  t.equal(await threadOf(box.dir + '/c'), tb, 'c is placed on the thread without load')
  t.match(seen.find((e) => e.type === 'placed' && e.repo.endsWith('/c/.git')), { thread: tb })
  void b
})
