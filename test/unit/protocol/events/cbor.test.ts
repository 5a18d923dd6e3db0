import t from 'tap'
import { decodeCbor, encodeCbor } from '../../../../protocol/events/cbor.ts'
import type { CborValue } from '../../../../protocol/events/cbor.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'))

t.test('integer heads at the boundaries are shortest-form', async (t) => {
  const cases: [number, string][] = [
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [255, '18ff'],
    [256, '190100'],
    [65535, '19ffff'],
    [65536, '1a00010000'],
    [2 ** 32 - 1, '1affffffff'],
    [2 ** 32, '1b0000000100000000'],
    [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'],
    [-24, '37'],
    [-25, '3818'],
    [-256, '38ff'],
    [-257, '390100'],
    [-(2 ** 32) - 1, '3b0000000100000000'],
  ]
  for (const [n, h] of cases) {
    t.equal(hex(encodeCbor(n)), h, `encode ${n}`)
    t.equal(decodeCbor(bytes(h)), n, `decode ${h}`)
  }
  t.equal(hex(encodeCbor(-0)), '00', '-0 encodes as 0')
})

t.test('length heads of strings and arrays use the same boundaries', async (t) => {
  for (const n of [0, 23, 24, 255, 256, 65535, 65536]) {
    const b = new Uint8Array(n).fill(7)
    const enc = encodeCbor(b)
    const headLen = n < 24 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5
    t.equal(enc.length, headLen + n, `bstr ${n} head is ${headLen} bytes`)
    t.equal(enc[0]! >> 5, 2)
    t.same(decodeCbor(enc), b)
    const s = 'x'.repeat(n)
    t.equal(decodeCbor(encodeCbor(s)), s, `tstr ${n}`)
    const a = new Array<CborValue>(n).fill(null)
    t.same(decodeCbor(encodeCbor(a)), a, `array ${n}`)
  }
})

t.test('round trip of a mixed value', async (t) => {
  const v: CborValue = [1, -2, 'héllo 🌍', new Uint8Array([1, 2, 3]), null, true, false, [[], ['\uFEFFbom']]]
  t.same(decodeCbor(encodeCbor(v)), v)
  t.equal(hex(encodeCbor([1, 'a', null])), '83016161f6')
})

t.test('encoder rejects values outside the subset with INVALID_ARGUMENT', async (t) => {
  const bad: unknown[] = [1.5, NaN, Infinity, 2 ** 53, -(2 ** 53), {}, undefined, 10n, 'a\uD800b', new Map()]
  for (const v of bad) {
    t.throws(() => encodeCbor(v as CborValue), { code: 'INVALID_ARGUMENT' }, `rejects ${String(v)}`)
  }
  let deep: CborValue = []
  for (let i = 0; i < 20; i++) deep = [deep]
  t.throws(() => encodeCbor(deep), { code: 'INVALID_ARGUMENT' }, 'too deep')
})

t.test('strict decoder rejections are INVALID_FORMAT', async (t) => {
  const cases: [string, string][] = [
    ['', 'empty input'],
    ['1817', 'non-shortest uint8 head (23)'],
    ['1900ff', 'non-shortest uint16 head'],
    ['1a0000ffff', 'non-shortest uint32 head'],
    ['1b00000000ffffffff', 'non-shortest uint64 head'],
    ['3817', 'non-shortest negative head'],
    ['5800', 'non-shortest bstr length'],
    ['1b0020000000000000', 'uint 2^53 beyond safe range'],
    ['1bffffffffffffffff', 'uint 2^64-1'],
    ['3b001fffffffffffff', 'negative beyond safe range'],
    ['5f40ff', 'indefinite byte string'],
    ['7f60ff', 'indefinite text string'],
    ['9fff', 'indefinite array'],
    ['1c', 'reserved additional info 28'],
    ['a0', 'map (major 5)'],
    ['c000', 'tag (major 6)'],
    ['f7', 'undefined'],
    ['f0', 'unassigned simple value'],
    ['f820', 'one-byte simple value'],
    ['f93c00', 'half float'],
    ['fa3f800000', 'single float'],
    ['fb3ff0000000000000', 'double float'],
    ['ff', 'break outside indefinite item'],
    ['0000', 'trailing byte'],
    ['8201', 'array shorter than its length'],
    ['43 0102', 'byte string beyond the buffer'],
    ['63 6162', 'text string beyond the buffer'],
    ['62 c328', 'invalid UTF-8'],
    ['62 eda0', 'encoded surrogate is invalid UTF-8'],
    ['9b 0000010000000000', 'huge array length'],
    ['5b 001fffffffffffff', 'huge byte string length'],
    ['18', 'truncated head'],
    ['1b000000', 'truncated 8-byte head'],
  ]
  for (const [h, what] of cases) {
    t.throws(() => decodeCbor(bytes(h)), { code: 'INVALID_FORMAT' }, what)
  }
})

t.test('nesting limit', async (t) => {
  const nested = (n: number): Uint8Array => bytes('81'.repeat(n - 1) + '80')
  t.doesNotThrow(() => decodeCbor(nested(16)), '16 levels are fine')
  t.throws(() => decodeCbor(nested(17)), { code: 'INVALID_FORMAT' }, '17 levels are too deep')
  t.throws(() => decodeCbor(nested(6), 5), { code: 'INVALID_FORMAT' }, 'custom limit')
  t.throws(() => decodeCbor(nested(100_000)), { code: 'INVALID_FORMAT' }, 'no stack overflow')
})

t.test('decoded byte strings do not alias the input', async (t) => {
  const input = bytes('43010203')
  const out = decodeCbor(input) as Uint8Array
  input[1] = 9
  t.same([...out], [1, 2, 3])
})

t.test('fuzz: random bytes decode or throw INVALID_FORMAT, nothing else', async (t) => {
  // A seeded LCG keeps failures reproducible.
  let seed = 12345
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed >>> 16
  }
  let other = 0
  for (let i = 0; i < 3000; i++) {
    const buf = new Uint8Array(1 + (next() % 24)).map(() => next() & 0xff)
    try {
      const v = decodeCbor(buf)
      // Anything accepted is canonical, so it re-encodes to the same bytes.
      if (hex(encodeCbor(v)) !== hex(buf)) other++
    } catch (err) {
      if ((err as { code?: string }).code !== 'INVALID_FORMAT') other++
    }
  }
  t.equal(other, 0, 'every input round-trips exactly or is INVALID_FORMAT')
})
