/**
 * runtime.watch(), runtime.actors() and runtime.restart() on real threads:
 * a failure injected in an actor is reported with its cause, then its
 * restart, then `gave-up` past the restart intensity; restart(path) brings
 * the repository back and requests succeed again. A thread death is
 * reported with its cause. A watcher that does not read is told what it missed.
 */
import t from 'tap'
import { createRuntime, isCairnError, type Runtime, type WatchItem, type SupervisionEvent } from '../../../../../lib/index.ts'
import { repoHooks } from '../../../../../lib/testing/index.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

/** Collects everything a watch yields until the test ends. */
type Test = Parameters<Parameters<typeof t.test>[0]>[0]

function collect(rt: Runtime, t: Test, buffer?: number): WatchItem[] {
  const seen: WatchItem[] = []
  const stop = new AbortController()
  t.teardown(() => stop.abort())
  void (async () => { for await (const e of rt.watch({ signal: stop.signal, buffer })) seen.push(e) })()
  return seen
}

const events = (seen: WatchItem[]): SupervisionEvent[] => seen.filter((e): e is SupervisionEvent => e.type !== 'missed')

t.test('an injected actor failure: failed with its cause, restarted, then gave-up; restart(path) brings it back', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({
    home: box.home, threads: 1, watchdog: false, __unsafe_faultInjection: true,
    restart: { maxRestarts: 2, withinMs: 60_000, initialBackoffMs: 1, maxBackoffMs: 5 },
  })
  t.teardown(() => rt.stop())
  const seen = collect(rt, t)
  const path = box.repo('r')
  const repo = await rt.repo(path)
  const hooks = repoHooks(repo)
  const issue = await repo.issues.create({ title: 'survives' })
  t.match(events(seen).map((e) => e.type), ['placed', 'started'], 'opening is placed, then started')

  for (let i = 0; i < 3; i++) {
    await eventually(async () => (await rt.actors()).every((a) => a.state === 'running'))
    await hooks.fault('throw-actor')
    await repo.issues.comment(issue.id, `after fault ${i}`).catch(() => undefined)
  }
  await eventually(() => events(seen).some((e) => e.type === 'gave-up'))
  const history = events(seen).filter((e) => e.kind === 'repo-worker').map((e) => e.type)
  t.same(history, ['failed', 'restarted', 'failed', 'restarted', 'failed', 'gave-up'], 'two restarts within the intensity, then it gives up')
  const failures = events(seen).filter((e) => e.type === 'failed')
  for (const f of failures) t.match(f, { repo: `${path}/.git`, kind: 'repo-worker', cause: { message: /injected/ }, thread: Number })
  t.same(failures.map((f) => f.restartInMs === null), [false, false, true], 'the last failure is not restarted')
  t.match(events(seen).find((e) => e.type === 'gave-up'), { kind: 'repo-worker', error: { code: 'ACTOR_FAILED' }, cause: { message: /injected/ } })
  const seqs = seen.map((e) => (e as SupervisionEvent).seq)
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'sequence numbers increase')
  t.equal(new Set(seqs).size, seqs.length, 'and are unique')

  const worker = (await rt.actors()).find((a) => a.kind === 'repo-worker')!
  t.match(worker, { state: 'failed', restarts: 2, repo: `${path}/.git`, lastFailure: { cause: { message: /injected/ }, at: Number } })
  await t.rejects(repo.issues.comment(issue.id, 'refused'), { code: 'ACTOR_FAILED' })

  const handOff = await rt.restart(path)
  t.match(handOff, { repo: `${path}/.git`, ms: Number })
  t.match(events(seen).at(-1), { type: 'restarted', reason: 'operator' })
  const back = (await rt.actors()).find((a) => a.kind === 'repo-worker')!
  t.match(back, { state: 'running', restarts: 0, lastFailure: null }, 'a fresh restart history')
  await repo.issues.comment(issue.id, 'back')
  t.match((await repo.issues.show(issue.id)).comments.map((c) => c.body), ['back'], 'requests succeed again; the refused ones left nothing')

  // The intensity window starts afresh: one more failure restarts instead of giving up.
  await hooks.fault('throw-actor')
  await t.rejects(repo.issues.comment(issue.id, 'fails the commit'), { code: 'UNAVAILABLE' })
  await eventually(() => events(seen).filter((e) => e.type === 'restarted' && e.kind === 'repo-worker').length === 3)
})

t.test('a thread death is reported with its cause, then the repository restarts; actors() shows the thread and counts', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({
    home: box.home, threads: 2, watchdog: false, __unsafe_faultInjection: true,
    restart: { maxRestarts: 5, withinMs: 60_000, initialBackoffMs: 1, maxBackoffMs: 5 },
  })
  t.teardown(() => rt.stop())
  const seen = collect(rt, t)
  const repo = await rt.repo(box.repo('r'))
  await repo.issues.create({ title: 'one' })
  const before = await rt.actors()
  t.equal(before.length, 3, 'three actors per repository')
  t.match(before.find((a) => a.kind === 'repo-worker'), { state: 'running', machine: String, mailbox: 0, handled: Number, restarts: 0, openSince: Number })
  t.ok(before.find((a) => a.kind === 'repo-worker')!.handled >= 1, 'the write was handled')

  await repoHooks(repo).fault('throw-thread')
  await eventually(() => events(seen).some((e) => e.type === 'restarted' && e.reason === 'thread'))
  t.match(events(seen).find((e) => e.type === 'thread-died'), { thread: before[0]!.thread, cause: { message: 'injected thread failure' } })
  await repo.issues.create({ title: 'two' })
  const after = await rt.actors()
  t.ok(after.every((a) => a.restarts === 1 && a.state === 'running'), 'each actor counts the restart')
  t.equal(after[0]!.openSince, before[0]!.openSince, 'open since the first open, across restarts')
})

t.test('a watcher that does not read is told how many events it missed, and where', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 1, watchdog: false })
  t.teardown(() => rt.stop())
  const stop = new AbortController()
  const it = rt.watch({ signal: stop.signal, buffer: 2 })[Symbol.asyncIterator]()
  const paths = ['a', 'b', 'c'].map((n) => box.repo(n))
  for (const p of paths) await rt.repo(p) // placed + started each: 6 events
  for (const p of paths) await rt.close(p) // 3 more
  const got: WatchItem[] = []
  for (let i = 0; i < 3; i++) got.push((await it.next()).value as WatchItem)
  t.match(got[0], { type: 'placed', seq: 1 })
  t.match(got[1], { type: 'started', seq: 2 })
  t.same(got[2], { type: 'missed', count: 7, fromSeq: 3, toSeq: 9 }, 'the dropped events are counted in one item')
  await rt.repo(paths[0]!)
  t.match((await it.next()).value, { type: 'placed', seq: 10 }, 'and the watch goes on after the gap')
  stop.abort()
  t.equal((await it.next()).done, true, 'aborting ends the iteration')
})

t.test('stop() ends every watch', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 1, watchdog: false })
  const seen: WatchItem[] = []
  const done = (async () => { for await (const e of rt.watch()) seen.push(e) })()
  await rt.repo(box.repo('r'))
  await rt.stop()
  await done
  t.same(seen.map((e) => e.type), ['placed', 'started'])
  t.ok(isCairnError(await rt.actors().then(() => null, (e: unknown) => e), 'STOPPED'), 'a stopped runtime answers STOPPED')
})
