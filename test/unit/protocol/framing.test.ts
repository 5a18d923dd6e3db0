import t from 'tap'
import { frame, FrameDecoder, MAX_FRAME_BYTES } from '../../../protocol/framing.ts'
import { decode, encode } from '../../../protocol/codec.ts'
import { envelope } from '../../../protocol/envelope.ts'
import { throwsCoded } from '../../helpers/coded-error.ts'

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))


// Payloads of assorted sizes, including empty and ones with bytes that look like headers.
const payloads: Uint8Array[] = [
  new Uint8Array([1, 2, 3]),
  new Uint8Array(0),
  encode(envelope(1, 'ping', 'a', 'b', { s: 'hello' })),
  new Uint8Array([0, 0, 0, 5, 0xff]),
  Uint8Array.from({ length: 70 }, (_, i) => (i * 37) & 0xff),
  new Uint8Array(0),
  new Uint8Array([0xff, 0xff, 0xff, 0xff]),
]
const stream = concat(payloads.map(frame))
const expected = payloads.map(hex)

t.test('frame() writes a u32 big-endian length header', async (t) => {
  const f = frame(new Uint8Array([9, 8, 7]))
  t.same([...f], [0, 0, 0, 3, 9, 8, 7])
  const big = frame(new Uint8Array(0x010203))
  t.same([...big.subarray(0, 4)], [0, 0x01, 0x02, 0x03], 'length is big-endian')
  t.equal(big.byteLength, 4 + 0x010203)
  // A payload that is a view into a larger buffer frames only the view.
  const backing = new Uint8Array([0xaa, 1, 2, 0xbb])
  t.same([...frame(backing.subarray(1, 3))], [0, 0, 0, 2, 1, 2], 'a subarray payload is framed by its own bounds')
})

t.test('zero-length frames', async (t) => {
  const f = frame(new Uint8Array(0))
  t.same([...f], [0, 0, 0, 0], 'an empty payload is a bare header')
  const d = new FrameDecoder()
  const out = d.push(f)
  t.equal(out.length, 1, 'the decoder yields one frame')
  t.equal(out[0]!.byteLength, 0, 'and it is empty')
  t.equal(d.buffered, 0, 'nothing left buffered')
  const many = d.push(concat([f, f, f]))
  t.equal(many.length, 3, 'three empty frames in one chunk give three frames')
  t.ok(many.every((x) => x.byteLength === 0))
  t.same(d.push(new Uint8Array(0)), [], 'an empty chunk yields nothing')
})

t.test('many frames in one chunk', async (t) => {
  const d = new FrameDecoder()
  const out = d.push(stream)
  t.same(out.map(hex), expected, 'all frames, in order')
  t.equal(d.buffered, 0)
  const env = envelope(5, 'issues.list', 'cli', 'repo-worker:r', { limit: 10 })
  const frames = new FrameDecoder().push(concat([frame(encode(env)), frame(encode(env))]))
  t.same(frames.map((f) => decode(f)), [env, env], 'decoded frames are envelopes again')
})

t.test('a stream split at every byte boundary decodes the same', async (t) => {
  let mismatches = 0
  for (let i = 0; i <= stream.byteLength; i++) {
    const d = new FrameDecoder()
    const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))]
    if (JSON.stringify(got.map(hex)) !== JSON.stringify(expected) || d.buffered !== 0) mismatches++
  }
  t.equal(mismatches, 0, `two-way splits at all ${stream.byteLength + 1} positions`)

  mismatches = 0
  let combos = 0
  for (let i = 0; i <= stream.byteLength; i++) {
    for (let j = i; j <= stream.byteLength; j++) {
      const d = new FrameDecoder()
      const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i, j)), ...d.push(stream.subarray(j))]
      combos++
      if (JSON.stringify(got.map(hex)) !== JSON.stringify(expected) || d.buffered !== 0) mismatches++
    }
  }
  t.equal(mismatches, 0, `three-way splits (${combos} combinations)`)

  const d = new FrameDecoder()
  const got: Uint8Array[] = []
  for (let i = 0; i < stream.byteLength; i++) {
    got.push(...d.push(stream.subarray(i, i + 1)))
    const whole = payloads.reduce<number>((n, p, k) => (frameEnd(k) <= i + 1 ? n + 1 : n), 0)
    if (got.length !== whole) {
      t.fail(`after ${i + 1} bytes: ${got.length} frames, expected ${whole}`)
      break
    }
  }
  t.same(got.map(hex), expected, 'one byte at a time')
  t.equal(d.buffered, 0)
})

/** Offset in `stream` just past frame `k`. */
function frameEnd(k: number): number {
  let end = 0
  for (let i = 0; i <= k; i++) end += 4 + payloads[i]!.byteLength
  return end
}

t.test('buffered reports the bytes held for an incomplete frame', async (t) => {
  const d = new FrameDecoder()
  const f = frame(new Uint8Array(10))
  t.same(d.push(f.subarray(0, 2)), [])
  t.equal(d.buffered, 2, 'partial header')
  t.same(d.push(f.subarray(2, 9)), [])
  t.equal(d.buffered, 9, 'header and part of the body')
  t.equal(d.push(f.subarray(9)).length, 1)
  t.equal(d.buffered, 0)
})

t.test('returned frames are copies, not views of the caller\'s chunk', async (t) => {
  const chunk = concat([frame(new Uint8Array([1, 2, 3])), frame(new Uint8Array([4, 5]))])
  const [a, b] = new FrameDecoder().push(chunk)
  chunk.fill(0)
  t.same([...a!], [1, 2, 3], 'first frame survives the caller reusing its chunk')
  t.same([...b!], [4, 5], 'second frame too')
})

t.test('chunks that are views into larger buffers', async (t) => {
  const backing = new Uint8Array(stream.byteLength + 20).fill(0xee)
  backing.set(stream, 10)
  const view = backing.subarray(10, 10 + stream.byteLength)
  const d = new FrameDecoder()
  const mid = 7
  const got = [...d.push(view.subarray(0, mid)), ...d.push(view.subarray(mid))]
  t.same(got.map(hex), expected, 'offsets of the chunk views are respected')
})

t.test('an oversize length header fails as soon as 4 header bytes arrive', async (t) => {
  const header = new Uint8Array(4)
  new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1, false)
  const d = new FrameDecoder()
  t.same(d.push(header.subarray(0, 1)), [], '1 header byte: waits')
  t.same(d.push(header.subarray(1, 2)), [], '2 header bytes: waits')
  t.same(d.push(header.subarray(2, 3)), [], '3 header bytes: waits')
  const err = throwsCoded(t, () => d.push(header.subarray(3, 4)), 'INVALID_FORMAT', null, 'the 4th header byte throws INVALID_FORMAT, without any body')
  t.same(err?.details, { length: MAX_FRAME_BYTES + 1 }, 'details carry the claimed length')

  throwsCoded(t, () => d.push(new Uint8Array(0)), 'INVALID_FORMAT', null, 'the decoder stays failed (empty chunk)')
  throwsCoded(t, () => d.push(frame(new Uint8Array([1]))), 'INVALID_FORMAT', null, 'the decoder stays failed (a valid frame)')

  // After a good frame in the same chunk: the good one is returned, the next push throws.
  const d2 = new FrameDecoder()
  t.same(d2.push(concat([frame(new Uint8Array([1])), new Uint8Array([0xff, 0xff, 0xff, 0xff])])), [new Uint8Array([1])],
    'the frame before 0xffffffff is delivered')
  throwsCoded(t, () => d2.push(new Uint8Array(0)), 'INVALID_FORMAT', null, 'then the error')
  throwsCoded(t, () => d2.push(new Uint8Array(0)), 'INVALID_FORMAT', null, 'and it stays failed')

  // A header of exactly MAX_FRAME_BYTES is allowed: the decoder waits for the body.
  const ok = new Uint8Array(4)
  new DataView(ok.buffer).setUint32(0, MAX_FRAME_BYTES, false)
  const d3 = new FrameDecoder()
  t.same(d3.push(ok), [], 'MAX_FRAME_BYTES exactly is accepted')
  t.equal(d3.buffered, 4, 'and waits for the body')
})

t.test('frame() rejects an oversize payload with INVALID_ARGUMENT', async (t) => {
  throwsCoded(t, () => frame(new Uint8Array(MAX_FRAME_BYTES + 1)), 'INVALID_ARGUMENT', null, 'MAX_FRAME_BYTES + 1 is refused')
  const max = new Uint8Array(MAX_FRAME_BYTES)
  max[MAX_FRAME_BYTES - 1] = 0x42
  const f = frame(max)
  t.equal(f.byteLength, MAX_FRAME_BYTES + 4, 'MAX_FRAME_BYTES exactly is framed')
  const out = new FrameDecoder().push(f)
  t.equal(out.length, 1, 'and decodes back')
  t.equal(out[0]!.byteLength, MAX_FRAME_BYTES)
  t.equal(out[0]![MAX_FRAME_BYTES - 1], 0x42)
})

t.test('frames before an oversize header are still delivered, then the error, once', async (t) => {
  const good = frame(encode({ v: 1, id: 1, type: 'ping', from: 'a', to: 'b', body: {} }))
  const bad = new Uint8Array(4)
  new DataView(bad.buffer).setUint32(0, MAX_FRAME_BYTES + 1, false)
  const chunk = concat([good, good, bad])
  const r = new FrameDecoder().read(chunk)
  t.equal(r.frames.length, 2, 'read(): both good frames')
  t.equal(r.error?.code, 'INVALID_FORMAT', 'and the error with them')
  const d = new FrameDecoder()
  t.equal(d.push(chunk).length, 2, 'push(): the good frames first')
  t.throws(() => d.push(new Uint8Array(0)), { code: 'INVALID_FORMAT' }, 'then the error on the next call')
  t.throws(() => d.push(good), { code: 'INVALID_FORMAT' }, 'and the decoder stays failed')
  const once = new FrameDecoder()
  once.read(bad)
  t.same(once.read(good), { frames: [], error: null }, 'read() reports the error once, then nothing')
})
