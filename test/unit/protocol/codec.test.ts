import t from 'tap'
import { Packr } from 'msgpackr'
import { decode, decodeValue, encode, encodeFramed, encodeFramedReply, encodeValue } from '../../../protocol/codec.ts'
import { frame, MAX_FRAME_BYTES } from '../../../protocol/framing.ts'
import {
  envelope,
  PROTOCOL_VERSION,
  REPLY,
  replyError,
  replyOk,
  validateEnvelope,
  type Envelope,
} from '../../../protocol/envelope.ts'
import { CairnError, type ErrorCode } from '../../../protocol/errors.ts'
import { mulberry32 } from '../../helpers/prng.ts'
import { throwsCoded, type Test } from '../../helpers/coded-error.ts'

// An independent packer with the same wire settings, used to build inputs the
// codec did not produce itself (missing fields, wrong types, other versions).
const raw = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' })
const pack = (value: unknown): Uint8Array => new Uint8Array(raw.pack(value))


/** Runs `fn`, asserting it throws a CairnError with exactly `code`. */
function throwsCode(t: Test, fn: () => unknown, code: ErrorCode, name: string, extra: { todo?: string } = {}): void {
  throwsCoded(t, fn, code, null, `${name}: ${code}`, { extra })
}



/** The envelope contract, checked independently of validateEnvelope. */
function isValidEnvelope(e: unknown): boolean {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return false
  const r = e as Record<string, unknown>
  if (r.v !== PROTOCOL_VERSION) return false
  if (!Number.isSafeInteger(r.id) || (r.id as number) < 0) return false
  if (typeof r.type !== 'string' || r.type.length === 0) return false
  if (typeof r.from !== 'string' || typeof r.to !== 'string') return false
  if (r.corr !== undefined && (!Number.isSafeInteger(r.corr) || (r.corr as number) < 0)) return false
  if (r.type === REPLY) {
    const b = r.body as Record<string, unknown> | null
    if (b === null || typeof b !== 'object') return false
    if (b.ok !== true && !(b.ok === false && b.error !== null && typeof b.error === 'object')) return false
  }
  return true
}

const req = envelope(7, 'issues.show', 'cli:1', 'repo-worker:abc', { id: 'zz', n: [1, 2, 3], nested: { é: '🌍' } })

t.test('encode/decode round trip', async (t) => {
  const samples: Envelope[] = [
    req,
    envelope(0, 'ping', '', '', {}),
    envelope(Number.MAX_SAFE_INTEGER, 'x'.repeat(128), 'a'.repeat(512), 'b'.repeat(512), null),
    envelope(3, 'bin', 'a', 'b', { bytes: new Uint8Array([0, 1, 255]), neg: -5, f: 1.5, big: 2 ** 40, t: true, nil: null }),
    replyOk(8, req, { title: 'Crash', labels: ['bug'] }),
    replyError(9, req, new CairnError('NOT_FOUND', 'no issue zz', { id: 'zz' })),
  ]
  for (const env of samples) {
    const bytes = encode(env)
    t.ok(bytes instanceof Uint8Array, 'encode gives a Uint8Array')
    t.same(decode(bytes), env, `round trip of ${env.type}`)
  }
  const back = decode(encode(samples[3]!)) as Envelope<string, { bytes: Uint8Array }>
  t.same([...back.body.bytes], [0, 1, 255], 'binary body survives')
  t.equal(decode(encode(samples[2]!)).id, Number.MAX_SAFE_INTEGER, 'largest safe id survives')
  t.same(decodeValue(encodeValue([1, 'a', { b: null }])), [1, 'a', { b: null }], 'encodeValue/decodeValue round trip')
})

t.test('encode returns an exact-size, unshared byte array', async (t) => {
  const a = envelope(1, 'ping', 'a', 'b', { s: 'first message body' })
  const b = envelope(2, 'pong', 'c', 'd', { s: 'second, different message body!!' })
  const expected = new Uint8Array(raw.pack(a))

  const first = encode(a)
  t.equal(first.byteLength, expected.byteLength, 'byteLength is the msgpack length')
  t.equal(first.byteOffset, 0, 'starts at offset 0')
  t.equal(first.buffer.byteLength, first.byteLength, 'backing buffer is exactly the message (not an 8 KiB scratch area)')
  t.same([...first], [...expected], 'bytes are the msgpack bytes')
  const snapshot = Uint8Array.from(first)

  const second = encode(b)
  t.not(second.buffer, first.buffer, 'a later encode uses another buffer')
  t.same([...first], [...snapshot], 'second encode leaves the first unchanged')
  second.fill(0xff)
  t.same([...first], [...snapshot], 'mutating the second leaves the first unchanged')
  const third = encode(a)
  t.same([...third], [...snapshot], 'mutating an output does not leak into later encodes')
  t.same(decode(first), a, 'first still decodes')

  const big = encode(envelope(3, 'big', 'a', 'b', { s: 'x'.repeat(20_000) }))
  t.equal(big.buffer.byteLength, big.byteLength, 'large messages are exact-size too')
  t.same(decode(big).body, { s: 'x'.repeat(20_000) })
})

t.test('garbage and truncated bytes are INVALID_FORMAT', async (t) => {
  throwsCode(t, () => decode(new Uint8Array(0)), 'INVALID_FORMAT', 'empty input')
  throwsCode(t, () => decode(new Uint8Array([0xc1])), 'INVALID_FORMAT', 'never-used byte 0xc1')
  throwsCode(t, () => decode(new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff])), 'INVALID_FORMAT', 'map32 with no entries')
  throwsCode(t, () => decode(new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61])), 'INVALID_FORMAT', 'str32 longer than input')
  const good = encode(req)
  for (let n = 0; n < good.byteLength; n++) {
    throwsCode(t, () => decode(good.subarray(0, n)), 'INVALID_FORMAT', `truncated to ${n} bytes`)
  }
  // Valid msgpack that is not an envelope.
  for (const v of [null, 1, 'str', true, [1, 2], [req]]) {
    throwsCode(t, () => decode(pack(v)), 'INVALID_FORMAT', `non-map ${JSON.stringify(v)}`)
  }
  throwsCode(t, () => decodeValue(new Uint8Array([0x92, 0x01])), 'INVALID_FORMAT', 'decodeValue of a truncated array')
  throwsCode(t, () => decodeValue(new Uint8Array([0x01, 0x02])), 'INVALID_FORMAT', 'decodeValue with trailing bytes')
  t.same(decode(good), req, 'the codec still works after failures')
})

// msgpackr decodes the never-used byte 0xC1 to a sentinel object instead of
// failing; the codec must catch it.
t.test('the never-used msgpack byte 0xC1 is INVALID_FORMAT', async (t) => {
  throwsCode(t, () => decodeValue(new Uint8Array([0xc1])), 'INVALID_FORMAT', 'decodeValue of a lone 0xC1')
  throwsCode(t, () => decodeValue(new Uint8Array([0x92, 0xc1, 0x01])), 'INVALID_FORMAT', 'decodeValue of 0xC1 inside an array')
  const bytes = pack({ v: 1, id: 1, type: 'ping', from: 'a', to: 'b', body: 0 })
  t.equal(bytes[bytes.byteLength - 1], 0x00, 'the body is the last byte')
  bytes[bytes.byteLength - 1] = 0xc1
  throwsCode(t, () => decode(bytes), 'INVALID_FORMAT', 'envelope whose body is 0xC1')
})

t.test('a 0xC1 byte inside data is data, not the never-used marker', async (t) => {
  // The byte scan only decides whether to walk the value; these must still decode.
  const body = { bin: new Uint8Array([0xc1, 0xc1]), n: 0xc1, s: String.fromCharCode(0x41) }
  const bytes = encode(envelope(1, 'ping', 'a', 'b', body))
  t.not(bytes.indexOf(0xc1), -1, 'the encoding holds the byte')
  const back = decode(bytes).body as typeof body
  t.same([...back.bin], [0xc1, 0xc1])
  t.equal(back.n, 0xc1)
  const marker = pack([new Uint8Array([0xc1]), 1])
  t.equal(marker[marker.byteLength - 1], 0x01, 'the 1 is the last byte')
  marker[marker.byteLength - 1] = 0xc1
  throwsCode(t, () => decodeValue(marker), 'INVALID_FORMAT', 'the marker itself next to the byte in data is still refused')
})

t.test('encodeFramedReply splices pre-encoded value bytes into exactly the reply encodeFramed makes', async (t) => {
  const req = envelope(41, 'issues.show', 'client', 'cairn-daemon', { id: 'x' })
  const values: unknown[] = [null, 0, 'text', [1, 'a', null], { id: 'ab', comments: [{ body: 'é' }], n: 2 ** 40 }, { s: 'y'.repeat(70_000) }]
  for (const value of values) {
    t.same([...encodeFramedReply(7, req, encodeValue(value))], [...encodeFramed(replyOk(7, req, value))], `value ${JSON.stringify(value)?.slice(0, 30)}`)
  }
  const back = decode(encodeFramedReply(8, req, encodeValue({ a: 1 })).subarray(4))
  t.same(back.body, { ok: true, value: { a: 1 } })
  t.equal(back.corr, 41)
  throwsCode(t, () => encodeFramedReply(9, req, new Uint8Array(MAX_FRAME_BYTES)), 'INVALID_ARGUMENT', 'past MAX_FRAME_BYTES')
})

t.test('encodeFramed is frame(encode(env)), in one copy', async (t) => {
  for (const body of [null, { s: 'x'.repeat(10) }, { s: 'y'.repeat(20_000) }]) {
    const env = envelope(7, 'm', 'a', 'b', body)
    t.same([...encodeFramed(env)], [...frame(encode(env))], `body ${JSON.stringify(body)?.slice(0, 20)}`)
  }
  throwsCode(t, () => encodeFramed(envelope(1, 'm', 'a', 'b', { s: 'z'.repeat(MAX_FRAME_BYTES) })), 'INVALID_ARGUMENT', 'past MAX_FRAME_BYTES')
})

t.test('another protocol version is SCHEMA_MISMATCH', async (t) => {
  for (const v of [0, 2, 99, 1.5, -1]) {
    try {
      decode(pack({ ...req, v }))
      t.fail(`v=${v} accepted`)
    } catch (err) {
      t.ok(err instanceof CairnError)
      t.equal((err as CairnError).code, 'SCHEMA_MISMATCH', `v=${v}`)
      t.same((err as CairnError).details, { v, expected: PROTOCOL_VERSION }, 'details name both versions')
    }
  }
  // v=2 wins over other problems: a newer peer may well have a different shape.
  throwsCode(t, () => decode(pack({ v: 2 })), 'SCHEMA_MISMATCH', 'v=2 with nothing else')
  throwsCode(t, () => decode(pack({ ...req, v: '1' })), 'INVALID_FORMAT', 'v as a string')
  throwsCode(t, () => decode(pack({ ...req, v: undefined })), 'INVALID_FORMAT', 'v missing')
})

t.test('missing or ill-typed fields are INVALID_FORMAT', async (t) => {
  const base = { v: 1, id: 5, type: 'ping', from: 'a', to: 'b', body: {} }
  t.same(decode(pack(base)), base, 'the base case is valid')
  t.same(decode(pack({ ...base, id: 0 })).id, 0, 'id 0 is accepted (non-negative)')
  t.same(decode(pack({ ...base, corr: 0 })).corr, 0, 'corr 0 is accepted')
  t.same(decode(pack({ ...base, body: undefined })).type, 'ping', 'a non-reply needs no body')

  const bad: [string, Record<string, unknown>][] = [
    ['id missing', { ...base, id: undefined }],
    ['id negative', { ...base, id: -1 }],
    ['id fractional', { ...base, id: 1.5 }],
    ['id string', { ...base, id: '5' }],
    ['id beyond safe range', { ...base, id: 2 ** 60 }],
    ['type missing', { ...base, type: undefined }],
    ['type empty', { ...base, type: '' }],
    ['type not a string', { ...base, type: 7 }],
    ['type too long', { ...base, type: 'x'.repeat(129) }],
    ['from missing', { ...base, from: undefined }],
    ['from not a string', { ...base, from: 42 }],
    ['from too long', { ...base, from: 'x'.repeat(513) }],
    ['to missing', { ...base, to: undefined }],
    ['to not a string', { ...base, to: ['b'] }],
    ['corr negative', { ...base, corr: -3 }],
    ['corr not integer', { ...base, corr: 2.5 }],
    ['corr string', { ...base, corr: '5' }],
    ['corr null', { ...base, corr: null }],
    ['reply body missing', { ...base, type: REPLY, corr: 5 }],
    ['reply body null', { ...base, type: REPLY, corr: 5, body: null }],
    ['reply body a string', { ...base, type: REPLY, corr: 5, body: 'ok' }],
    ['reply body without ok', { ...base, type: REPLY, corr: 5, body: { value: 1 } }],
    ['reply body ok truthy non-boolean', { ...base, type: REPLY, corr: 5, body: { ok: 1, value: 1 } }],
    ['reply body ok:false without error', { ...base, type: REPLY, corr: 5, body: { ok: false } }],
    ['reply body ok:false, error a string', { ...base, type: REPLY, corr: 5, body: { ok: false, error: 'boom' } }],
    ['reply body ok:false, error null', { ...base, type: REPLY, corr: 5, body: { ok: false, error: null } }],
  ]
  for (const [name, value] of bad) {
    throwsCode(t, () => decode(pack(value)), 'INVALID_FORMAT', name)
    throwsCode(t, () => validateEnvelope(value), 'INVALID_FORMAT', `${name} (validateEnvelope)`)
  }
})

t.test('replyOk and replyError shapes', async (t) => {
  const ok = replyOk(42, req, { answer: 1 })
  t.same(ok, {
    v: PROTOCOL_VERSION, id: 42, type: REPLY, from: req.to, to: req.from, corr: req.id, body: { ok: true, value: { answer: 1 } },
  }, 'replyOk: corr is the request id, from/to swapped')
  t.equal(ok.corr, 7)
  t.equal(ok.from, 'repo-worker:abc')
  t.equal(ok.to, 'cli:1')
  t.same(decode(encode(ok)), ok, 'replyOk survives the codec')

  const err = new CairnError('LEASE_HELD', 'held by b', { holder: 'b' })
  const bad = replyError(43, req, err)
  t.same(bad, {
    v: PROTOCOL_VERSION, id: 43, type: REPLY, from: req.to, to: req.from, corr: req.id,
    body: { ok: false, error: { code: 'LEASE_HELD', message: 'held by b', details: { holder: 'b' } } },
  }, 'replyError: corr is the request id, from/to swapped, error in wire form')
  const back = decode(encode(bad))
  t.same(back, bad, 'replyError survives the codec')
  const rebuilt = CairnError.fromWire((back.body as { error: unknown }).error)
  t.equal(rebuilt.code, 'LEASE_HELD')
  t.same(rebuilt.details, { holder: 'b' })

  const noDetails = replyError(44, req, new CairnError('TIMEOUT'))
  t.notOk('details' in (noDetails.body as { error: object }).error, 'no details key when the error has none')
  t.same(decode(encode(replyOk(45, req, undefined))).body, { ok: true, value: undefined }, 'ok with no value is valid')
})

t.test('seeded fuzz: decode returns a valid envelope or throws INVALID_FORMAT/SCHEMA_MISMATCH', async (t) => {
  const SEED = 0xc0ffee
  const rand = mulberry32(SEED)
  const int = (n: number): number => Math.floor(rand() * n)
  const seeds = [
    encode(req),
    encode(replyOk(2, req, { a: [1, 2, { b: 'c' }] })),
    encode(replyError(3, req, new CairnError('CYCLE', 'loop', { path: ['a', 'b'] }))),
    encode(envelope(4, 'ping', 'x', 'y', {})),
  ]
  const interesting = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcf,
    0xd3, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff]

  const counts = { valid: 0, INVALID_FORMAT: 0, SCHEMA_MISMATCH: 0 }
  const failures: string[] = []
  const check = (bytes: Uint8Array, label: string): void => {
    let result: unknown
    try {
      result = decode(bytes)
    } catch (err) {
      if (err instanceof CairnError && (err.code === 'INVALID_FORMAT' || err.code === 'SCHEMA_MISMATCH')) {
        counts[err.code]++
      } else {
        failures.push(`${label} [${Buffer.from(bytes).toString('hex')}]: threw ${String(err)}`)
      }
      return
    }
    if (isValidEnvelope(result)) counts.valid++
    else failures.push(`${label} [${Buffer.from(bytes).toString('hex')}]: returned an invalid envelope`)
  }

  // Pure random byte arrays, some starting with a map header to get deeper.
  for (let i = 0; i < 2000; i++) {
    const len = int(64)
    const bytes = new Uint8Array(len)
    for (let j = 0; j < len; j++) bytes[j] = int(256)
    if (len > 0 && i % 2 === 0) bytes[0] = 0x80 | int(16)
    check(bytes, `random#${i}`)
  }
  // Mutations of valid envelopes: flips, interesting bytes, truncation, insertion, deletion, splices.
  for (let i = 0; i < 3000; i++) {
    const src = seeds[int(seeds.length)]!
    let bytes = Uint8Array.from(src)
    const ops = 1 + int(4)
    for (let k = 0; k < ops; k++) {
      const at = bytes.byteLength === 0 ? 0 : int(bytes.byteLength)
      switch (int(6)) {
        case 0: if (bytes.byteLength) bytes[at] = bytes[at]! ^ (1 << int(8)); break
        case 1: if (bytes.byteLength) bytes[at] = interesting[int(interesting.length)]!; break
        case 2: bytes = bytes.slice(0, at); break
        case 3: { const out = new Uint8Array(bytes.byteLength + 1); out.set(bytes.subarray(0, at)); out[at] = int(256); out.set(bytes.subarray(at), at + 1); bytes = out; break }
        case 4: { const out = new Uint8Array(Math.max(0, bytes.byteLength - 1)); out.set(bytes.subarray(0, at)); out.set(bytes.subarray(at + 1), at); bytes = out; break }
        case 5: { const other = seeds[int(seeds.length)]!; const from = int(other.byteLength); const out = new Uint8Array(at + other.byteLength - from); out.set(bytes.subarray(0, at)); out.set(other.subarray(from), at); bytes = out; break }
      }
    }
    check(bytes, `mutation#${i}`)
  }
  // Well-formed maps with random field values.
  const values = [undefined, null, true, false, 0, 1, -1, 1.5, 2 ** 53, -(2 ** 53), '', 'x', 'reply', [], {}, { ok: true }, { ok: false, error: {} }, new Uint8Array(2)]
  const pick = (): unknown => values[int(values.length)]
  for (let i = 0; i < 1000; i++) {
    const obj: Record<string, unknown> = { v: int(4) === 0 ? pick() : 1, id: pick(), type: int(2) ? REPLY : pick(), from: pick(), to: pick(), body: pick() }
    if (int(2)) obj.corr = pick()
    check(pack(obj), `shaped#${i}`)
  }

  t.same(failures.slice(0, 10), [], `no decode outcome other than a valid envelope or INVALID_FORMAT/SCHEMA_MISMATCH (seed ${SEED})`)
  t.equal(failures.length, 0, 'failure count')
  t.ok(counts.INVALID_FORMAT > 0, `some inputs are INVALID_FORMAT (${counts.INVALID_FORMAT})`)
  t.ok(counts.SCHEMA_MISMATCH > 0, `some inputs are SCHEMA_MISMATCH (${counts.SCHEMA_MISMATCH})`)
  t.ok(counts.valid > 0, `some inputs are still valid envelopes (${counts.valid})`)
  for (const s of seeds) t.ok(isValidEnvelope(decode(s)), 'the codec still decodes valid input after the fuzz')
})
