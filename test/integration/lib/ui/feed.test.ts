/**
 * The board feed on a real runtime and repository: it sees writes made by
 * another runtime (another home, another process's kind of writer) on the
 * same repository, pages of one repository share one poll loop, and no
 * poll runs once the last page left.
 */
import t from 'tap'
import { createRuntime } from '../../../../lib/index.ts'
import { SystemClock } from '../../../../lib/adapters/system-clock.ts'
import { BoardFeed, type FeedMessage, type FeedRepo } from '../../../../lib/ui/board/feed.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

/** The reader the board uses, with its log reads counted. */
function counted(repo: FeedRepo): { repo: FeedRepo; reads: () => number } {
  let reads = 0
  const events = { ...repo.events, read: (...a: Parameters<FeedRepo['events']['read']>) => { reads++; return repo.events.read(...a) } }
  return { repo: { ...repo, events } as FeedRepo, reads: () => reads }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('another runtime\'s writes reach the board; one loop per repository; none without pages', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const path = box.repo('shared')
  const a = await createRuntime({ home: `${box.dir}/home-a`, threads: 1 })
  t.teardown(() => a.stop())
  const reader = counted(await a.repo(path, { actor: '0'.repeat(32) }))
  const feed = new BoardFeed(reader.repo, new SystemClock())

  const seen: FeedMessage[] = []
  const first = await feed.join((m) => seen.push(m))
  t.match(first.initial.find((m) => m.event === 'board'), { data: { full: true, cards: [] } }, 'an empty board to start')

  const b = await createRuntime({ home: `${box.dir}/home-b`, threads: 1 })
  const other = await b.repo(path, { agent: 'elsewhere' })
  const issue = await other.issues.create({ title: 'Written by another runtime' })
  const wrote = Date.now()
  const until = wrote + 5000
  let card: { id: string; title: string } | undefined
  while (!card && Date.now() < until) {
    await sleep(25)
    card = seen.filter((m) => m.event === 'board').flatMap((m) => (m.data as { cards: { id: string; title: string }[] }).cards).find((c) => c.id === issue.id)
  }
  t.ok(card, 'the other runtime\'s issue reaches the board')
  t.ok(Date.now() - wrote < 2000, `within ${Date.now() - wrote} ms`)
  await b.stop()

  const second = await feed.join(() => undefined)
  t.equal(feed.watchers, 2)
  const r0 = reader.reads()
  await sleep(2000)
  const perSecond = (reader.reads() - r0) / 2
  t.ok(perSecond <= 6, `two pages, one loop: ${perSecond} log reads/s (a tick every 250 ms)`)

  first.leave()
  second.leave()
  t.equal(feed.watchers, 0)
  await sleep(400)
  const r1 = reader.reads()
  await sleep(1000)
  t.equal(reader.reads(), r1, 'no page, no poll')
})
