import t from 'tap'
import { CairnError } from '../../../../protocol/errors.ts'
import { encodeCbor } from '../../../../protocol/events/cbor.ts'
import type { CborValue } from '../../../../protocol/events/cbor.ts'
import {
  canonicalPreimage,
  computeEventId,
  decodeChunk,
  encodeChunk,
  hexToBytes,
  kindPayload,
  KIND_TAGS,
} from '../../../../protocol/events/index.ts'
import { chunkRecordBytes, chunkRecordOf, encodeChunkFromEncoded } from '../../../../protocol/events/chunk.ts'
import { eventIdWithPreimage } from '../../../../protocol/events/canonical.ts'
import type { CairnEvent, EventInput, EventKind } from '../../../../protocol/events/index.ts'

const ISSUE = '000102030405060708090a0b0c0d0e0f'
const ACTOR = '101112131415161718191a1b1c1d1e1f'
const PARENT = '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f'
const HEADER = Buffer.concat([Buffer.from('GRITECNK'), Buffer.from([1, 0, 7]), Buffer.from('cbor-v1')])

// One of each kind, in the normal form decodeChunk returns (explicit nulls,
// sorted labels and symbols), so a round trip must give them back unchanged.
const KINDS: EventKind[] = [
  { type: 'IssueCreated', title: 'Crash on start', body: 'Steps: …', labels: ['bug', 'p0', 'é', '🌍'] },
  { type: 'IssueUpdated', title: 'New title', body: null },
  { type: 'IssueUpdated', title: null, body: 'only the body' },
  { type: 'CommentAdded', body: '\uFEFFleading BOM survives' },
  { type: 'LabelAdded', label: 'bug' },
  { type: 'LabelRemoved', label: 'wip' },
  { type: 'StateChanged', state: 'closed' },
  { type: 'StateChanged', state: 'open' },
  { type: 'LinkAdded', url: 'https://example.com', note: 'ref' },
  { type: 'LinkAdded', url: 'https://example.org', note: null },
  { type: 'AssigneeAdded', user: 'alice' },
  { type: 'AssigneeRemoved', user: 'bob' },
  { type: 'AttachmentAdded', name: 'log.txt', sha256: 'ab'.repeat(32), mime: 'text/plain' },
  { type: 'DependencyAdded', target: 'aa'.repeat(16), depType: 'blocks' },
  { type: 'DependencyRemoved', target: 'bb'.repeat(16), depType: 'depends_on' },
  { type: 'DependencyAdded', target: 'cc'.repeat(16), depType: 'related_to' },
  {
    type: 'ContextUpdated',
    path: 'src/main.rs',
    language: 'rust',
    symbols: [
      { name: 'main', kind: 'function', lineStart: 1, lineEnd: 10 },
      { name: 'main', kind: 'module', lineStart: 0, lineEnd: 4294967295 },
      { name: 'run', kind: 'function', lineStart: 12, lineEnd: 40 },
    ],
    summary: 'Entry point',
    contentHash: 'cd'.repeat(32),
  },
  { type: 'ProjectContextUpdated', key: 'framework', value: 'actix-web' },
]

function makeEvent(kind: EventKind, i: number, withParentAndSig: boolean): CairnEvent {
  const input: EventInput = {
    issueId: ISSUE,
    actor: ACTOR,
    tsUnixMs: 1_700_000_000_000 + i,
    parent: withParentAndSig ? PARENT : null,
    kind,
  }
  return { ...input, eventId: computeEventId(input), sig: withParentAndSig ? Uint8Array.of(i, 1, 2, 3) : null }
}

const plain = KINDS.map((k, i) => makeEvent(k, i, false))
const signed = KINDS.map((k, i) => makeEvent(k, i, true))
const all = [...plain, ...signed]

function record(e: CairnEvent): CborValue[] {
  return [
    hexToBytes(e.eventId, 32, 'eventId'),
    hexToBytes(e.issueId, 16, 'issueId'),
    hexToBytes(e.actor, 16, 'actor'),
    e.tsUnixMs,
    e.parent === null ? null : hexToBytes(e.parent, 32, 'parent'),
    KIND_TAGS[e.kind.type],
    kindPayload(e.kind),
    e.sig ?? null,
  ]
}

const chunkOf = (records: CborValue): Uint8Array => new Uint8Array(Buffer.concat([HEADER, encodeCbor(records)]))

type Asserts = Pick<typeof t, 'ok' | 'equal' | 'match' | 'fail'>

function expectFormatError(t: Asserts, bytes: Uint8Array, what: string, message?: RegExp): void {
  try {
    decodeChunk(bytes)
    t.fail(`${what}: decoded`)
  } catch (err) {
    t.ok(err instanceof CairnError, `${what}: CairnError`)
    t.equal((err as CairnError).code, 'INVALID_FORMAT', what)
    if (message) t.match((err as CairnError).message, message, `${what}: message`)
  }
}

t.test('round trip of all 14 kinds, with and without parent and sig', async (t) => {
  t.equal(new Set(KINDS.map((k) => k.type)).size, 14)
  t.same(decodeChunk(encodeChunk(all)), all)
  t.same(decodeChunk(encodeChunk([])), [])
  for (const e of all) t.same(decodeChunk(encodeChunk([e])), [e], `${e.kind.type} alone`)
  // An omitted sig is written as null and read back as null.
  const { sig: _sig, ...noSig } = plain[0] as CairnEvent
  t.same(decodeChunk(encodeChunk([noSig])), [{ ...noSig, sig: null }])
})

t.test('header and records are grite\'s layout', async (t) => {
  const e = plain[4] as CairnEvent
  const bytes = encodeChunk([e])
  t.same(Buffer.from(bytes.subarray(0, 18)), HEADER, "'GRITECNK', u16 LE 1, u8 7, 'cbor-v1'")
  // A record is the preimage with the schema version swapped for the event id
  // and the sig appended: [id, issue, actor, ts, parent, tag, payload, sig].
  const pre = canonicalPreimage(e)
  const expected = Buffer.concat([
    Buffer.from([0x81, 0x88, 0x58, 0x20]),
    hexToBytes(e.eventId, 32, 'eventId'),
    pre.subarray(2),
    Buffer.from([0xf6]),
  ])
  t.same(Buffer.from(bytes.subarray(18)), expected)
})

t.test('unsorted input labels and symbols are stored sorted under the same id', async (t) => {
  const input: EventInput = {
    issueId: ISSUE,
    actor: ACTOR,
    tsUnixMs: 5,
    parent: null,
    kind: { type: 'IssueCreated', title: 't', body: 'b', labels: ['🌍', 'z', 'a', '\uFFFD'] },
  }
  const [back] = decodeChunk(encodeChunk([{ ...input, eventId: computeEventId(input) }]))
  // Code point (Rust byte) order: U+FFFD sorts before the astral U+1F30D.
  t.same((back as CairnEvent).kind, { type: 'IssueCreated', title: 't', body: 'b', labels: ['a', 'z', '\uFFFD', '🌍'] })
})

t.test('encodeChunk validates its input with INVALID_ARGUMENT naming the field', async (t) => {
  const e = plain[0] as CairnEvent
  const cases: [unknown, RegExp][] = [
    [[{ ...e, eventId: 'ff'.repeat(32) }], /^events\[0\]\.eventId does not match/],
    [[e, { ...e, eventId: 'XX' }], /^events\[1\]\.eventId must be 64 lowercase hex characters/],
    [[{ ...e, issueId: 'ABCDEF' }], /^events\[0\]\.issueId must be 32 lowercase hex characters/],
    [[{ ...e, actor: ISSUE.toUpperCase() }], /^events\[0\]\.actor must be 32 lowercase hex/],
    [[{ ...e, parent: 'ab' }], /^events\[0\]\.parent must be 64 lowercase hex/],
    [[{ ...e, tsUnixMs: -1 }], /tsUnixMs must be a non-negative safe integer/],
    [[{ ...e, tsUnixMs: 2 ** 53 }], /tsUnixMs/],
    [[{ ...e, sig: 'abc' }], /sig must be a Uint8Array/],
    [[{ ...e, kind: { type: 'Nope' } }], /kind\.type must be one of/],
    [[{ ...e, kind: { type: 'StateChanged', state: 'done' } }], /kind\.state must be one of open, closed/],
    [[{ ...e, kind: { type: 'CommentAdded', body: 'a\uD800' } }], /kind\.body must be well-formed/],
    [[{ ...e, kind: { type: 'DependencyAdded', target: 'aa', depType: 'blocks' } }], /kind\.target must be 32/],
    [[{ ...e, kind: { ...(KINDS.find((k) => k.type === 'ContextUpdated') as object), symbols: [{ name: 'a', kind: 'b', lineStart: -1, lineEnd: 0 }] } }],
      /kind\.symbols\[0\]\.lineStart must be an integer/],
    ['not an array', /^events must be an array/],
  ]
  for (const [input, message] of cases) {
    t.throws(() => encodeChunk(input as CairnEvent[]), { code: 'INVALID_ARGUMENT', message }, String(message))
  }
})

t.test('a chunk built record by record (as the WAL drain does, in slices) is the same chunk', async (t) => {
  const events = [...plain, ...signed]
  const records = events.map((e, i) => encodeCbor(chunkRecordOf(e, i)))
  t.same(encodeChunkFromEncoded(records), encodeChunk(events), 'same bytes')
  t.same(decodeChunk(encodeChunkFromEncoded(records)), events)
  t.same(encodeChunkFromEncoded([]), encodeChunk([]))
  const e = plain[0] as CairnEvent
  t.throws(() => chunkRecordOf({ ...e, eventId: 'ff'.repeat(32) }, 7), { code: 'INVALID_ARGUMENT', message: /^events\[7\]\.eventId does not match/ })
})

t.test('records made from the preimage (the outbox form) are the records encodeChunk writes', async (t) => {
  const records = plain.map((e) => {
    const { eventId, preimage } = eventIdWithPreimage(e)
    t.equal(eventId, e.eventId, `${e.kind.type}: the id is the preimage's hash`)
    const bytes = chunkRecordBytes(eventId, preimage)
    t.same(bytes, encodeCbor(chunkRecordOf(e, 0)), `${e.kind.type}: same bytes as encoding the record`)
    return bytes
  })
  t.same(encodeChunkFromEncoded(records), encodeChunk(plain), 'a chunk of them is encodeChunk\'s chunk')
  t.same(decodeChunk(encodeChunkFromEncoded(records)), plain)
  // Past one-byte and two-byte array heads.
  const many = Array.from({ length: 300 }, (_, i) => plain[i % plain.length] as CairnEvent)
  t.same(encodeChunkFromEncoded(many.map((e) => { const { eventId, preimage } = eventIdWithPreimage(e); return chunkRecordBytes(eventId, preimage) })), encodeChunk(many), '300 records')
  t.throws(() => chunkRecordBytes((plain[0] as CairnEvent).eventId, Uint8Array.of(0x87, 0x02)), { code: 'INTERNAL' }, 'only a schema 1 preimage')
})

t.test('malformed chunks are INVALID_FORMAT', async (t) => {
  const good = encodeChunk(all)
  const e = signed.find((x) => x.kind.type === 'ContextUpdated') as CairnEvent // the deepest payload
  const r = record(e)
  const withRecord = (i: number, v: CborValue): Uint8Array => chunkOf([r.map((x, j) => (j === i ? v : x))])
  const withPayload = (p: CborValue): Uint8Array => withRecord(6, p)
  const tamper = (at: number, b: number): Uint8Array => {
    const copy = good.slice()
    copy[at] = b
    return copy
  }

  expectFormatError(t, new Uint8Array(0), 'empty')
  expectFormatError(t, good.subarray(0, 10), 'shorter than the header')
  expectFormatError(t, tamper(0, 0x67), 'wrong magic', /magic/)
  expectFormatError(t, tamper(8, 2), 'version 2', /version 2/)
  expectFormatError(t, tamper(9, 1), 'version 257 (LE high byte)', /version 257/)
  expectFormatError(t, tamper(10, 6), 'codec length 6', /codec/)
  expectFormatError(t, tamper(10, 200), 'codec length beyond the buffer', /codec/)
  expectFormatError(t, tamper(17, 0x32), 'codec cbor-v2', /codec/)
  expectFormatError(t, good.subarray(0, 18), 'no payload')
  expectFormatError(t, good.subarray(0, good.length - 1), 'truncated payload')
  expectFormatError(t, new Uint8Array([...good, 0]), 'trailing byte', /trailing/)
  expectFormatError(t, chunkOf(null), 'payload not an array')
  expectFormatError(t, chunkOf(encodeCbor([]) as unknown as CborValue), 'payload is a byte string')
  expectFormatError(t, chunkOf([5]), 'record not an array')
  expectFormatError(t, chunkOf([r.slice(0, 7)]), 'record with 7 elements', /8 elements/)
  expectFormatError(t, chunkOf([[...r, null]]), 'record with 9 elements', /8 elements/)
  expectFormatError(t, withRecord(0, new Uint8Array(31)), 'event_id of 31 bytes')
  expectFormatError(t, withRecord(0, 'ab'.repeat(32)), 'event_id as text')
  expectFormatError(t, withRecord(1, new Uint8Array(17)), 'issue_id of 17 bytes')
  expectFormatError(t, withRecord(2, new Uint8Array(15)), 'actor of 15 bytes')
  expectFormatError(t, withRecord(3, -1), 'negative ts')
  expectFormatError(t, withRecord(3, '1700000000000'), 'ts as text')
  expectFormatError(t, withRecord(4, new Uint8Array(16)), 'parent of 16 bytes')
  expectFormatError(t, withRecord(4, false), 'parent as bool')
  expectFormatError(t, withRecord(5, 0), 'kind tag 0', /unknown kind tag 0/)
  expectFormatError(t, withRecord(5, 15), 'kind tag 15', /unknown kind tag 15/)
  expectFormatError(t, withRecord(5, -13), 'negative kind tag', /unknown kind tag/)
  expectFormatError(t, withRecord(5, 'ContextUpdated'), 'kind tag as text', /unknown kind tag/)
  expectFormatError(t, withRecord(5, 12), 'payload of another kind', /expects 2 elements/)
  expectFormatError(t, withRecord(7, 'sig'), 'sig as text', /sig/)
  expectFormatError(t, withRecord(3, e.tsUnixMs + 1), 'ts changed', /event id mismatch/)
  // ts beyond the safe range cannot even be expressed by encodeCbor; splice its bytes in.
  const tsAt = Buffer.from(chunkOf([r])).indexOf(Buffer.from(`1b${e.tsUnixMs.toString(16).padStart(16, '0')}`, 'hex'))
  t.ok(tsAt > 0, 'found the ts head')
  const big = chunkOf([r])
  big.set(Buffer.from('1bffffffffffffffff', 'hex'), tsAt)
  expectFormatError(t, big, 'ts of 2^64-1', /safe range/)

  const p = r[6] as CborValue[]
  expectFormatError(t, withPayload('x'), 'payload not an array')
  expectFormatError(t, withPayload(p.slice(0, 4)), 'payload with 4 elements', /expects 5 elements/)
  expectFormatError(t, withPayload([...p, 'x']), 'payload with 6 elements', /expects 5 elements/)
  expectFormatError(t, withPayload([1, ...p.slice(1)]), 'path as integer', /path/)
  expectFormatError(t, withPayload([p[0]!, p[1]!, 'syms', p[3]!, p[4]!]), 'symbols not an array', /symbols/)
  expectFormatError(t, withPayload([p[0]!, p[1]!, [['a', 'b', 1]], p[3]!, p[4]!]), 'symbol of 3', /symbols\[0\]/)
  expectFormatError(t, withPayload([p[0]!, p[1]!, [['a', 'b', 1, 2 ** 32]], p[3]!, p[4]!]), 'line_end > u32',
    /line_end/)
  expectFormatError(t, withPayload([p[0]!, p[1]!, [['a', 'b', -1, 2]], p[3]!, p[4]!]), 'line_start < 0',
    /line_start/)
  expectFormatError(t, withPayload([...p.slice(0, 4), new Uint8Array(31)]), 'content_hash of 31 bytes',
    /content_hash/)

  const payloadCases: [number, CborValue[], string][] = [
    [1, ['t', 'b', 'bug'], 'labels not an array'],
    [1, ['t', 'b', [1]], 'label as integer'],
    [2, ['t', 5], 'body as integer'],
    [2, ['t'], 'IssueUpdated of 1'],
    [3, [null], 'comment body null'],
    [6, ['reopened'], 'unknown state'],
    [7, [null, 'n'], 'url null'],
    [10, ['n', new Uint8Array(32), null], 'mime null'],
    [10, ['n', 'ab'.repeat(32), 'm'], 'sha256 as text'],
    [11, [new Uint8Array(16), 'duplicates'], 'unknown dep type'],
    [12, [new Uint8Array(15), 'blocks'], 'target of 15 bytes'],
    [14, ['k', true], 'value as bool'],
  ]
  for (const [tag, payload, what] of payloadCases) {
    expectFormatError(t, chunkOf([[r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, tag, payload, null]]), what)
  }

  // One bad record spoils the whole chunk: no partial result.
  const mixed = chunkOf([record(plain[0] as CairnEvent), r.map((x, j) => (j === 3 ? 1 : x))])
  expectFormatError(t, mixed, 'second record bad', /record 1: event id mismatch/)
})

t.test('decodeChunk rejects a non-Uint8Array argument', async (t) => {
  t.throws(() => decodeChunk('GRITECNK' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT' })
})

t.test('fuzz: random mutations decode validly or throw INVALID_FORMAT', async (t) => {
  // mulberry32: small, seeded, so a failure reproduces from the seed alone.
  let seed = 0xc0ffee
  const rand = (): number => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(rand() * n)
  const base = encodeChunk([...plain.slice(0, 6), ...signed.slice(10)])
  const interesting = [0x00, 0x17, 0x18, 0x1b, 0x1f, 0x40, 0x5f, 0x7f, 0x80, 0x9f, 0xa0, 0xc0, 0xf6, 0xf7, 0xff]
  let decoded = 0
  let rejected = 0
  const iterations = 5000
  for (let i = 0; i < iterations; i++) {
    let bytes = Array.from(base)
    const edits = 1 + int(3)
    for (let k = 0; k < edits; k++) {
      const at = int(bytes.length)
      switch (int(6)) {
        case 0: bytes[at] = int(256); break
        case 1: bytes[at] = (bytes[at] as number) ^ (1 << int(8)); break
        case 2: bytes[at] = interesting[int(interesting.length)] as number; break
        case 3: bytes.splice(at, 0, int(256)); break
        case 4: bytes.splice(at, 1 + int(4)); break
        default: bytes = bytes.slice(0, at); break
      }
    }
    try {
      const events = decodeChunk(Uint8Array.from(bytes))
      for (const e of events) {
        if (computeEventId(e) !== e.eventId) throw new Error(`iteration ${i}: decoded an event whose id lies`)
      }
      decoded++
    } catch (err) {
      if (!(err instanceof CairnError) || err.code !== 'INVALID_FORMAT') {
        t.fail(`iteration ${i}: unexpected ${String(err)}`)
        return
      }
      rejected++
    }
  }
  t.equal(decoded + rejected, iterations, `${decoded} decoded, ${rejected} rejected`)
  t.ok(rejected > iterations / 2, 'most mutations are rejected')
})
