/**
 * The daemon's socket protocol against a real daemon (in this process, real
 * Unix socket, real runtime on LMDB): the hello, pipelined requests, streams,
 * and every malformed input getting a coded error while the daemon and its
 * other connections carry on.
 */
import t from 'tap'
import { createServer } from 'node:net'
import { decode } from '../../../../protocol/codec.ts'
import { FrameDecoder } from '../../../../protocol/framing.ts'
import { connect } from '../../../../lib/daemon/client.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { env, framed, hello, inProcessDaemon, Raw } from './daemon-helpers.ts'

async function setup(t: { teardown(fn: () => unknown): void }, opts: { maxConnections?: number } = {}) {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('proto')
  const d = await inProcessDaemon(t, { home: box.home, idleTimeoutSec: 0, ...opts })
  return { box, repo, d, socket: d.paths.socket }
}

t.test('hello first, then pipelined requests answered by correlation id', async (t) => {
  const { repo, socket, d } = await setup(t)
  const raw = await Raw.open(socket)
  t.teardown(() => raw.close())
  raw.write(hello(1))
  const h = await raw.reply(1)
  t.match(h.body, { ok: true, data: { protocol: 2, pid: process.pid, home: d.paths.home } }, 'hello answers protocol, pid and home')

  // Many requests in one write; replies come back matched by corr.
  const created = await connect(d.paths.home)
  t.teardown(() => created.close())
  const issue = await created.request<{ id: string }>('issues.create', { repo, args: { title: 'pipelined' } })
  const batch: Uint8Array[] = []
  for (let i = 0; i < 50; i++) batch.push(framed(env(100 + i, i % 2 ? 'issues.show' : 'ping', { repo, args: { id: issue.id } })))
  raw.write(Buffer.concat(batch))
  for (let i = 0; i < 50; i++) {
    const r = await raw.reply(100 + i)
    t.equal((r.body as { ok: boolean }).ok, true, `request ${100 + i} answered ok`)
    if (i % 2) t.equal(((r.body as { data: { id: string } }).data).id, issue.id, 'show answers the issue')
  }
  t.equal(raw.frames.filter((f) => f.type === 'reply').length, 51, 'exactly one reply per request (plus the hello)')
})

t.test('replies carry data (the CLI\'s envelope); a protocol 1 client still gets value', async (t) => {
  const { repo, socket } = await setup(t)
  const created = await connect(socket.replace(/daemon\.sock$/, ''))
  t.teardown(() => created.close())
  const issue = await created.request<{ id: string }>('issues.create', { repo, args: { title: 'either way' } })
  for (const [protocol, field] of [[2, 'data'], [1, 'value']] as const) {
    const raw = await Raw.open(socket)
    t.teardown(() => raw.close())
    raw.write(hello(1, protocol))
    t.match((await raw.reply(1)).body, { ok: true, [field]: { protocol } }, `protocol ${protocol}: the hello answers in ${field}`)
    raw.write(framed(env(2, 'issues.show', { repo, args: { id: issue.id } })))
    raw.write(framed(env(3, 'issues.show', { repo, args: { id: 'zz' } })))
    const ok = (await raw.reply(2)).body as Record<string, unknown>
    t.same(Object.keys(ok).sort(), ['ok', field].sort(), `protocol ${protocol}: { ok, ${field} }`)
    t.match(ok[field], { id: issue.id, title: 'either way' })
    t.match((await raw.reply(3)).body, { ok: false, error: { code: 'INVALID_ARGUMENT', details: { field: 'id' } } }, 'errors are the same in both')
  }
  const raw = await Raw.open(socket)
  raw.write(hello(1, 3))
  t.match((await raw.errorFrame()).body, { code: 'SCHEMA_MISMATCH', details: { protocol: 2, supported: [1, 2] } }, 'another protocol is refused, naming what is spoken')
})

t.test('the client speaks protocol 1 to a daemon that knows only 1 (an older Cairn still running)', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const path = `${box.dir}/old.sock`
  const hellos: unknown[] = []
  // What a protocol 1 daemon did: refuse any other hello with SCHEMA_MISMATCH { protocol: 1 }, reply with value.
  const old = createServer((sock) => {
    const dec = new FrameDecoder()
    sock.on('error', () => undefined)
    sock.on('data', (chunk) => {
      for (const f of dec.push(chunk)) {
        const e = decode(f)
        if (e.type === 'hello') hellos.push((e.body as { protocol: unknown }).protocol)
        if (e.type === 'hello' && (e.body as { protocol: unknown }).protocol !== 1) {
          sock.end(framed({ v: 1, id: 0, type: 'error', from: 'daemon', to: '', body: { code: 'SCHEMA_MISMATCH', message: 'old', details: { protocol: 1 } } }))
          return
        }
        sock.write(framed({ v: 1, id: 9, type: 'reply', from: 'daemon', to: e.from, corr: e.id, body: { ok: true, value: e.type === 'hello' ? { protocol: 1, pid: 1, startedAt: 0, home: '' } : { pong: true } } }))
      }
    })
  })
  await new Promise<void>((r) => old.listen(path, r))
  t.teardown(() => old.close())
  const c = await connect({ socket: path })
  t.teardown(() => c.close())
  t.same(hellos, [2, 1], 'tried 2, then 1')
  t.match(c.hello, { protocol: 1 })
  t.same(await c.request('ping'), { pong: true }, 'and reads value replies')
})

t.test('unknown methods and bad arguments get coded replies; the connection stays open', async (t) => {
  const { repo, socket } = await setup(t)
  const raw = await Raw.open(socket)
  t.teardown(() => raw.close())
  raw.write(hello(1))
  await raw.reply(1)
  const cases: [number, string, unknown, string][] = [
    [2, 'no.such.method', {}, 'UNKNOWN_MESSAGE'],
    [3, '__proto__', {}, 'UNKNOWN_MESSAGE'],
    [4, 'issues.show', { repo, args: { id: 42 } }, 'INVALID_ARGUMENT'],
    [5, 'issues.show', { repo: 7, args: { id: 'abcd' } }, 'INVALID_ARGUMENT'],
    [6, 'issues.show', { repo, args: [1, 2] }, 'INVALID_ARGUMENT'],
    [7, 'issues.show', { repo: '/nonexistent/dir', args: { id: 'abcd' } }, 'NOT_FOUND'],
    [8, 'issues.create', { repo, args: { title: '' } }, 'INVALID_ARGUMENT'],
    [9, 'locks.renew', { repo, args: { resource: 'path:x', token: -1 } }, 'INVALID_ARGUMENT'],
    [10, 'issues.show', 'not a map', 'INVALID_ARGUMENT'],
    [12, 'issues.list', { repo, args: { state: 'maybe' } }, 'INVALID_ARGUMENT'],
    [13, 'issues.ready', { repo, args: { label: { nested: true } } }, 'INVALID_ARGUMENT'],
    [14, 'issues.history', { repo, args: { id: ['abcd'] } }, 'INVALID_ARGUMENT'],
    [15, 'issues.history', { repo, args: { id: 'ffff0000' } }, 'NOT_FOUND'],
    [16, 'events.read', { repo, args: { limit: 5000 } }, 'INVALID_ARGUMENT'],
  ]
  for (const [id, type, body] of cases) raw.write(framed(env(id, type, body)))
  for (const [id, type, body, code] of cases) {
    const r = await raw.reply(id)
    t.match(r.body, { ok: false, error: { code } }, `${type} ${JSON.stringify(body).slice(0, 60)} → ${code}`)
  }
  raw.write(framed(env(11, 'ping')))
  t.match((await raw.reply(11)).body, { ok: true }, 'still serving after the bad requests')
  t.notOk(raw.closed)
})

t.test('protocol mismatch, no hello, garbage, oversized and truncated frames: one coded error, that connection closed', async (t) => {
  const { socket } = await setup(t)
  const header = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }
  const cases: [string, (r: Raw) => void, string][] = [
    ['hello with another protocol', (r) => r.write(hello(1, 99)), 'SCHEMA_MISMATCH'],
    ['envelope of another version', (r) => r.write(framed({ ...env(1, 'hello', { protocol: 1 }), v: 2 })), 'SCHEMA_MISMATCH'],
    ['a request before hello', (r) => r.write(framed(env(1, 'ping'))), 'SCHEMA_MISMATCH'],
    ['garbage msgpack', (r) => r.write(Buffer.concat([header(3), Buffer.from([0xc1, 0xc1, 0xc1])])), 'INVALID_FORMAT'],
    ['msgpack that is not an envelope', (r) => r.write(framed([1, 2, 3])), 'INVALID_FORMAT'],
    ['an oversized length', (r) => r.write(header(8 * 1024 * 1024 + 1)), 'INVALID_FORMAT'],
    ['a frame cut short by end of stream', (r) => { r.write(Buffer.concat([header(100), Buffer.alloc(10)])); r.sock.end() }, 'INVALID_FORMAT'],
    ['garbage after a good hello', (r) => { r.write(hello(1)); r.write(Buffer.concat([header(2), Buffer.from([0xff, 0xc1])])) }, 'INVALID_FORMAT'],
  ]
  const bystander = await connect(socket.replace(/daemon\.sock$/, ''))
  t.teardown(() => bystander.close())
  for (const [name, act, code] of cases) {
    const raw = await Raw.open(socket)
    act(raw)
    const err = await raw.errorFrame()
    t.equal((err.body as { code: string }).code, code, `${name} → error frame ${code}`)
    t.equal(err.corr, undefined, 'connection-level errors carry no corr')
    await raw.whenClosed()
    t.pass(`${name}: the daemon closed that connection`)
    t.match(await bystander.request('ping'), { pong: true }, `${name}: another connection is unaffected`)
  }
})

t.test('past the connection limit a new connection is answered BUSY, not dropped', async (t) => {
  const { socket, d } = await setup(t, { maxConnections: 2 })
  const a = await connect(d.paths.home)
  const b = await connect(d.paths.home)
  t.teardown(() => { a.close(); b.close() })
  const raw = await Raw.open(socket)
  const err = await raw.errorFrame()
  t.match(err.body, { code: 'BUSY' }, 'the third connection gets BUSY')
  await raw.whenClosed()
  await t.rejects(connect(d.paths.home), { code: 'BUSY' }, 'the client surfaces BUSY as a coded error')
  a.close()
  await a.closed
  // Bounded retry: the daemon notices the close asynchronously.
  let again: Awaited<ReturnType<typeof connect>> | null = null
  for (let i = 0; i < 100 && !again; i++) {
    again = await connect(d.paths.home).catch(() => null)
    if (!again) await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(again, 'a slot freed by a close is served again')
  again?.close()
})

t.test('events.follow streams items then one end reply; cancel ends it early', async (t) => {
  const { repo, d } = await setup(t)
  const c = await connect(d.paths.home)
  t.teardown(() => c.close())
  for (let i = 0; i < 3; i++) await c.request('issues.create', { repo, args: { title: `s${i}` } })
  const items: { seq: number }[] = []
  const end = await c.request('events.follow', { repo, args: { fromSeq: 2, limit: 2 } }, { onItem: (e) => items.push(e as { seq: number }) })
  t.same(items.map((e) => e.seq), [2, 3], 'items from fromSeq, in order')
  t.same(end, { count: 2, nextSeq: 4 }, 'the end frame reports count and the resume cursor')

  const live: number[] = []
  const stop = new AbortController()
  const following = c.request<{ count: number }>('events.follow', { repo, args: { fromSeq: 1 } }, {
    signal: stop.signal,
    onItem: (e) => { live.push((e as { seq: number }).seq); if (live.length === 4) stop.abort() },
  })
  await c.request('issues.create', { repo, args: { title: 'live one' } })
  const ended = await following
  t.same(live, [1, 2, 3, 4], 'replays then follows the live write')
  t.equal(ended.count, 4, 'cancel ends the stream with its end reply')
  t.match(await c.request('ping'), { pong: true }, 'the connection is usable after the stream')
})

t.test('a shown issue answered again (its kept encoding) is always the current one', async (t) => {
  const { repo, d } = await setup(t)
  const a = await connect(d.paths.home)
  const b = await connect(d.paths.home)
  t.teardown(() => { a.close(); b.close() })
  const { id } = await a.request<{ id: string }>('issues.create', { repo, args: { title: 'shown' } })
  const first = await a.request<{ title: string; comments: unknown[] }>('issues.show', { repo, args: { id } })
  t.same(await b.request('issues.show', { repo, args: { id } }), first, 'the same answer on another connection')
  for (let i = 1; i <= 20; i++) {
    await (i % 2 ? a : b).request('issues.comment', { repo, args: { id, body: `c${i}` } })
    const shown = await (i % 2 ? b : a).request<{ comments: { body: string }[] }>('issues.show', { repo, args: { id } })
    t.equal(shown.comments.length, i, `after comment ${i}`)
    t.equal(shown.comments[i - 1]?.body, `c${i}`)
  }
  await a.request('issues.update', { repo, args: { id, title: 'renamed' } })
  t.equal((await b.request<{ title: string }>('issues.show', { repo, args: { id } })).title, 'renamed')
})

t.test('a client timeout or an early abort cancels the request; the connection stays usable', async (t) => {
  const { repo, d } = await setup(t)
  const c = await connect(d.paths.home)
  t.teardown(() => c.close())
  await c.request('issues.create', { repo, args: { title: 'one' } })
  // A follow past the end waits for new events: it can only end by the timeout.
  const timedOut = await c.request('events.follow', { repo, args: { fromSeq: 2 } }, { timeoutMs: 150 }).then(() => null, (e: { code?: string }) => e.code)
  t.equal(timedOut, 'TIMEOUT', 'the client gives up after timeoutMs')
  const aborted = new AbortController()
  aborted.abort()
  const early = await c.request<{ count: number }>('events.follow', { repo, args: { fromSeq: 2 } }, { signal: aborted.signal, timeoutMs: 10_000 })
  t.equal(early.count, 0, 'an already aborted signal cancels the stream at once')
  t.match(await c.request('ping', {}, { timeoutMs: 5000 }), { pong: true }, 'the connection is usable afterwards')
  let inflight = -1
  for (let i = 0; i < 100 && inflight !== 1; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20))
    inflight = (await c.request<{ inflight: number }>('daemon.status')).inflight
  }
  t.equal(inflight, 1, 'the cancelled follows ended on the daemon: only this status call is in flight')
})

t.test('daemon.status answers by round trip with live numbers', async (t) => {
  const { d } = await setup(t)
  const c = await connect(d.paths.home)
  t.teardown(() => c.close())
  const s = await c.request<Record<string, unknown>>('daemon.status')
  t.match(s, { pid: process.pid, protocol: 2, home: d.paths.home, socket: d.paths.socket, connections: 1, idleTimeoutSec: 0 })
  t.ok((s.requests as number) >= 1)
})

t.test('leases over the socket belong to their holders: another agent\'s release or renew is LEASE_NOT_HELD, the lease unchanged', async (t) => {
  const { repo, d } = await setup(t)
  const c = await connect(d.paths.home)
  t.teardown(() => c.close())
  const lease = await c.request<{ resource: string; token: number; expiresAt: number; leaseId?: string }>('locks.acquire', { repo, agent: 'alice', args: { resource: 'path:src/api.ts', ttlMs: 60_000 } })
  const refused = (p: Promise<unknown>) => p.then(() => null, (err: { code?: string }) => err.code)
  t.equal(await refused(c.request('locks.release', { repo, agent: 'bob', args: { resource: 'path:src/api.ts', token: lease.token } })), 'LEASE_NOT_HELD', 'bob releasing alice\'s lease by its token')
  t.equal(await refused(c.request('locks.renew', { repo, agent: 'mallory', args: { resource: 'path:src/api.ts', token: lease.token, ttlMs: 600_000 } })), 'LEASE_NOT_HELD', 'mallory extending it')
  t.equal(await refused(c.request('locks.release', { repo, agent: 'bob', args: { resource: 'path:src/api.ts' } })), 'LEASE_NOT_HELD', 'or releasing it by resource alone')
  const status = await c.request<{ lease: { token: number; expiresAt: number; holder: { agent?: string } } }>('locks.status', { repo, agent: 'carol', args: { resource: 'path:src/api.ts' } })
  t.match(status.lease, { token: lease.token, expiresAt: lease.expiresAt, holder: { agent: 'alice' } }, 'the lease is unchanged, still alice\'s')
  const released = await c.request<{ released: boolean }>('locks.release', { repo, agent: 'alice', args: { resource: 'path:src/api.ts' } })
  t.equal(released.released, true, 'alice releases it by resource alone')
})
