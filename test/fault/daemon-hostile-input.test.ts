/**
 * A hostile client against a live daemon process: the hellos that used to
 * kill it (a BigInt protocol, an array nested 3,000 deep, a 4.3M-character
 * string echoed into the error), the same shapes inside requests, a seeded
 * structure-aware fuzz of every operation's arguments, and a flood of
 * pipelined requests whose replies are never read. Throughout, a
 * well-behaved client is served; afterwards the daemon answers correctly and
 * its memory stayed bounded. A failure replays from CAIRN_FUZZ_SEED.
 */
import t from 'tap'
import { Packr } from 'msgpackr'
import { connect } from '../../lib/daemon/client.ts'
import { OPERATION_SPECS } from '../../protocol/operations/index.ts'
import { frame } from '../../protocol/framing.ts'
import { isErrorCode } from '../../protocol/errors.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { daemonProcess, env, framed, hello, Raw, rssOf, within } from '../integration/lib/daemon/daemon-helpers.ts'

const SEED = Number(process.env.CAIRN_FUZZ_SEED ?? 0x23f00d)
const FUZZ_REQUESTS = 3000
// Maps are packed from Map instances so keys like `constructor` and `__proto__` go out as data.
const packr = new Packr({ useRecords: false, variableMapSize: true })

/** A frame of `e` with the string 'HOLE' replaced by raw msgpack bytes (values msgpackr will not pack, e.g. 3,000 nested arrays). */
function framedWithHole(e: object, hole: Uint8Array): Uint8Array {
  const bytes = Buffer.from(packr.pack(e))
  const marker = Buffer.from(packr.pack('HOLE'))
  const at = bytes.indexOf(marker)
  return frame(Buffer.concat([bytes.subarray(0, at), hole, bytes.subarray(at + marker.length)]))
}
const nested = (depth: number): Uint8Array => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0x01])])
const raw = (id: number, type: string, body: unknown) => ({ v: 1, id, type, from: 'hostile', to: 'daemon', body })

type Rand = () => number
const int = (r: Rand, n: number) => Math.floor(r() * n)
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!

/** A value for one argument: mostly plausible, often wrong in type, size, range or shape. */
function fuzzValue(r: Rand, field: string, issueId: string): unknown {
  switch (int(r, 14)) {
    case 0: return issueId
    case 1: return issueId.slice(0, 4 + int(r, 8))
    case 2: return 'x'.repeat(pick(r, [0, 1, 129, 1025, 5000, 1_100_000]))
    case 3: return `\u001b]0;owned\u0007\u001b[2J${field}\u0000\u202e`
    case 4: return pick(r, [-1, 0, 1, 1.5, 2 ** 53, -(2 ** 31), 1e300, Number.NaN, Infinity])
    case 5: return pick(r, [2n ** 63n - 1n, -(2n ** 63n)])
    case 6: return r() < 0.5
    case 7: return null
    case 8: return Array.from({ length: int(r, 80) }, () => pick(r, ['bug', issueId, 7, '', 'a'.repeat(200)]))
    case 9: return new Map<string, unknown>([[pick(r, ['__proto__', 'constructor', 'toString', field]), pick(r, [1, 'x', new Map([['polluted', true]])])]])
    case 10: return Uint8Array.from({ length: int(r, 64) }, () => int(r, 256))
    case 11: return pick(r, ['open', 'closed', 'all', 'blocks', 'relates', 'manual', 'auto', 'lease:' + issueId, 'file:src/a.ts'])
    case 12: return pick(r, [0, 50, 1000, 60_000])
    default: return `${field}-${int(r, 1000)}`
  }
}

// Fields that would reach the network or wait: given fixed local values instead.
const FIXED: Record<string, unknown> = { remote: undefined, waitMs: 0 }
// Methods that would stop the daemon or reach a remote; streams (which may follow forever) are skipped by their spec.
const SKIP = new Set(['daemon.stop', 'sync'])

function fuzzArgs(r: Rand, fields: string[], issueId: string): unknown {
  const roll = r()
  if (roll < 0.04) return pick(r, [null, 7, 'args', [1, 2], new Uint8Array(3)])
  const args = new Map<string, unknown>()
  for (const f of fields) {
    if (r() < 0.35) continue
    if (Object.hasOwn(FIXED, f)) { if (FIXED[f] !== undefined) args.set(f, FIXED[f]) } else args.set(f, fuzzValue(r, f, issueId))
  }
  if (r() < 0.1) args.set(pick(r, ['extra', '__proto__', 'constructor']), fuzzValue(r, 'extra', issueId))
  return args
}

t.test('hostile frames and arguments against a live daemon', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('hostile')
  const d = daemonProcess(t, box.home, ['--idle-timeout', '0'])
  const socket = (await d.ready).data!.socket
  const good = await connect(box.home)
  t.teardown(() => good.close())
  const issue = await good.request<{ id: string }>('issues.create', { repo, args: { title: 'survivor' } })
  const alive = (): boolean => { try { process.kill(d.pid, 0); return true } catch { return false } }

  // A well-behaved client keeps asking throughout; every answer must be right.
  let goodAnswers = 0
  let stopGood = false
  const goodLoop = (async () => {
    for (let i = 0; i < 100_000 && !stopGood; i++) {
      const shown = await good.request<{ title: string }>('issues.show', { repo, args: { id: issue.id } })
      if (shown.title !== 'survivor') throw new Error(`wrong answer ${JSON.stringify(shown)}`)
      goodAnswers++
      await new Promise((r) => setTimeout(r, 20))
    }
  })()

  await t.test('the hellos that killed the daemon get a coded error frame and a close', async (t) => {
    const cases: [string, Uint8Array, string][] = [
      ['a BigInt protocol', frame(packr.pack(raw(1, 'hello', { protocol: 2n ** 63n - 1n }))), 'SCHEMA_MISMATCH'],
      ['an array nested 3,000 deep', framedWithHole(raw(1, 'hello', { protocol: 'HOLE' }), nested(3000)), 'INVALID_FORMAT'],
      ['an array nested 1,000,000 deep', framedWithHole(raw(1, 'hello', { protocol: 'HOLE' }), nested(1_000_000)), 'INVALID_FORMAT'],
      ['a 4.3M-character protocol', framed(raw(1, 'hello', { protocol: 'p'.repeat(4_300_000) })), 'SCHEMA_MISMATCH'],
      ['a 4.3M-character type', framed(raw(1, 'h'.repeat(4_300_000), { protocol: 2 })), 'INVALID_FORMAT'],
      ['a map of 100,000 keys as protocol', frame(packr.pack(raw(1, 'hello', { protocol: new Map(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])) }))), 'SCHEMA_MISMATCH'],
    ]
    for (const [name, bytes, code] of cases) {
      const c = await Raw.open(socket)
      c.write(bytes)
      const err = await c.errorFrame()
      t.equal((err.body as { code: string }).code, code, `${name}: ${code}`)
      t.ok(Buffer.byteLength((err.body as { message: string }).message) < 4096, `${name}: the echo is bounded`)
      await c.whenClosed()
      t.ok(alive(), `${name}: the daemon lives`)
    }
  })

  await t.test('the same shapes inside requests are confined to their connection', async (t) => {
    const cases: [string, Uint8Array, string][] = [
      ['nested args', framedWithHole(raw(5, 'issues.create', { repo, args: { title: 'HOLE' } }), nested(3000)), 'INVALID_FORMAT'],
      ['a BigInt id', frame(packr.pack(raw(5, 'issues.show', { repo, args: { id: 2n ** 63n - 1n } }))), 'INVALID_ARGUMENT'],
      ['a 7M-character title', framed(raw(5, 'issues.create', { repo, args: { title: 't'.repeat(7_000_000) } })), 'INVALID_ARGUMENT'],
      ['a 7M-character repo', framed(raw(5, 'issues.list', { repo: 'r'.repeat(7_000_000) })), 'INVALID_ARGUMENT'],
      ['a 7M-character from', framed({ ...raw(5, 'issues.list', { repo }), from: 'f'.repeat(7_000_000) }), 'INVALID_FORMAT'],
    ]
    for (const [name, bytes, code] of cases) {
      const c = await Raw.open(socket)
      c.write(hello(0))
      c.write(bytes)
      const got = await c.until(name, () => c.frames.find((f) => f.type === 'error' || (f.type === 'reply' && f.corr === 5)))
      const error = got.type === 'error' ? (got.body as { code: string; message: string }) : (got.body as { error: { code: string; message: string } }).error
      t.equal(error?.code, code, `${name}: ${code}`)
      t.ok(Buffer.byteLength(error?.message ?? '') < 4096, `${name}: the echo is bounded`)
      c.close()
      t.ok(alive(), `${name}: the daemon lives`)
    }
  })

  await t.test(`a seeded fuzz of every operation's arguments (${FUZZ_REQUESTS} requests, seed ${SEED})`, async (t) => {
    const r = mulberry32(SEED)
    const methods = Object.entries(OPERATION_SPECS).filter(([m, spec]) => !SKIP.has(m) && !(spec as { stream?: boolean }).stream).map(([m, spec]) => [m, Object.keys(spec.args.shape)] as const)
    t.ok(methods.length >= 25, `${methods.length} operations fuzzed`)
    const internal: string[] = []
    let replies = 0
    let served = 0
    for (let sent = 0; sent < FUZZ_REQUESTS;) {
      const c = await Raw.open(socket)
      const batch = 20 + int(r, 80)
      const chunks: Uint8Array[] = [hello(0)]
      for (let id = 1; id <= batch; id++) {
        const [method, fields] = pick(r, methods)
        chunks.push(frame(packr.pack(env(id, method, { repo, args: fuzzArgs(r, fields, issue.id) }))))
      }
      c.write(Buffer.concat(chunks))
      await c.until(`${batch} replies`, () => (c.frames.filter((f) => f.type === 'reply' && f.corr !== 0).length >= batch ? true : undefined), 60_000)
      for (const f of c.frames) {
        if (f.type !== 'reply' || f.corr === 0) continue
        replies++
        if ((f.body as { ok: boolean }).ok) served++
        const body = f.body as { ok: boolean; error?: { code: string; message: string } }
        if (!body.ok && (!isErrorCode(body.error?.code) || body.error?.code === 'INTERNAL')) internal.push(`${body.error?.code}: ${body.error?.message}`)
      }
      c.close()
      sent += batch
      if (!alive()) break
    }
    t.ok(alive(), 'the daemon lives')
    t.ok(replies >= FUZZ_REQUESTS, `every request answered (${replies})`)
    t.ok(served > FUZZ_REQUESTS / 20, `${served} fuzzed requests were valid and served, so the fuzz reached the operations`)
    t.same(internal, [], 'every refusal carries a stable code, none INTERNAL')
  })

  await t.test('a client that never reads its replies is paused, not buffered', async (t) => {
    const before = await rssOf(d.pid)
    const flood = await Raw.open(socket)
    flood.sock.pause()
    flood.write(hello(0))
    const one = (id: number) => framed(env(id, 'issues.list', { repo, args: { state: 'all' } }))
    // 200,000 pipelined requests (~20 MB); the daemon must stop reading long before the end.
    for (let i = 1; i <= 200_000; i += 5000) flood.write(Buffer.concat(Array.from({ length: 5000 }, (_, k) => one(i + k))))
    let peak = before
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 250))
      peak = Math.max(peak, await rssOf(d.pid))
    }
    const status = await within(good.request<{ requests: number }>('daemon.status'), 10_000, null)
    t.ok(status, 'another client is served while the flood waits')
    t.ok(flood.sock.writableLength > 1024 * 1024, `the daemon stopped reading the flood (${Math.round(flood.sock.writableLength / 1048576)} MiB unsent)`)
    t.ok(peak - before < 96 * 1024 * 1024, `RSS ${Math.round(before / 1048576)} → peak ${Math.round(peak / 1048576)} MiB under the flood`)
    flood.close()
  })

  stopGood = true
  await goodLoop
  t.ok(goodAnswers > 10, `the well-behaved client got ${goodAnswers} right answers throughout`)
  t.equal((await good.request<{ title: string }>('issues.show', { repo, args: { id: issue.id } })).title, 'survivor', 'and the daemon still serves correctly')
})
