import t from 'tap'
import { createRuntime, isCairnError, CHANNELS } from '../../../../../lib/index.ts'
import { repoHooks, type RepoHooks } from '../../../../../lib/testing/index.ts'
import { captureChannel, eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

async function settleAll(ps: Promise<unknown>[]) {
  const res = await Promise.allSettled(ps)
  return {
    ok: res.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ opId: string }>).value),
    errors: res.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason),
  }
}

/** Appends until the actor answers again (it is restarting meanwhile). */
async function whenBack(repo: RepoHooks): Promise<void> {
  await eventually(async () => {
    try { await repo.records.count(); return true } catch (e) { return isCairnError(e, 'UNAVAILABLE') ? false : Promise.reject(e) }
  })
}

for (const mode of ['exit', 'throw-thread', 'hang'] as const) {
  t.test(`thread death by ${mode}: in-flight requests fail UNAVAILABLE, state survives, other thread keeps answering`, async (t) => {
    const box = sandbox()
    t.teardown(box.cleanup)
    const died = captureChannel(CHANNELS.threadDied, (fn) => t.teardown(fn))
    const rt = await createRuntime({
      home: box.home, threads: 2, __unsafe_faultInjection: true,
      watchdog: { intervalMs: 50, timeoutMs: 300 },
      restart: { maxRestarts: 10, withinMs: 10_000, initialBackoffMs: 1, maxBackoffMs: 20 },
    })
    t.teardown(() => rt.stop())
    const victim = repoHooks(await rt.repo(box.repo('victim')))
    const bystander = repoHooks(await rt.repo(box.repo('bystander')))
    const threadsBefore = (await rt.status()).threads
    t.same(threadsBefore.map((x) => x.repos.length), [1, 1], 'the two repositories are spread over two threads')

    const before = await settleAll(Array.from({ length: 50 }, (_, i) => victim.records.append({ i }, { opId: `pre-${i}` })))
    t.equal(before.errors.length, 0)

    // Keep the bystander busy throughout: it must never see an error.
    let stop = false
    const bystanderErrors: unknown[] = []
    let bystanderOps = 0
    const loop = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        try { await bystander.records.append({ i }); bystanderOps++ } catch (e) { bystanderErrors.push(e) }
      }
    })()

    await victim.fault(mode, { hangMs: 5_000 })
    const inflight = await settleAll(Array.from({ length: 200 }, (_, i) => victim.records.append({ i }, { opId: `mid-${i}` })))
    for (const e of inflight.errors) t.ok(isCairnError(e, 'UNAVAILABLE'), `in-flight failure is UNAVAILABLE (${(e as Error).message})`)
    t.ok(inflight.errors.length > 0, 'some requests were in flight when the thread died')

    await whenBack(victim)
    stop = true
    await loop
    t.same(bystanderErrors, [], 'the other thread answered every request')
    t.ok(bystanderOps > 0)

    const records = await victim.records.scan({ limit: 10_000 })
    const ids = new Set(records.map((r) => r.opId))
    for (const r of [...before.ok, ...inflight.ok]) t.ok(ids.has(r.opId), `acknowledged ${r.opId} survived`)
    t.equal(ids.size, records.length, 'no duplicates')
    t.ok(died.length >= 1, 'thread death published on cairn:thread:died')
    if (mode === 'hang') t.match(JSON.stringify(died), /terminated: by the watchdog: no answer to its ping within 300 ms/, 'its cause says the watchdog ended the thread, and why')
    const status = await rt.status()
    const worker = status.actors.find((a) => a.kind === 'repo-worker' && a.repo.includes('victim'))!
    t.ok(worker.restarts >= 1, 'restart counted in status()')
    t.equal(worker.supervision, 'running')
  })
}

t.test('restart intensity exceeded: the actor is reported failed and not restarted in a loop', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const failed = captureChannel(CHANNELS.actorFailed, (fn) => t.teardown(fn))
  const rt = await createRuntime({
    home: box.home, threads: 1, __unsafe_faultInjection: true, watchdog: false,
    restart: { maxRestarts: 2, withinMs: 60_000, initialBackoffMs: 1, maxBackoffMs: 5 },
  })
  t.teardown(() => rt.stop())
  const repo = repoHooks(await rt.repo(box.repo('r')))
  await repo.records.append({ keep: true }, { opId: 'keep' })
  for (let i = 0; i < 3; i++) {
    await whenBack(repo)
    await repo.fault('throw-actor')
    await t.rejects(repo.records.append({ i }), { code: 'UNAVAILABLE' })
  }
  await eventually(async () => (await rt.status()).actors.some((a) => a.kind === 'repo-worker' && a.supervision === 'failed'))
  await t.rejects(repo.records.count(), { code: 'ACTOR_FAILED' })
  const worker = (await rt.status()).actors.find((a) => a.kind === 'repo-worker')!
  t.equal(worker.restarts, 2, 'exactly maxRestarts restarts, then failed')
  t.equal(failed.length, 1, 'one cairn:actor:failed report')
  // No storm: nothing restarts it later.
  await new Promise((r) => setTimeout(r, 100))
  t.equal((await rt.status()).actors.find((a) => a.kind === 'repo-worker')!.restarts, 2)
})
