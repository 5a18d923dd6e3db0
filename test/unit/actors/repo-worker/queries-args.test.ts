/**
 * query(): argument validation of the RepoWorker's read side, over a real
 * LMDB store seeded with issues whose ids we choose (so prefixes can be made
 * ambiguous on purpose). Bad arguments are INVALID_ARGUMENT naming the field;
 * unknown ids NOT_FOUND, shared prefixes AMBIGUOUS_ID; nothing is written.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CairnError } from '../../../../protocol/errors.ts'
import { computeEventId } from '../../../../protocol/events/canonical.ts'
import { MESSAGE_TYPES as M } from '../../../../protocol/messages.ts'
import { openStore } from '../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from '../../../../actors/repo-worker/store/dbs.ts'
import { EventStore } from '../../../../actors/repo-worker/store/event-store.ts'
import { MAX_PAGE, query } from '../../../../actors/repo-worker/queries.ts'
import { assertCoded } from '../../../helpers/coded-error.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const ACTOR = '1'.repeat(32)
// Six issues sharing 'abcd' (more than resolve's candidate limit of 5), two sharing 'beef0', one alone.
const ABCD = Array.from({ length: 6 }, (_, i) => `abcd${String(i).repeat(28)}`)
const BEEF = ['beef0' + '1'.repeat(27), 'beef0' + '2'.repeat(27)]
const LONE = 'c0ffee' + '0'.repeat(26)
const ALL = [...ABCD, ...BEEF, LONE]

const dir = mkdtempSync(join(tmpdir(), 'cairn-queries-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const env = await openStore(dir, 'repo')
t.teardown(() => env.close())
const store = new EventStore(openRepoDbs(env))

env.transactionSync(() => {
  const batch = store.batch()
  ALL.forEach((issueId, i) => {
    const input = { issueId, actor: ACTOR, tsUnixMs: 1000 + i, parent: null, kind: { type: 'IssueCreated' as const, title: `t${i}`, body: '', labels: i % 2 ? ['odd'] : [] } }
    batch.ingest({ ...input, eventId: computeEventId(input) }, true)
  })
  batch.finish()
  store.adopt(batch)
})

const ask = (type: string, body: unknown): unknown => query(store, type, body)

/** Asserts the query fails with `code` and (when given) `details.field`. */
function fails(t: Test, type: string, body: unknown, code: string, field: string | null, what: string): CairnError | undefined {
  let err: unknown
  let value: unknown
  try {
    value = ask(type, body)
  } catch (e) {
    err = e
  }
  return assertCoded(t, err, value, code, field, `${type}: ${what} -> ${code}${field ? ` ${field}` : ''}`)
}

const snapshot = () => ({
  lastSeq: store.lastSeq,
  log: store.dbs.log.getCount(),
  issues: store.dbs.issues.getCount(),
  outbox: store.dbs.outbox.getCount(),
})
const before = snapshot()

t.test('the seeded store answers valid queries', async (t) => {
  t.same(before, { lastSeq: ALL.length, log: ALL.length, issues: ALL.length, outbox: ALL.length })
  t.equal((ask(M.issueShow, { id: 'C0FFEE' }) as { id: string }).id, LONE, 'a unique prefix resolves, case-insensitively')
  t.equal((ask(M.issueShow, { id: BEEF[1] }) as { id: string }).id, BEEF[1], 'a full id resolves')
  t.equal((ask(M.issueList, {}) as unknown[]).length, ALL.length, 'list defaults to all states')
  t.equal((ask(M.issueList, null) as unknown[]).length, ALL.length, 'a null body is an empty body')
  t.same((ask(M.issueList, { state: 'open', label: 'odd' }) as { id: string }[]).map((s) => s.id), ALL.filter((_, i) => i % 2))
  t.same(ask(M.issueList, { state: 'closed' }), [])
  t.equal((ask(M.issueReady, { label: 'odd' }) as unknown[]).length, 4)
  t.equal((ask(M.issueHistory, { id: 'beef02' }) as unknown[]).length, 1)
  t.same((ask(M.eventsRead, { fromSeq: 2, limit: 3 }) as { seq: number }[]).map((e) => e.seq), [2, 3, 4])
  t.equal((ask(M.eventsRead, { limit: MAX_PAGE }) as unknown[]).length, ALL.length, `limit ${MAX_PAGE} is allowed`)
  t.same(ask(M.eventsRead, { fromSeq: Number.MAX_SAFE_INTEGER }), [], 'fromSeq beyond the log is an empty page')
  t.same(ask(M.eventsStats, {}), { lastSeq: ALL.length, events: ALL.length, issues: ALL.length, outbox: ALL.length })
})

t.test('a body that is not an object, or an unknown query type', async (t) => {
  for (const type of [M.issueShow, M.issueList, M.issueReady, M.issueTopo, M.issueHistory, M.eventsRead, M.eventsStats]) {
    for (const body of ['x', 3, true, [], [{ id: LONE }]]) fails(t, type, body, 'INVALID_ARGUMENT', 'body', `body ${JSON.stringify(body)}`)
  }
  fails(t, 'issues.bogus', {}, 'UNKNOWN_MESSAGE', null, 'an unknown type')
  fails(t, M.issueCreate, { title: 'x' }, 'UNKNOWN_MESSAGE', null, 'a command type is not a query')
})

t.test('show and history: bad, unknown and ambiguous ids', async (t) => {
  for (const type of [M.issueShow, M.issueHistory]) {
    for (const id of [undefined, null, 12345, '', 'abc', `${LONE}0`, 'abcz', ' abcd', ['abcd'], { id: LONE }]) {
      fails(t, type, id === undefined ? {} : { id }, 'INVALID_ARGUMENT', 'id', `id ${JSON.stringify(id)}`)
    }
    fails(t, type, { id: 'f'.repeat(32) }, 'NOT_FOUND', 'id', 'an unknown full id')
    fails(t, type, { id: 'dead' }, 'NOT_FOUND', 'id', 'an unknown prefix')
    fails(t, type, { id: `${LONE.slice(0, 31)}1` }, 'NOT_FOUND', 'id', 'a full id differing in its last character')
    const two = fails(t, type, { id: 'BEEF0' }, 'AMBIGUOUS_ID', 'id', 'a prefix of two issues')
    t.same(two?.details?.candidates, BEEF, 'both candidates are named')
    const many = fails(t, type, { id: 'abcd' }, 'AMBIGUOUS_ID', 'id', 'a prefix of six issues')
    t.same(many?.details?.candidates, ABCD.slice(0, 5), 'at most five candidates are named')
    t.match(many?.message, /more than 5/, 'the message says there are more than five')
  }
})

t.test('list and ready: bad filters', async (t) => {
  for (const state of ['', 'opened', 'ALL', 'Open', 1, true, ['open']]) {
    fails(t, M.issueList, { state }, 'INVALID_ARGUMENT', 'state', `state ${JSON.stringify(state)}`)
  }
  const badNames: unknown[] = ['', 'l'.repeat(129), 5, ['bug'], { name: 'bug' }, false]
  for (const field of ['label', 'assignee']) {
    for (const v of badNames) fails(t, M.issueList, { [field]: v }, 'INVALID_ARGUMENT', field, `${field} ${JSON.stringify(v)?.slice(0, 20)}`)
  }
  for (const v of badNames) fails(t, M.issueReady, { label: v }, 'INVALID_ARGUMENT', 'label', `label ${JSON.stringify(v)?.slice(0, 20)}`)
  t.same(ask(M.issueList, { label: 'l'.repeat(128) }), [], 'a 128-character label is a valid (unmatched) filter')
})

t.test('events.read: bad cursor and page size', async (t) => {
  const bad: unknown[] = [0, -1, 1.5, '1', NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, true, [1], {}]
  for (const fromSeq of bad) fails(t, M.eventsRead, { fromSeq }, 'INVALID_ARGUMENT', 'fromSeq', `fromSeq ${String(fromSeq)}`)
  for (const limit of [...bad, MAX_PAGE + 1]) fails(t, M.eventsRead, { limit }, 'INVALID_ARGUMENT', 'limit', `limit ${String(limit)}`)
})

t.test('no query wrote anything', async (t) => {
  t.same(snapshot(), before, 'log, issues and outbox are as seeded')
})
