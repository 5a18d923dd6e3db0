/**
 * The board's HTTP surface with bad input, on a real daemon serving a real
 * repository: every route answers a clear coded error (unknown repository,
 * bad id, unknown or oversized query, wrong method, foreign Host, no token),
 * malformed HTTP is refused by the parser, and afterwards the daemon and the
 * board still serve (a socket round trip, a CLI-style request, the board).
 */
import t from 'tap'
import { connect as netConnect } from 'node:net'
import { createRuntime } from '../../../../lib/index.ts'
import { boardFixture, type BoardFixture } from './board-helpers.ts'

const UNKNOWN_REPO = 'ffffffffffffffff'

async function stillServing(t: { equal: (a: unknown, b: unknown, m: string) => void; ok: (a: unknown, m: string) => void }, f: BoardFixture, what: string): Promise<void> {
  const status = await f.client.request<{ pid: number; ui: { port: number } | null }>('daemon.status', {}, { timeoutMs: 10_000 })
  t.equal(status.pid, process.pid, `${what}: the daemon still answers on its socket`)
  t.equal(status.ui?.port, f.port, `${what}: and still serves the board`)
  const list = await f.client.request<unknown[]>('issues.list', { repo: f.repo, args: {} }, { timeoutMs: 10_000 })
  t.ok(Array.isArray(list), `${what}: repository requests still work`)
  const boards = await f.http('/api/boards', { auth: true })
  t.equal(boards.status, 200, `${what}: the board still answers`)
}

t.test('the token: none or a wrong one is 401 everywhere; the right one sets a strict cookie and drops itself from the URL', async (t) => {
  const f = await boardFixture(t)
  t.match(f.info.url, new RegExp(`^http://127\\.0\\.0\\.1:${f.port}/\\?token=[A-Za-z0-9_-]{43}$`), 'the URL `cairn ui` prints: 127.0.0.1, the port, the token')
  for (const path of ['/', '/assets/app.js', '/api/boards', `/api/boards/${UNKNOWN_REPO}`, '/api/live', '/api/runtime', '/nowhere']) {
    const r = await f.http(path)
    t.equal(r.status, 401, `GET ${path} without a token`)
  }
  const api = await f.http('/api/boards')
  t.match(api.json(), { ok: false, error: { code: 'UNAUTHORIZED' } }, 'API routes answer the coded JSON error')
  t.notMatch(api.text, f.token, 'and never echo the token')
  t.equal((await f.http('/api/boards', { headers: { authorization: `Bearer ${'x'.repeat(43)}` } })).status, 401, 'a wrong bearer token')
  t.equal((await f.http(`/?token=${f.token.slice(0, -1)}`)).status, 401, 'a token one character short')
  t.equal((await f.http('/', { headers: { cookie: `cairn_ui_000000000000=${f.token}` } })).status, 401, 'the token under another home\'s cookie name')
  t.equal((await f.http('/api/boards', { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${f.port}` }, body: '{}' })).status, 401, 'a write without a token')

  const entry = await f.http(`/?token=${f.token}`)
  t.equal(entry.status, 303, 'the URL with the token redirects')
  t.equal(entry.headers.location, '/', 'to itself without the token')
  const cookie = String(entry.headers['set-cookie'])
  t.match(cookie, /HttpOnly/, 'HttpOnly cookie')
  t.match(cookie, /SameSite=Strict/, 'SameSite=Strict')
  const page = await f.http('/', { headers: { cookie: cookie.split(';')[0]! } })
  t.equal(page.status, 200, 'the cookie opens the page')
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.headers['content-security-policy'], /default-src 'none'/, 'with a CSP that allows nothing else')
  t.match(page.headers['content-security-policy'], /connect-src 'self'/)
  t.equal(page.headers['referrer-policy'], 'no-referrer')
})

t.test('every read route with bad input: a coded error with the right status; the daemon unaffected', async (t) => {
  const f = await boardFixture(t)
  const repoId = (await f.http('/api/boards', { auth: true })).json().data[0].id as string
  const cases: [string, number, string][] = [
    [`/api/boards/${UNKNOWN_REPO}`, 404, 'NOT_FOUND'],
    ['/api/boards/not-a-repo', 400, 'INVALID_ARGUMENT'],
    ['/api/boards/ZZZZ', 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${UNKNOWN_REPO}/graph`, 404, 'NOT_FOUND'],
    [`/api/boards/${UNKNOWN_REPO}/leases`, 404, 'NOT_FOUND'],
    [`/api/boards/${UNKNOWN_REPO}/sync`, 404, 'NOT_FOUND'],
    [`/api/boards/${UNKNOWN_REPO}/agents`, 404, 'NOT_FOUND'],
    [`/api/boards/${UNKNOWN_REPO}/issues/abcd`, 404, 'NOT_FOUND'],
    [`/api/boards/${repoId}/issues/zz`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/issues/abc`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/issues/${'a'.repeat(33)}`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/issues/%00abcd`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/issues/abcdef12`, 404, 'NOT_FOUND'],
    [`/api/boards/${repoId}/events?from=0`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/events?from=-1`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/events?from=1.5`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/events?limit=5000`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/events?from=1&from=2`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/events?bogus=1`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/events?from=${'9'.repeat(300)}`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/search`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/search?q=${'x'.repeat(201)}`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}/search?q=a&limit=0`, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repoId}?x=1`, 400, 'INVALID_ARGUMENT'],
    ['/api/live?repo=zz', 400, 'INVALID_ARGUMENT'],
    [`/api/live?repo=${UNKNOWN_REPO}`, 404, 'NOT_FOUND'],
    ['/api/live?other=1', 400, 'INVALID_ARGUMENT'],
    ['/api/runtime?x=1', 400, 'INVALID_ARGUMENT'],
    ['/api/nothing', 404, 'NOT_FOUND'],
    ['/assets/../server.ts', 404, 'NOT_FOUND'],
    ['/assets/nope.js', 404, 'NOT_FOUND'],
    ['/assets/%2e%2e%2fserver.ts', 404, 'NOT_FOUND'],
    [`/api/boards/${repoId}?q=${'x'.repeat(3000)}`, 414, 'TOO_LARGE'],
  ]
  for (const [path, status, code] of cases) {
    const r = await f.http(path, { auth: true })
    t.equal(r.status, status, `GET ${path.slice(0, 90)} → ${status}`)
    if (path.startsWith('/api/') || path.startsWith('/assets/')) t.match(r.json(), { ok: false, error: { code, message: String } }, `  with code ${code}`)
  }
  const put = await f.http('/api/boards', { method: 'PUT', auth: true })
  t.equal(put.status, 405, 'an unserved method')
  t.equal(put.headers.allow, 'GET, HEAD, POST')
  const foreign = await f.http('/api/boards', { auth: true, headers: { host: `evil.example:${f.port}` } })
  t.equal(foreign.status, 403, 'a foreign Host (DNS rebinding) is refused even with the token')
  t.match(foreign.json(), { error: { code: 'FORBIDDEN' } })
  t.equal((await f.http('/api/boards', { auth: true, headers: { host: `localhost:${f.port}` } })).status, 200, 'localhost is this board too')
  await stillServing(t, f, 'after bad reads')
})

t.test('malformed and oversized HTTP is refused by the parser and closes only its connection', async (t) => {
  const f = await boardFixture(t)
  const raw = (bytes: string | Buffer): Promise<string> => new Promise((resolve) => {
    const s = netConnect(f.port, '127.0.0.1')
    let got = ''
    s.on('data', (d) => { got += d.toString('latin1') })
    s.on('error', () => resolve(got))
    s.on('close', () => resolve(got))
    s.setTimeout(5000, () => s.destroy())
    s.write(bytes)
  })
  t.match(await raw('GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/, 'garbage is a 400')
  t.match(await raw(Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10])), /^HTTP\/1\.1 400/, 'binary is a 400')
  const huge = await f.http(`/api/boards?${'a'.repeat(20_000)}`, { auth: true }).catch((e: Error) => ({ status: -1, text: e.message }))
  t.equal(huge.status, 431, 'a 20 KB request line is refused by the parser')
  const headers: Record<string, string> = {}
  for (let i = 0; i < 200; i++) headers[`x-h${i}`] = 'v'.repeat(100)
  const many = await f.http('/api/boards', { auth: true, headers }).catch((e: Error) => ({ status: -1, text: e.message }))
  t.equal(many.status, 431, '20 KB of headers: 431')
  t.match(await raw(`GET /api/boards HTTP/1.1\r\nHost: 127.0.0.1:${f.port}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`), /^HTTP\/1\.1 400/, 'request smuggling headers are a 400')
  await stillServing(t, f, 'after malformed HTTP')
})

t.test('writes: refused on a read-only board; with --allow-writes, only JSON from the page, bounded, validated, attributed', async (t) => {
  const f = await boardFixture(t)
  const repo = (await f.http('/api/boards', { auth: true })).json().data[0].id as string
  const call = <T>(method: string, args: Record<string, unknown>, agent = 'planner') => f.client.request<T>(method, { repo: f.repo, agent, args }, { timeoutMs: 10_000 })
  const issue = await call<{ id: string }>('issues.create', { title: 'Write me' })
  const show = () => call<{ state: string; comments: { actor: string }[] }>('issues.show', { id: issue.id })
  const origin = { origin: `http://127.0.0.1:${f.port}`, 'content-type': 'application/json' }
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = origin) => f.http(path, { method: 'POST', auth: true, headers, body })

  const ro = await post(`/api/boards/${repo}/issues/${issue.id}/comment`, JSON.stringify({ body: 'hi' }))
  t.equal(ro.status, 403, 'read-only by default')
  t.match(ro.json(), { error: { code: 'FORBIDDEN', message: /--allow-writes/ } })

  await t.rejects(f.start({ allowWrites: true }), { code: 'INVALID_ARGUMENT', details: { field: 'agent' } }, 'writes need a name to be made as')
  await f.start({ allowWrites: true }, 'alice')
  t.match(f.info, { allowWrites: true, writer: 'alice' })

  const cases: [string, string | Buffer, Record<string, string>, number, string][] = [
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '{"body":"x"}', { 'content-type': 'application/json', origin: 'http://evil.example' }, 403, 'FORBIDDEN'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '{"body":"x"}', { origin: origin.origin, 'content-type': 'text/plain' }, 415, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '{"body":', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '[1,2]', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '{"body":"x","evil":1}', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '{"body":"   "}', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '{"body":42}', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, JSON.stringify({ body: 'x'.repeat(70_000) }), origin, 413, 'TOO_LARGE'],
    [`/api/boards/${repo}/issues/${issue.id}/comment`, '{"body":"x","opId":""}', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/issues/abcdef12/comment`, '{"body":"x"}', origin, 404, 'NOT_FOUND'],
    [`/api/boards/${repo}/issues/zz/close`, '{}', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${UNKNOWN_REPO}/issues/${issue.id}/close`, '{}', origin, 404, 'NOT_FOUND'],
    [`/api/boards/${repo}/leases/break`, '{"resource":"issue:x"}', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/leases/break`, '{"reason":"stale"}', origin, 400, 'INVALID_ARGUMENT'],
    [`/api/boards/${repo}/nothing`, '{}', origin, 404, 'NOT_FOUND'],
  ]
  for (const [path, body, headers, status, code] of cases) {
    const r = await post(path, body, headers)
    t.equal(r.status, status, `POST ${path.replace(repo, ':repo').slice(0, 70)} ${String(body).slice(0, 30)} → ${status}`)
    t.match(r.json(), { ok: false, error: { code } })
  }
  t.equal((await show()).comments.length, 0, 'none of them wrote anything')

  const ok = await post(`/api/boards/${repo}/issues/${issue.id}/comment`, JSON.stringify({ body: 'looks good', opId: 'ui-1' }))
  t.equal(ok.status, 200)
  t.match(ok.json(), { ok: true, agent: 'alice', data: { seq: Number } })
  const again = await post(`/api/boards/${repo}/issues/${issue.id}/comment`, JSON.stringify({ body: 'looks good', opId: 'ui-1' }))
  t.match(again.json(), { ok: true, data: { duplicate: true } }, 'a retried click with the same opId applies once')
  const closed = await post(`/api/boards/${repo}/issues/${issue.id.slice(0, 8)}/close`, '{}')
  t.equal(closed.status, 200, 'close by prefix')
  const shown = await show()
  t.equal(shown.state, 'closed')
  t.equal(shown.comments.length, 1)
  const alice = await call<{ actor: string }>('repo.init', {}, 'alice')
  t.equal(shown.comments[0]!.actor, alice.actor, 'the comment is attributed to the human agent named')
  const agents = (await f.http(`/api/boards/${repo}/agents`, { auth: true })).json().data as { agent: string; actor: string }[]
  t.ok(agents.some((a) => a.agent === 'alice' && a.actor === alice.actor), 'and the board names that actor alice')

  await f.start({})
  const back = await post(`/api/boards/${repo}/issues/${issue.id}/comment`, JSON.stringify({ body: 'again' }))
  t.equal(back.status, 403, 'a later `cairn ui` without --allow-writes makes the board read-only again')
  await stillServing(t, f, 'after bad writes')
})

t.test('live streams are bounded: past the limit a new page gets 503 BUSY, and a closed page frees its slot', async (t) => {
  const dir = (await import('../../../helpers/tmp-repos.ts')).sandbox()
  t.teardown(() => dir.cleanup())
  const repo = dir.repo('r')
  const runtime = await createRuntime({ home: dir.home, threads: 1 })
  t.teardown(() => runtime.stop())
  const { startBoard } = await import('../../../../lib/ui/server.ts')
  const board = await startBoard({ home: dir.home, runtime, port: 0, maxStreams: 2 })
  t.teardown(() => board.close())
  await board.add(repo)
  const token = new URL(board.urlWithToken()).searchParams.get('token')!
  const open = () => fetch(`${board.url}api/live`, { headers: { authorization: `Bearer ${token}` } })
  const a = await open()
  const b = await open()
  t.equal(a.status, 200)
  t.match(a.headers.get('content-type'), /text\/event-stream/)
  const c = await open()
  t.equal(c.status, 503, 'the third page is refused')
  t.match(await c.json(), { ok: false, error: { code: 'BUSY' } })
  t.equal(c.headers.get('retry-after'), '5')
  await a.body!.cancel()
  const until = Date.now() + 5000
  let d = await open()
  while (d.status !== 200 && Date.now() < until) { await new Promise((r) => setTimeout(r, 50)); d = await open() }
  t.equal(d.status, 200, 'a page that went away frees its slot')
  await b.body!.cancel()
  await d.body!.cancel()
})
