/**
 * Every call of the issue board, through the real runtime, refuses bad input
 * with a coded error (INVALID_ARGUMENT naming the field, NOT_FOUND,
 * AMBIGUOUS_ID, CYCLE) and writes nothing: the event log's lastSeq and the
 * issue list are the same after all the bad calls as before them.
 */
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime, CairnError } from '../../../../../lib/index.ts'
import type { Repo } from '../../../../../lib/api/repo.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { assertCoded } from '../../../../helpers/coded-error.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]
type Loose = Record<string, (...args: unknown[]) => Promise<unknown>>

const SHA = 'ab'.repeat(32)
const UNKNOWN = 'f'.repeat(32)
const HANG_MS = 15_000

const box = sandbox()
const rt = await createRuntime({ home: box.home, threads: 1 })
t.teardown(async () => {
  await rt.stop()
  box.cleanup()
})
const path = box.repo('board')
const repo = await rt.repo(path, { agent: 'a' })
/** The API with its types loosened, so wrong types can be passed as a JavaScript caller would. */
const issues = repo.issues as unknown as Loose
const events = repo.events as unknown as { subscribe(...a: unknown[]): unknown; read(...a: unknown[]): Promise<unknown>; stats(...a: unknown[]): Promise<unknown> }
const looseRt = rt as unknown as { repo(...a: unknown[]): Promise<Repo> }

/** JSON with everything outside printable ASCII escaped: a raw U+2028 would break a TAP line. */
const ascii = (v: unknown): string =>
  String(JSON.stringify(v)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/**
 * Runs `fn` and asserts it fails with `code` (and `details.field` when given),
 * within HANG_MS; returns the error for further checks.
 */
async function fails(t: Test, what: string, fn: () => unknown, code: string, field: string | null = null): Promise<CairnError | undefined> {
  let err: unknown
  let value: unknown
  let timer: NodeJS.Timeout | undefined
  try {
    value = await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS) }),
    ])
  } catch (e) {
    err = e
  } finally {
    clearTimeout(timer)
  }
  return assertCoded(t, err, value, code, field, `${what} -> ${code}${field === null ? '' : ` ${field}`}`)
}

// ---- fixture: A blocks B, B blocks C; then enough issues for a shared 4-hex prefix ----
const A = (await repo.issues.create({ title: 'A' })).id
const B = (await repo.issues.create({ title: 'B', labels: ['x'] })).id
const C = (await repo.issues.create({ title: 'C' })).id
await repo.issues.depend(A, { target: B, type: 'blocks' })
await repo.issues.depend(B, { target: C, type: 'blocks' })

const byPrefix = new Map<string, string[]>()
for (const id of [A, B, C]) byPrefix.set(id.slice(0, 4), [...(byPrefix.get(id.slice(0, 4)) ?? []), id])
let ambiguous: string | null = null
// With 16^4 prefixes, 2000 random ids all differ in their first 4 hex with probability ~e^-30; stop at the first collision.
for (let round = 0; ambiguous === null && round < 20; round++) {
  const made = await Promise.all(Array.from({ length: 100 }, (_, i) => repo.issues.create({ title: `filler ${round}.${i}` })))
  for (const { id } of made) {
    const ids = [...(byPrefix.get(id.slice(0, 4)) ?? []), id]
    byPrefix.set(id.slice(0, 4), ids)
    if (ids.length > 1 && ambiguous === null) ambiguous = id.slice(0, 4)
  }
}
let unusedPrefix = '0000'
for (let n = 0; byPrefix.has(unusedPrefix); n++) unusedPrefix = n.toString(16).padStart(4, '0')

const statsBefore = await repo.events.stats()
const listBefore = await repo.issues.list()
const historyBefore = await repo.issues.history(A)

t.test('the fixture is as intended', async (t) => {
  t.equal(listBefore.length, statsBefore.issues, 'every issue is listed')
  t.ok(statsBefore.lastSeq >= 5, 'the fixture wrote events')
  t.ok(ambiguous !== null, `two issues share a 4-hex prefix (${ambiguous})`)
  t.notOk(listBefore.some((s) => s.id.startsWith(unusedPrefix)), `no issue starts with ${unusedPrefix}`)
})

t.test('rt.repo(): bad path, options, actor, agent', async (t) => {
  mkdirSync(join(box.dir, 'plain'))
  for (const p of [undefined, '', 5, null, ['x'], { path }]) await fails(t, `repo(${JSON.stringify(p)})`, () => looseRt.repo(p), 'INVALID_ARGUMENT', 'path')
  await fails(t, 'repo(missing dir)', () => rt.repo(join(box.dir, 'missing')), 'NOT_FOUND')
  await fails(t, 'repo(not a git repository)', () => rt.repo(join(box.dir, 'plain')), 'NOT_FOUND')
  for (const o of ['x', null, 7]) await fails(t, `repo(path, ${JSON.stringify(o)})`, () => looseRt.repo(path, o), 'INVALID_ARGUMENT', 'options')
  const actor = repo.actor
  for (const a of ['xyz', actor.toUpperCase(), actor.slice(1), `${actor}0`, 5, null, '']) {
    await fails(t, `repo(path, { actor: ${JSON.stringify(a)} })`, () => looseRt.repo(path, { actor: a }), 'INVALID_ARGUMENT', 'actor')
  }
  for (const g of [5, null, true, ['a'], '', ' a', 'a ', 'a\nb', 'a\u0000', 'a\u2028', 'g'.repeat(129)]) {
    await fails(t, `repo(path, { agent: ${ascii(g)} })`, () => looseRt.repo(path, { agent: g }), 'INVALID_ARGUMENT', 'agent')
  }
  await fails(t, 'repo(path, { actor, agent })', () => rt.repo(path, { actor, agent: 'a' }), 'INVALID_ARGUMENT', 'agent')
})

t.test('call options are checked on every method', async (t) => {
  const calls: [string, (opts: unknown) => Promise<unknown>][] = [
    ['create', (o) => issues.create!({ title: 'nope' }, o)],
    ['show', (o) => issues.show!(A, o)],
    ['list', (o) => issues.list!({}, o)],
    ['update', (o) => issues.update!(A, { title: 'nope' }, o)],
    ['comment', (o) => issues.comment!(A, 'nope', o)],
    ['close', (o) => issues.close!(A, o)],
    ['reopen', (o) => issues.reopen!(A, o)],
    ['label', (o) => issues.label!(A, { add: ['nope'] }, o)],
    ['assign', (o) => issues.assign!(A, { add: ['nope'] }, o)],
    ['link', (o) => issues.link!(A, { url: 'https://example.com' }, o)],
    ['attach', (o) => issues.attach!(A, { name: 'f', sha256: SHA, mime: 'text/plain' }, o)],
    ['depend', (o) => issues.depend!(A, { target: C, type: 'related_to' }, o)],
    ['ready', (o) => issues.ready!({}, o)],
    ['topo', (o) => issues.topo!(o)],
    ['history', (o) => issues.history!(A, o)],
    ['events.read', (o) => events.read({}, o)],
    ['events.stats', (o) => events.stats(o)],
  ]
  const aborted = new AbortController()
  aborted.abort()
  const bad: [unknown, string, string | null][] = [
    [{ timeoutMs: -1 }, 'INVALID_ARGUMENT', 'timeoutMs'], [{ timeoutMs: 0 }, 'INVALID_ARGUMENT', 'timeoutMs'],
    [{ timeoutMs: 1.5 }, 'INVALID_ARGUMENT', 'timeoutMs'], [{ timeoutMs: '100' }, 'INVALID_ARGUMENT', 'timeoutMs'],
    [{ timeoutMs: null }, 'INVALID_ARGUMENT', 'timeoutMs'], [{ signal: 'x' }, 'INVALID_ARGUMENT', 'signal'],
    [{ signal: {} }, 'INVALID_ARGUMENT', 'signal'], [{ signal: null }, 'INVALID_ARGUMENT', 'signal'],
    ['x', 'INVALID_ARGUMENT', 'options'], [null, 'INVALID_ARGUMENT', 'options'], [5, 'INVALID_ARGUMENT', 'options'],
  ]
  for (const [name, call] of calls) {
    for (const [opts, code, field] of bad) await fails(t, `${name}(…, ${JSON.stringify(opts)})`, () => call(opts), code, field)
    await fails(t, `${name}(…, { signal: <aborted> })`, () => call({ signal: aborted.signal }), 'ABORTED')
  }
  const writes = calls.slice(0, 12).filter(([n]) => !['show', 'list'].includes(n))
  for (const [name, call] of writes) {
    for (const opId of ['', 5, 'o'.repeat(129), {}]) {
      await fails(t, `${name}(…, { opId: ${JSON.stringify(opId)?.slice(0, 12)} })`, () => call({ opId }), 'INVALID_ARGUMENT', 'opId')
    }
  }
})

t.test('create, update, comment: bad fields', async (t) => {
  for (const f of [undefined, null, 'title', 5, ['t']]) await fails(t, `create(${JSON.stringify(f)})`, () => issues.create!(f), 'INVALID_ARGUMENT', 'fields')
  const create: [unknown, string][] = [
    [{}, 'title'], [{ title: 5 }, 'title'], [{ title: '' }, 'title'], [{ title: '  ' }, 'title'],  [{ title: 't'.repeat(1025) }, 'title'],
    [{ title: 't', body: 5 }, 'body'], [{ title: 't', body: 'b'.repeat(1024 * 1024 + 1) }, 'body'],
    [{ title: 't', labels: 'bug' }, 'labels'], [{ title: 't', labels: Array(65).fill('x') }, 'labels'],
    [{ title: 't', labels: ['ok', ' bug'] }, 'labels[1]'], [{ title: 't', labels: [7] }, 'labels[0]'], [{ title: 't', labels: ['a\u0007'] }, 'labels[0]'],
  ]
  for (const [f, field] of create) await fails(t, `create(${JSON.stringify(f).slice(0, 40)})`, () => issues.create!(f), 'INVALID_ARGUMENT', field)
  for (const f of [undefined, null, 'x', 3]) await fails(t, `update(A, ${JSON.stringify(f)})`, () => issues.update!(A, f), 'INVALID_ARGUMENT', 'fields')
  const update: [unknown, unknown, string][] = [
    [A, {}, 'title'], [A, { title: '' }, 'title'], [A, { title: 3 }, 'title'], [A, { title: 't'.repeat(1025) }, 'title'], [A, { body: 9 }, 'body'],
    [undefined, { title: 'x' }, 'id'], ['abc', { title: 'x' }, 'id'], ['zzzz', { title: 'x' }, 'id'], [42, { title: 'x' }, 'id'],
  ]
  for (const [id, f, field] of update) await fails(t, `update(${JSON.stringify(id)}, ${JSON.stringify(f).slice(0, 30)})`, () => issues.update!(id, f), 'INVALID_ARGUMENT', field)
  for (const b of [undefined, null, '', ' \n', 5, { body: 'x' }]) await fails(t, `comment(A, ${JSON.stringify(b)})`, () => issues.comment!(A, b), 'INVALID_ARGUMENT', 'body')
  for (const id of [undefined, '', 'abc', 'ghij', `${A}0`]) await fails(t, `comment(${JSON.stringify(id)}, 'x')`, () => issues.comment!(id, 'x'), 'INVALID_ARGUMENT', 'id')
})

t.test('show, history, close, reopen: bad ids', async (t) => {
  for (const m of ['show', 'history', 'close', 'reopen']) {
    for (const id of [undefined, null, 5, '', 'abc', 'xyz1', ` ${A.slice(0, 6)}`, `${A}f`, [A]]) {
      await fails(t, `${m}(${JSON.stringify(id)})`, () => issues[m]!(id), 'INVALID_ARGUMENT', 'id')
    }
  }
})

t.test('label, assign, link, attach, depend: bad changes', async (t) => {
  for (const m of ['label', 'assign']) {
    for (const c of [undefined, null, 'x', ['x']]) await fails(t, `${m}(A, ${JSON.stringify(c)})`, () => issues[m]!(A, c), 'INVALID_ARGUMENT', 'change')
    const bad: [unknown, string][] = [
      [{}, 'add'], [{ add: [], remove: [] }, 'add'], [{ add: 'x' }, 'add'], [{ add: ['x'], remove: 'x' }, 'remove'], [{ add: [' x'] }, 'add[0]'],
      [{ remove: ['ok', ''] }, 'remove[1]'], [{ add: ['x', 'y'], remove: ['y'] }, 'remove'], [{ add: Array(65).fill('x') }, 'add'],
    ]
    for (const [c, field] of bad) await fails(t, `${m}(A, ${JSON.stringify(c).slice(0, 30)})`, () => issues[m]!(A, c), 'INVALID_ARGUMENT', field)
    await fails(t, `${m}('abc', { add: ['x'] })`, () => issues[m]!('abc', { add: ['x'] }), 'INVALID_ARGUMENT', 'id')
  }
  for (const l of [undefined, null, 'https://example.com']) await fails(t, `link(A, ${JSON.stringify(l)})`, () => issues.link!(A, l), 'INVALID_ARGUMENT', 'link')
  const link: [unknown, string][] = [
    [{}, 'url'], [{ url: '' }, 'url'], [{ url: 'example.com' }, 'url'], [{ url: 5 }, 'url'], [{ url: 'https://a.b/\n' }, 'url'],
    [{ url: `https://a.b/${'x'.repeat(4096)}` }, 'url'], [{ url: 'https://a.b', note: 5 }, 'note'], [{ url: 'https://a.b', note: 'n'.repeat(4097) }, 'note'],
  ]
  for (const [l, field] of link) await fails(t, `link(A, ${JSON.stringify(l).slice(0, 30)})`, () => issues.link!(A, l), 'INVALID_ARGUMENT', field)
  for (const f of [undefined, null, 'f.txt']) await fails(t, `attach(A, ${JSON.stringify(f)})`, () => issues.attach!(A, f), 'INVALID_ARGUMENT', 'file')
  const file = { name: 'f.txt', sha256: SHA, mime: 'text/plain' }
  const attach: [unknown, string][] = [
    [{}, 'sha256'], [{ ...file, sha256: SHA.toUpperCase() }, 'sha256'], [{ ...file, sha256: SHA.slice(2) }, 'sha256'],
    [{ ...file, mime: 'text' }, 'mime'], [{ ...file, mime: 'text/plain; charset=utf-8' }, 'mime'], [{ ...file, mime: 5 }, 'mime'],
    [{ ...file, name: '' }, 'name'], [{ ...file, name: ' f' }, 'name'], [{ ...file, name: 'a\nb' }, 'name'], [{ ...file, name: 'n'.repeat(513) }, 'name'],
  ]
  for (const [f, field] of attach) await fails(t, `attach(A, ${JSON.stringify(f).slice(0, 40)})`, () => issues.attach!(A, f), 'INVALID_ARGUMENT', field)
  for (const d of [undefined, null, B]) await fails(t, `depend(A, ${JSON.stringify(d)})`, () => issues.depend!(A, d), 'INVALID_ARGUMENT', 'dependency')
  const depend: [unknown, string][] = [
    [{ target: C }, 'type'], [{ target: C, type: 'blocker' }, 'type'], [{ target: C, type: 'BLOCKS' }, 'type'],
    [{ type: 'blocks' }, 'target'], [{ target: 'abc', type: 'blocks' }, 'target'], [{ target: 5, type: 'blocks' }, 'target'],
    [{ target: C, type: 'blocks', remove: 'yes' }, 'remove'], [{ target: C, type: 'blocks', remove: null }, 'remove'],
  ]
  for (const [d, field] of depend) await fails(t, `depend(A, ${JSON.stringify(d).slice(0, 40)})`, () => issues.depend!(A, d), 'INVALID_ARGUMENT', field)
  await fails(t, 'depend(\'abc\', …)', () => issues.depend!('abc', { target: C, type: 'blocks' }), 'INVALID_ARGUMENT', 'id')
})

t.test('list, ready, topo: bad filters', async (t) => {
  for (const f of [null, 'open', 5, ['open']]) await fails(t, `list(${JSON.stringify(f)})`, () => issues.list!(f), 'INVALID_ARGUMENT', 'filter')
  for (const s of ['', 'opened', 'ALL', 1]) await fails(t, `list({ state: ${JSON.stringify(s)} })`, () => issues.list!({ state: s }), 'INVALID_ARGUMENT', 'state')
  for (const field of ['label', 'assignee']) {
    for (const v of ['', 'l'.repeat(129), 5, ['x']]) await fails(t, `list({ ${field}: … })`, () => issues.list!({ [field]: v }), 'INVALID_ARGUMENT', field)
  }
  for (const f of [null, 'x', 5]) await fails(t, `ready(${JSON.stringify(f)})`, () => issues.ready!(f), 'INVALID_ARGUMENT', 'filter')
  for (const v of ['', 'l'.repeat(129), 5]) await fails(t, `ready({ label: ${JSON.stringify(v).slice(0, 12)} })`, () => issues.ready!({ label: v }), 'INVALID_ARGUMENT', 'label')
  await fails(t, 'topo("x")', () => issues.topo!('x'), 'INVALID_ARGUMENT', 'options')
  for (const v of [0, -1, 1.5, '3']) await fails(t, `topo({ limit: ${JSON.stringify(v)} })`, () => issues.topo!({ limit: v }), 'INVALID_ARGUMENT', 'limit')
})

t.test('events.read: bad range', async (t) => {
  for (const r of [null, 'x', 5]) await fails(t, `read(${JSON.stringify(r)})`, () => events.read(r), 'INVALID_ARGUMENT', 'range')
  for (const v of [0, -1, 1.5, '1', Number.MAX_SAFE_INTEGER + 1]) await fails(t, `read({ fromSeq: ${v} })`, () => events.read({ fromSeq: v }), 'INVALID_ARGUMENT', 'fromSeq')
  for (const v of [0, 1001, 2.5, '10']) await fails(t, `read({ limit: ${v} })`, () => events.read({ limit: v }), 'INVALID_ARGUMENT', 'limit')
})

t.test('events.subscribe: bad options throw synchronously', async (t) => {
  const bad: [unknown, string][] = [
    ['x', 'options'], [null, 'options'], [5, 'options'], [{ fromSeq: 0 }, 'fromSeq'], [{ fromSeq: -1 }, 'fromSeq'], [{ fromSeq: 1.5 }, 'fromSeq'],
    [{ fromSeq: '1' }, 'fromSeq'], [{ fromSeq: NaN }, 'fromSeq'], [{ fromSeq: Number.MAX_SAFE_INTEGER + 1 }, 'fromSeq'], [{ pageSize: 0 }, 'pageSize'],
    [{ pageSize: 1001 }, 'pageSize'], [{ pageSize: 2.5 }, 'pageSize'], [{ pageSize: '10' }, 'pageSize'], [{ signal: 'x' }, 'signal'], [{ signal: {} }, 'signal'],
  ]
  for (const [opts, field] of bad) {
    let err: unknown
    try {
      events.subscribe(opts)
    } catch (e) {
      err = e
    }
    t.same({ sync: err instanceof CairnError, code: (err as CairnError)?.code, field: (err as CairnError)?.details?.field },
      { sync: true, code: 'INVALID_ARGUMENT', field }, `subscribe(${String(JSON.stringify(opts))}) throws INVALID_ARGUMENT ${field} at the call`)
  }
})

t.test('unknown ids, ambiguous prefixes, self-dependencies, cycles', async (t) => {
  const byId = [
    ['show', (id: string) => issues.show!(id)], ['history', (id: string) => issues.history!(id)],
    ['update', (id: string) => issues.update!(id, { title: 'nope' })], ['comment', (id: string) => issues.comment!(id, 'nope')],
    ['close', (id: string) => issues.close!(id)], ['reopen', (id: string) => issues.reopen!(id)],
    ['label', (id: string) => issues.label!(id, { add: ['nope'] })], ['assign', (id: string) => issues.assign!(id, { add: ['nope'] })],
    ['link', (id: string) => issues.link!(id, { url: 'https://example.com' })],
    ['attach', (id: string) => issues.attach!(id, { name: 'f', sha256: SHA, mime: 'text/plain' })],
    ['depend', (id: string) => issues.depend!(id, { target: C, type: 'related_to' })],
  ] as const
  for (const [m, call] of byId) {
    await fails(t, `${m}(unknown full id)`, () => call(UNKNOWN), 'NOT_FOUND', 'id')
    await fails(t, `${m}(unknown prefix ${unusedPrefix})`, () => call(unusedPrefix), 'NOT_FOUND', 'id')
    if (ambiguous !== null) {
      const err = await fails(t, `${m}(shared prefix ${ambiguous.toUpperCase()})`, () => call(ambiguous!.toUpperCase()), 'AMBIGUOUS_ID', 'id')
      t.same(err?.details?.candidates, byPrefix.get(ambiguous)!.toSorted().slice(0, 5), `${m}: the candidates are the issues with that prefix`)
    }
  }
  await fails(t, 'depend(A, unknown target)', () => repo.issues.depend(A, { target: UNKNOWN, type: 'blocks' }), 'NOT_FOUND', 'target')
  await fails(t, 'depend(A, unknown target prefix)', () => repo.issues.depend(A, { target: unusedPrefix, type: 'blocks' }), 'NOT_FOUND', 'target')
  if (ambiguous !== null) {
    await fails(t, 'depend(A, ambiguous target)', () => repo.issues.depend(A, { target: ambiguous!, type: 'blocks' }), 'AMBIGUOUS_ID', 'target')
  }
  for (const type of ['blocks', 'depends_on', 'related_to'] as const) {
    await fails(t, `depend(A, A, ${type})`, () => repo.issues.depend(A, { target: A, type }), 'INVALID_ARGUMENT', 'target')
    await fails(t, `depend(A, prefix of A, ${type})`, () => repo.issues.depend(A.slice(0, 8), { target: A.slice(0, 12).toUpperCase(), type }), 'INVALID_ARGUMENT', 'target')
  }
  const c1 = await fails(t, 'depend(C, blocks A) with A blocks B blocks C', () => repo.issues.depend(C, { target: A, type: 'blocks' }), 'CYCLE')
  t.same(c1?.details?.cycle, [C, A, B, C], 'details.cycle is the cycle the edge would close')
  const c2 = await fails(t, 'depend(A, depends_on C)', () => repo.issues.depend(A, { target: C, type: 'depends_on' }), 'CYCLE')
  t.same(c2?.details?.cycle, [C, A, B, C])
  const c3 = await fails(t, 'depend(B, blocks A)', () => repo.issues.depend(B, { target: A, type: 'blocks' }), 'CYCLE')
  t.same(c3?.details?.cycle, [B, A, B])
})

t.test('values msgpack cannot carry are refused, not crashed on', async (t) => {
  const huge = 2n ** 70n
  await fails(t, 'create({ title: 2n ** 70n })', () => issues.create!({ title: huge }), 'INVALID_ARGUMENT')
  await fails(t, 'create({ title, labels: [2n ** 70n] })', () => issues.create!({ title: 't', labels: [huge] }), 'INVALID_ARGUMENT')
  await fails(t, 'create({ title: Symbol() })', () => issues.create!({ title: Symbol('s') }), 'INVALID_ARGUMENT')
  await fails(t, 'comment(A, 2n ** 70n)', () => issues.comment!(A, huge), 'INVALID_ARGUMENT')
  await fails(t, 'show(2n ** 70n)', () => issues.show!(huge), 'INVALID_ARGUMENT')
  await fails(t, 'create({ title: function })', () => issues.create!({ title: () => 'x' }), 'INVALID_ARGUMENT', 'title')
  await fails(t, 'create({ title, labels: [function] })', () => issues.create!({ title: 't', labels: [() => 'x'] }), 'INVALID_ARGUMENT', 'labels[0]')
  await fails(t, 'comment(A, function)', () => issues.comment!(A, () => 'x'), 'INVALID_ARGUMENT', 'body')
  await fails(t, 'show(function)', () => issues.show!(() => A), 'INVALID_ARGUMENT', 'id')
  await fails(t, 'create({ title: 5n })', () => issues.create!({ title: 5n }), 'INVALID_ARGUMENT', 'title')
  t.equal((await repo.issues.show(A)).title, 'A', 'the RepoWorker still answers')
})

/**
 * Inputs msgpack would alter on the way to the RepoWorker (lone surrogates
 * become U+FFFD, functions undefined) are refused on the caller's side,
 * naming the field. Each must neither succeed nor write.
 */
t.test('inputs msgpack would silently alter are refused and write nothing', async (t) => {
  const edgePath = box.repo('edge')
  const edge = await rt.repo(edgePath, { agent: 'e' })
  const e = edge.issues as unknown as Loose
  const E1 = (await edge.issues.create({ title: 'E1' })).id
  const E2 = (await edge.issues.create({ title: 'E2' })).id
  const fn = (): string => 'x'
  const cases: [string, () => unknown, string][] = [
    ['create({ title: lone surrogate })', () => e.create!({ title: 'a\udc00' }), 'title'],
    ['comment(E1, lone surrogate)', () => e.comment!(E1, 'x\ud800'), 'body'],
    ['label(E1, { add: [lone surrogate] })', () => e.label!(E1, { add: ['a\ud800'] }), 'add[0]'],
    ['attach(E1, { name: lone surrogate })', () => e.attach!(E1, { name: '\udc00.txt', sha256: SHA, mime: 'text/plain' }), 'name'],
    ['repo(path, { agent: lone surrogate })', () => rt.repo(edgePath, { agent: 'a\ud800' }), 'agent'],
    ['create({ title, body: function })', () => e.create!({ title: 't', body: fn }), 'body'],
    ['update(E1, { title, body: function })', () => e.update!(E1, { title: 't', body: fn }), 'body'],
    ['link(E1, { url, note: function })', () => e.link!(E1, { url: 'https://example.com', note: fn }), 'note'],
    ['depend(E1, { target, type, remove: function })', () => e.depend!(E1, { target: E2, type: 'blocks', remove: fn }), 'remove'],
    ['create({ title }, { opId: function })', () => e.create!({ title: 't' }, { opId: fn }), 'opId'],
    ['depend(E1, { target: E1, remove: true }) (self-dependency)', () => e.depend!(E1, { target: E1, type: 'blocks', remove: true }), 'target'],
    ['create({ title: 2n ** 70n }) names the field', () => e.create!({ title: 2n ** 70n }), 'title'],
  ]
  for (const [what, call, field] of cases) {
    t.test(what, async (t) => {
      const before = await edge.events.stats()
      await fails(t, what, call, 'INVALID_ARGUMENT', field)
      t.equal((await edge.events.stats()).lastSeq, before.lastSeq, 'nothing was written')
    })
  }
})

t.test('after all the bad calls nothing was written', async (t) => {
  // The outbox drains into git on its own; what writes would change is the log.
  const written = ({ lastSeq, events, issues }: { lastSeq: number; events: number; issues: number }) => ({ lastSeq, events, issues })
  t.same(written(await repo.events.stats()), written(statsBefore), 'event stats (lastSeq, events, issues) unchanged')
  t.same(await repo.issues.list(), listBefore, 'the issue list is unchanged')
  t.same(await repo.issues.history(A), historyBefore, 'A\'s history is unchanged')
  const ok = await repo.issues.comment(A, 'still works')
  t.equal(ok.seq, statsBefore.lastSeq + 1, 'a good write after them gets the next seq')
})
