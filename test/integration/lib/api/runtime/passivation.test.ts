/**
 * runtime.close(path) and the idle policy on real threads and stores: a
 * close under write load answers every request, and after reopening every
 * acknowledged write is present once, in the store and in the git WAL; a
 * closed repository holds no file of its store open; the idle policy closes
 * what nobody used, and each reopens on its next use.
 */
import t from 'tap'
import { readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime, type Repo, type SupervisionEvent, type WatchItem } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { walActors, walEventIds } from '../../../../helpers/git-wal.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'

/** Files of `dir` this process holds open (every thread's descriptors are the process's). */
function openFilesUnder(dir: string): string[] {
  const out: string[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(join('/proc/self/fd', fd))
      if (target.startsWith(dir)) out.push(target)
    } catch {
      // closed meanwhile
    }
  }
  return out
}

/** Every event id of the local log, in seq order. */
async function logIds(repo: Repo): Promise<string[]> {
  const ids: string[] = []
  for (let from = 1; ;) {
    const page = await repo.events.read({ fromSeq: from, limit: 1000 })
    for (const e of page) ids.push(e.event.eventId)
    if (page.length < 1000) return ids
    from = page.at(-1)!.seq + 1
  }
}

t.test('close under write load: every request answered, every acknowledged write present once, in the store and the WAL', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 2, watchdog: false })
  t.teardown(() => rt.stop())
  const path = box.repo('r')
  const repo = await rt.repo(path)
  const issue = await repo.issues.create({ title: 'busy' })
  const acked = new Set<string>()
  const errors: unknown[] = []
  let stop = false
  const writers = Array.from({ length: 20 }, async (_, w) => {
    for (let i = 0; !stop && i < 10_000; i++) {
      const body = `w${w}-${i}`
      try {
        await repo.issues.comment(issue.id, body, { opId: body })
        acked.add(body)
      } catch (err) {
        errors.push(err)
      }
    }
  })
  await eventually(() => acked.size >= 100)
  const handOff = await rt.close(path)
  t.match(handOff, { repo: `${path}/.git`, to: null, ms: Number })
  const atClose = acked.size
  await eventually(() => acked.size >= atClose + 100) // the handle opened it again for the writers
  stop = true
  await Promise.all(writers)
  t.same(errors, [], 'no request failed: those sent during the close waited and went on')

  // Closed again, then reopened through runtime.repo(): nothing lost.
  await rt.close(path)
  const again = await rt.repo(path)
  const comments = (await again.issues.show(issue.id)).comments.map((c) => c.body)
  t.equal(comments.length, acked.size, `${acked.size} acknowledged comments, each present`)
  t.equal(new Set(comments).size, comments.length, 'none twice')
  t.ok([...acked].every((b) => comments.includes(b)), 'every acknowledged one')

  await again.wal.flush()
  const inLog = await logIds(again)
  const inWal = walActors(path).flatMap((actor) => walEventIds(path, actor))
  t.equal(new Set(inWal).size, inWal.length, 'the WAL holds each event once')
  t.same([...inWal].sort(), [...inLog].sort(), 'and exactly the events of the log')
})

t.test('a closed repository holds nothing of its store open; closing frees its thread slot', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const rt = await createRuntime({ home: box.home, threads: 1, reposPerThread: 1, watchdog: false })
  t.teardown(() => rt.stop())
  const a = box.repo('a')
  const b = box.repo('b')
  const repoA = await rt.repo(a)
  await repoA.issues.create({ title: 'x' })
  await repoA.issues.list() // the main thread's store reader is open too
  t.ok(openFilesUnder(join(a, '.git', 'cairn')).length > 0, 'an open repository has its store open')
  await t.rejects(rt.repo(b), { code: 'BUSY' }, 'one repository per thread: no room for another')
  await rt.close(a)
  t.same(openFilesUnder(join(a, '.git', 'cairn')), [], 'closed: no descriptor into its store, on any thread')
  t.same((await rt.actors()).map((x) => x.repo), [], 'and no actors')
  const repoB = await rt.repo(b)
  await repoB.issues.create({ title: 'room again' })
  t.same((await rt.status()).threads.flatMap((x) => x.repos), [`${b}/.git`])
})

t.test('the idle policy closes repositories nobody used for idleCloseMs; each reopens on its next use', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const clock = new ManualClock(1_700_000_000_000)
  const rt = await createRuntime({ home: box.home, threads: 2, watchdog: false, clock, idleCloseMs: 60_000 })
  t.teardown(() => rt.stop())
  const seen: WatchItem[] = []
  const ac = new AbortController()
  t.teardown(() => ac.abort())
  void (async () => { for await (const e of rt.watch({ signal: ac.signal })) seen.push(e) })()
  const paths = ['a', 'b', 'c'].map((n) => box.repo(n))
  const repos = await Promise.all(paths.map((p) => rt.repo(p)))
  const ids = await Promise.all(repos.map((r) => r.issues.create({ title: 'kept' }).then((i) => i.id)))

  await clock.advance(30_000)
  await repos[0]!.issues.list() // a is used half-way: it stays open one more period
  await clock.advance(35_000)
  await eventually(async () => (await rt.actors()).length === 3)
  t.same([...new Set((await rt.actors()).map((x) => x.repo))], [`${paths[0]}/.git`], 'b and c idled out, a was used')
  const closed = seen.filter((e): e is SupervisionEvent => e.type === 'closed')
  await eventually(() => seen.filter((e) => e.type === 'closed').length === 2)
  closed.splice(0, closed.length, ...seen.filter((e): e is SupervisionEvent => e.type === 'closed'))
  t.same(closed.map((e) => [e.repo, e.reason]).sort(), [[`${paths[1]}/.git`, 'idle'], [`${paths[2]}/.git`, 'idle']])
  for (const p of paths.slice(1)) t.same(openFilesUnder(join(p, '.git', 'cairn')), [], `${p}: store closed`)

  await clock.advance(60_000)
  await eventually(async () => (await rt.actors()).length === 0)
  // The old handles still work: each use opens its repository again, nothing lost.
  for (const [i, repo] of repos.entries()) t.equal((await repo.issues.show(ids[i]!)).title, 'kept')
  t.equal((await rt.actors()).length, 9, 'all three open again')
})
