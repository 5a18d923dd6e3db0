/**
 * Protocol fuzz against a live daemon process: over 100k random, mutated
 * and malformed frames, pipelined over a few connections at once. Every
 * frame that decodes to an envelope must get exactly one reply; every frame
 * that does not (garbage, mutation, oversize, truncation) must get one coded
 * error frame and a close. Afterwards the daemon still answers correctly and
 * its memory stayed bounded. Seeded: a failure replays from CAIRN_FUZZ_SEED.
 */
import t from 'tap'
import { decode } from '../../protocol/codec.ts'
import { connect } from '../../lib/daemon/client.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { daemonProcess, env, framed, hello, Raw, rssOf, within } from '../integration/lib/daemon/daemon-helpers.ts'

const TOTAL_FRAMES = Math.max(100_000, Number(process.env.CAIRN_FUZZ_FRAMES ?? 0))
const PARALLEL = 4
const SEED = Number(process.env.CAIRN_FUZZ_SEED ?? 0x5eed)

type Rand = () => number
const int = (r: Rand, n: number) => Math.floor(r() * n)
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!

function randomValue(r: Rand, depth = 0): unknown {
  switch (int(r, depth > 2 ? 5 : 8)) {
    case 0: return int(r, 2 ** 31) - 2 ** 30
    case 1: return r() < 0.5
    case 2: return null
    case 3: return Array.from({ length: int(r, 12) }, () => String.fromCharCode(32 + int(r, 90))).join('')
    case 4: return Uint8Array.from({ length: int(r, 16) }, () => int(r, 256))
    case 5: return Array.from({ length: int(r, 4) }, () => randomValue(r, depth + 1))
    default: return Object.fromEntries(Array.from({ length: int(r, 4) }, () => [pick(r, ['repo', 'args', 'id', 'agent', 'x', 'title', 'fromSeq']), randomValue(r, depth + 1)]))
  }
}

const TYPES = ['ping', 'no.such.method', 'issues.show', 'issues.list', 'events.stats', 'locks.list', 'hello', 'stream.cancel', 'reply', 'constructor', 'x'] as const

/** A frame's payload and whether the daemon must answer it (it decodes to an envelope) or drop the connection. */
function candidate(r: Rand, id: number, repo: string): Uint8Array {
  const roll = r()
  if (roll < 0.45) return framed(env(id, pick(r, TYPES), randomValue(r)))
  if (roll < 0.6) return framed(env(id, 'issues.show', { repo, args: { id: Array.from({ length: 4 + int(r, 28) }, () => '0123456789abcdef'[int(r, 16)]).join('') } }))
  if (roll < 0.65) return framed(env(id, 'issues.list', { repo, args: { state: pick(r, ['open', 'closed', 'all', 'bogus', 7]) } }))
  // Mutations of a well-formed frame: flipped, inserted or deleted payload bytes (the length header kept consistent).
  const base = Buffer.from(framed(env(id, pick(r, TYPES), { repo, args: { id: 'abcd' } })).subarray(4))
  const bytes = [...base]
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const at = int(r, bytes.length)
    const op = int(r, 3)
    if (op === 0) bytes[at] = int(r, 256)
    else if (op === 1) bytes.splice(at, 0, int(r, 256))
    else if (bytes.length > 1) bytes.splice(at, 1)
  }
  const payload = Buffer.from(bytes)
  const head = Buffer.alloc(4)
  head.writeUInt32BE(payload.length)
  return Buffer.concat([head, payload])
}

function decodes(frame: Uint8Array): { id: number } | null {
  try {
    return decode(frame.subarray(4))
  } catch {
    return null
  }
}

/** A frame that must close the connection, and how. */
function closer(r: Rand): { bytes: Uint8Array; end: boolean } {
  const head = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }
  switch (int(r, 3)) {
    case 0: {
      const junk = Buffer.from(Array.from({ length: 1 + int(r, 64) }, () => int(r, 256)))
      junk[0] = 0xc1 // never valid msgpack: the frame cannot decode
      return { bytes: Buffer.concat([head(junk.length), junk]), end: false }
    }
    case 1: return { bytes: head(8 * 1024 * 1024 + 1 + int(r, 2 ** 20)), end: false }
    default: return { bytes: Buffer.concat([head(64 + int(r, 1024)), Buffer.alloc(int(r, 60))]), end: true }
  }
}

interface Outcome { sent: number; expected: Map<number, number>; closing: boolean }

async function fuzzConnection(socket: string, r: Rand, repo: string, frames: number): Promise<Outcome> {
  const raw = await Raw.open(socket)
  const chunks: Uint8Array[] = [hello(0)]
  const expected = new Map<number, number>([[0, 1]])
  let sent = 0
  let id = 1
  while (sent < frames) {
    const f = candidate(r, id++, repo)
    const env = decodes(f)
    if (env === null) continue // undecodable frames only ever go last (below)
    chunks.push(f)
    expected.set(env.id, (expected.get(env.id) ?? 0) + 1)
    sent++
  }
  const closing = r() < 0.85
  let end = false
  if (closing) {
    const c = closer(r)
    chunks.push(c.bytes)
    end = c.end
    sent++
  }
  raw.write(Buffer.concat(chunks))
  if (end) raw.sock.end()
  const want = [...expected.values()].reduce((a, b) => a + b, 0)
  await raw.until(`${want} replies`, () => (raw.frames.filter((f) => f.type === 'reply').length >= want ? true : undefined), 60_000)
  if (closing) {
    const err = await raw.errorFrame()
    if ((err.body as { code?: string }).code !== 'INVALID_FORMAT') throw new Error(`expected INVALID_FORMAT, got ${JSON.stringify(err.body)}`)
    await raw.whenClosed()
  }
  const got = new Map<number, number>()
  for (const f of raw.frames) if (f.type === 'reply') got.set(f.corr!, (got.get(f.corr!) ?? 0) + 1)
  for (const [k, n] of expected) if (got.get(k) !== n) throw new Error(`id ${k}: expected ${n} replies, got ${got.get(k) ?? 0}`)
  if (got.size !== expected.size) throw new Error('replies to ids never sent')
  raw.close()
  return { sent, expected, closing }
}

t.test(`${TOTAL_FRAMES}+ random and mutated frames against a live daemon`, async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('fuzz')
  const d = daemonProcess(t, box.home, ['--idle-timeout', '0'])
  const socket = (await d.ready).data!.socket
  const c = await connect(box.home)
  t.teardown(() => c.close())
  const issue = await c.request<{ id: string }>('issues.create', { repo, args: { title: 'survivor' } })
  for (let i = 0; i < 200; i++) await c.request('issues.show', { repo, args: { id: issue.id } })
  const rssBefore = await rssOf(d.pid)

  const r = mulberry32(SEED)
  let sent = 0
  let connections = 0
  let closed = 0
  const lane = async (laneSeed: number): Promise<void> => {
    const lr = mulberry32(laneSeed)
    while (sent < TOTAL_FRAMES && connections < 10_000) {
      connections++
      const o = await fuzzConnection(socket, lr, repo, 50 + int(lr, 400))
      sent += o.sent
      if (o.closing) closed++
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, () => lane(int(r, 2 ** 31))))
  t.ok(sent >= TOTAL_FRAMES, `sent ${sent} frames over ${connections} connections (seed ${SEED})`)
  t.ok(closed > 100, `${closed} connections were closed with a coded error`)

  const status = await within(c.request<{ connections: number; rssBytes: number }>('daemon.status'), 10_000, null)
  t.ok(status, 'the daemon still answers')
  t.equal(status?.connections, 1, 'every fuzzed connection was released')
  t.equal((await c.request<{ title: string }>('issues.show', { repo, args: { id: issue.id } })).title, 'survivor', 'and serves real requests correctly')
  const rssAfter = await rssOf(d.pid)
  t.ok(rssAfter - rssBefore < 256 * 1024 * 1024, `memory stayed bounded: RSS ${Math.round(rssBefore / 1048576)} → ${Math.round(rssAfter / 1048576)} MiB`)
})
