/**
 * The live stream's bounds, with stand-in feeds (the feeds are tested on a
 * real runtime elsewhere): a page that stops reading gets its stream closed
 * once MAX_QUEUED messages wait for it, and every feed it watched is left,
 * so a stuck tab costs the daemon neither memory nor a poll loop.
 */
import t from 'tap'
import { Hono } from 'hono'
import { LiveStreams, MAX_QUEUED } from '../../../../lib/ui/http/live.ts'
import type { FeedMessage } from '../../../../lib/ui/board/feed.ts'

const REPO = 'a'.repeat(16)

function fixture() {
  let boardListener: ((m: FeedMessage) => void) | null = null
  const left = { board: 0, runtime: 0 }
  const boards = {
    get: (id: string) => {
      if (id !== REPO) throw new Error('unknown')
      return {
        feed: {
          join: async (l: (m: FeedMessage) => void) => {
            boardListener = l
            return { initial: [{ event: 'board', data: { full: true, cards: [], counts: {}, removes: [] } }] as FeedMessage[], leave: () => { left.board++ } }
          },
        },
      }
    },
  }
  const runtime = { join: async () => ({ initial: { now: 1 }, leave: () => { left.runtime++ } }) }
  const live = new LiveStreams({ boards: boards as never, runtime: runtime as never, now: () => 1, hello: () => ({}), maxStreams: 4 })
  const app = new Hono()
  app.get('/api/live', (c) => live.handle(c))
  return { app, live, left, push: (m: FeedMessage) => boardListener?.(m), joined: () => boardListener !== null }
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 5))
  }
  return true
}

t.test('a page that stops reading is cut off at MAX_QUEUED waiting messages, and its feeds are left', async (t) => {
  const f = fixture()
  const res = await f.app.request(`/api/live?repo=${REPO}`)
  t.equal(res.status, 200)
  t.ok(await until(f.joined), 'the stream joined the board feed')
  t.equal(f.live.count, 1)
  // Nobody reads the body: writes stall once the stream's small buffer is full, and messages queue.
  for (let i = 0; i < MAX_QUEUED + 50; i++) f.push({ event: 'activity', data: { items: [{ seq: i, text: 'x'.repeat(200) }], replay: false } })
  t.ok(await until(() => f.live.count === 0), 'the stream is closed')
  t.ok(await until(() => f.left.board === 1 && f.left.runtime === 1), 'both feeds were left')
  await res.body?.cancel().catch(() => undefined)
})

t.test('a page that reads gets every message, in order', async (t) => {
  const f = fixture()
  const res = await f.app.request(`/api/live?repo=${REPO}`)
  t.ok(await until(f.joined))
  const reader = res.body!.getReader()
  let text = ''
  for (let i = 0; i < 50; i++) f.push({ event: 'activity', data: { items: [{ seq: i }], replay: false } })
  const end = Date.now() + 5000
  while (!text.includes('"seq":49') && Date.now() < end) text += new TextDecoder().decode((await reader.read()).value)
  const seqs = [...text.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1]))
  t.same(seqs, Array.from({ length: 50 }, (_, i) => i))
  t.match(text, /^event: hello\n/, 'hello first')
  t.match(text, /event: board\ndata: \{"full":true/, 'then the board snapshot')
  await reader.cancel()
  t.ok(await until(() => f.live.count === 0 && f.left.board === 1), 'a page that goes away is forgotten')
})
