/**
 * repo.events.subscribe through a real runtime: replay then follow, resume at
 * a cursor across a runtime restart, a paused consumer, an actor restart in
 * the middle of a stream, and the ways a stream ends.
 */
import t from 'tap'
import { createRuntime, type LoggedEvent, type Repo } from '../../../../../lib/index.ts'
import { repoHooks } from '../../../../../lib/testing/index.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

/** Reads `n` events from a subscription, then aborts it; bounded by `timeoutMs`. */
async function take(repo: Repo, n: number, opts: { fromSeq?: number; pageSize?: number } = {}, timeoutMs = 20_000): Promise<LoggedEvent[]> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), timeoutMs)
  const got: LoggedEvent[] = []
  try {
    for await (const e of repo.events.subscribe({ ...opts, signal: ac.signal })) {
      got.push(e)
      if (got.length >= n) break
    }
  } finally {
    clearTimeout(timer)
  }
  return got
}

t.test('replays from fromSeq, then follows live writes in order', async (t) => {
  const box = sandbox()
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('r'), { agent: 'a' })
  const { id } = await repo.issues.create({ title: 'x' })
  for (let i = 0; i < 9; i++) await repo.issues.comment(id, `c${i}`)
  const ac = new AbortController()
  t.teardown(() => ac.abort())
  const it = repo.events.subscribe({ fromSeq: 4, pageSize: 3, signal: ac.signal })[Symbol.asyncIterator]()
  const got: LoggedEvent[] = []
  // The replay: seqs 4..10, the whole log so far.
  for (let i = 0; i < 7; i++) got.push((await it.next()).value as LoggedEvent)
  t.same(got.map((e) => e.seq), [4, 5, 6, 7, 8, 9, 10], 'the replay is the log from fromSeq')
  // Caught up: whatever comes next can only be a write made from now on.
  let answered = false
  const pending = it.next().then((r) => { answered = true; return r })
  await repo.issues.comment(id, 'c9')
  t.equal(answered, false, 'the stream waited for a write it had not seen')
  got.push((await pending).value as LoggedEvent)
  for (let i = 10; i < 17; i++) {
    const next = it.next()
    await repo.issues.comment(id, `c${i}`)
    got.push((await next).value as LoggedEvent)
  }
  ac.abort()
  t.same(got.map((e) => e.seq), Array.from({ length: 15 }, (_, i) => i + 4), 'seqs 4..18, none missing, none twice')
  t.same(got.map((e) => (e.event.kind as { body?: string }).body), Array.from({ length: 15 }, (_, i) => `c${i + 2}`))
})

t.test('a cursor resumes across a runtime restart with no gap and no duplicate', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const path = box.repo('r')
  let rt = await createRuntime({ home: box.home, threads: 1 })
  let repo = await rt.repo(path, { agent: 'a' })
  const { id } = await repo.issues.create({ title: 'x' })
  for (let i = 0; i < 30; i++) await repo.issues.comment(id, `before ${i}`)
  const first = await take(repo, 17, { pageSize: 5 })
  await rt.stop()

  rt = await createRuntime({ home: box.home, threads: 2 })
  t.teardown(() => rt.stop())
  repo = await rt.repo(path, { agent: 'a' })
  for (let i = 0; i < 10; i++) await repo.issues.comment(id, `after ${i}`)
  const rest = await take(repo, 41 - 17, { fromSeq: first[first.length - 1]!.seq + 1, pageSize: 7 })
  const all = [...first, ...rest]
  t.same(all.map((e) => e.seq), Array.from({ length: 41 }, (_, i) => i + 1), 'seqs 1..41 exactly once across the restart')
  const log = await repo.events.read({ fromSeq: 1, limit: 1000 })
  t.same(all.map((e) => e.event.eventId), log.map((e) => e.event.eventId), 'the same events as the log, in log order')
})

t.test('a paused consumer gets everything in order when it resumes; pages stay bounded', async (t) => {
  const box = sandbox()
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('r'), { agent: 'a' })
  const { id } = await repo.issues.create({ title: 'x' })
  const ac = new AbortController()
  const it = repo.events.subscribe({ pageSize: 4, signal: ac.signal })[Symbol.asyncIterator]()
  const firstOne = await it.next()
  t.equal((firstOne.value as LoggedEvent).seq, 1)
  // The consumer now stalls while 300 events are written.
  await Promise.all(Array.from({ length: 300 }, (_, i) => repo.issues.comment(id, `c${i}`)))
  const seqs: number[] = []
  for (let i = 0; i < 300; i++) {
    const r = await it.next()
    if (r.done) break
    seqs.push(r.value.seq)
  }
  ac.abort()
  t.same(seqs, Array.from({ length: 300 }, (_, i) => i + 2), 'all 300 writes made while paused arrive in order')
  t.same(await it.next(), { done: true, value: undefined }, 'aborting ends the stream')
  const status = await rt.status()
  t.ok(status.actors.every((a) => a.mailbox === 0), 'nothing is left queued in any mailbox')
})

t.test('a stream rides out an actor restart; the runtime stopping ends it', async (t) => {
  const box = sandbox()
  const rt = await createRuntime({ home: box.home, threads: 1, __unsafe_faultInjection: true,
    restart: { maxRestarts: 5, withinMs: 10_000, initialBackoffMs: 10, maxBackoffMs: 50 } })
  t.teardown(() => box.cleanup())
  const repo = await rt.repo(box.repo('r'), { agent: 'a' })
  const { id } = await repo.issues.create({ title: 'x' })
  const got: number[] = []
  const stream = (async () => {
    for await (const e of repo.events.subscribe({ pageSize: 2 })) got.push(e.seq)
    return 'ended'
  })()
  await eventually(() => got.length === 1)
  await repoHooks(repo).fault('throw-actor')
  // The injected failure hits the next commit: this write fails, the actor restarts.
  await repo.issues.comment(id, 'fails').catch((e) => t.equal(e.code, 'UNAVAILABLE', 'the write in the failing commit is refused'))
  await eventually(async () => {
    try { await repo.issues.comment(id, 'after restart'); return true } catch { return false }
  })
  await eventually(() => got.length >= 2)
  const log = await repo.events.read()
  t.same(got, log.map((e) => e.seq), 'the stream saw every logged event once, across the restart')
  await rt.stop()
  t.equal(await stream, 'ended', 'stopping the runtime ends the stream')
})
