import t from 'tap'
import type { CairnEvent } from '../../../../../protocol/events/types.ts'
import {
  applyEvent,
  detachLists,
  emptyIssue,
  markLists,
  restoreLists,
  ingestEvent,
  projectIssue,
  sortsAfter,
} from '../../../../../actors/repo-worker/projection/issue.ts'
import { compareEvents } from '../../../../../actors/repo-worker/projection/order.ts'
import { ACTOR_1, ACTOR_2, ACTOR_3, ISSUE_A, ISSUE_B, created, ev, eventId } from './fixtures/events.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

/** Projects in the given order and reversed, and checks both agree. */
function both(t: Test, events: CairnEvent[]) {
  const p = projectIssue(ISSUE_A, events)
  t.strictSame(projectIssue(ISSUE_A, [...events].reverse()), p, 'order-independent')
  return p
}

const upd = (ts: number, actor: string, title: string | null, body: string | null = null, id?: string) =>
  ev(ISSUE_A, ts, actor, { type: 'IssueUpdated', title, body }, id)
const state = (ts: number, actor: string, s: 'open' | 'closed', id?: string) =>
  ev(ISSUE_A, ts, actor, { type: 'StateChanged', state: s }, id)

t.test('IssueCreated sets the fields and the creation stamp', async (t) => {
  const c = created(ISSUE_A, 100, 'Fix it', ACTOR_2, ['z', 'a', 'z'])
  const p = projectIssue(ISSUE_A, [c])
  t.match(p, {
    id: ISSUE_A,
    title: 'Fix it',
    body: 'Fix it body',
    state: 'open',
    labels: ['a', 'z'],
    createdAt: 100,
    createdBy: ACTOR_2,
    incomplete: false,
    updatedAt: 100,
    eventCount: 1,
    lastEventId: c.eventId,
    lastEvent: { tsUnixMs: 100, actor: ACTOR_2, eventId: c.eventId },
  })
})

t.test('title and body are last-writer-wins on the event order', async (t) => {
  const p = both(t, [created(ISSUE_A, 1), upd(3, ACTOR_1, 'three'), upd(2, ACTOR_2, 'two', 'body two')])
  t.equal(p.title, 'three', 'larger ts wins')
  t.equal(p.body, 'body two', 'a null title keeps the body independent')
})

t.test('a ts tie is broken by actor, then by event id', async (t) => {
  let p = both(t, [created(ISSUE_A, 1), upd(5, ACTOR_2, 'by 2'), upd(5, ACTOR_1, 'by 1')])
  t.equal(p.title, 'by 2', 'larger actor wins')
  p = both(t, [created(ISSUE_A, 1), upd(5, ACTOR_1, 'low', null, eventId(1)), upd(5, ACTOR_1, 'high', null, eventId(2))])
  t.equal(p.title, 'high', 'larger event id wins')
})

t.test('IssueUpdated with null or absent fields changes nothing of them', async (t) => {
  const absent = ev(ISSUE_A, 3, ACTOR_1, { type: 'IssueUpdated' })
  const p = both(t, [created(ISSUE_A, 1, 'keep'), upd(2, ACTOR_1, null, 'new body'), absent])
  t.equal(p.title, 'keep')
  t.equal(p.body, 'new body')
  t.equal(p.eventCount, 3)
  t.equal(p.updatedAt, 3)
})

t.test('an empty string is a value, not an absence', async (t) => {
  t.equal(both(t, [created(ISSUE_A, 1), upd(2, ACTOR_1, '')]).title, '')
})

t.test('state is last-writer-wins with the same tie-breaks', async (t) => {
  t.equal(both(t, [created(ISSUE_A, 1), state(3, ACTOR_1, 'closed'), state(2, ACTOR_1, 'open')]).state, 'closed')
  t.equal(both(t, [created(ISSUE_A, 1), state(3, ACTOR_1, 'closed'), state(3, ACTOR_3, 'open')]).state, 'open')
  const lo = state(3, ACTOR_1, 'open', eventId(1))
  const hi = state(3, ACTOR_1, 'closed', eventId(2))
  t.equal(both(t, [created(ISSUE_A, 1), hi, lo]).state, 'closed')
})

t.test('IssueCreated reopens when it sorts last (a skewed clock)', async (t) => {
  const p = both(t, [state(50, ACTOR_2, 'closed'), upd(60, ACTOR_2, 'early edit'), created(ISSUE_A, 100, 'created')])
  t.equal(p.state, 'open')
  t.equal(p.title, 'created')
  t.equal(p.createdAt, 100)
  t.equal(p.updatedAt, 100)
})

t.test('labels and assignees: add and remove applied in order', async (t) => {
  const lab = (ts: number, actor: string, add: boolean, label: string) =>
    ev(ISSUE_A, ts, actor, add ? { type: 'LabelAdded', label } : { type: 'LabelRemoved', label })
  const who = (ts: number, add: boolean, user: string) =>
    ev(ISSUE_A, ts, ACTOR_1, add ? { type: 'AssigneeAdded', user } : { type: 'AssigneeRemoved', user })
  const p = both(t, [
    created(ISSUE_A, 1, 't', ACTOR_1, ['bug']),
    lab(2, ACTOR_1, false, 'bug'),
    lab(3, ACTOR_1, true, 'p1'),
    lab(2, ACTOR_1, true, 'p1'),
    lab(4, ACTOR_1, false, 'p1'),
    lab(5, ACTOR_1, true, 'p1'),
    lab(6, ACTOR_2, false, 'x'),
    lab(6, ACTOR_1, true, 'x'),
    lab(7, ACTOR_1, true, 'ui'),
    lab(7, ACTOR_1, true, 'api'),
    who(2, true, 'zoe'),
    who(3, true, 'al'),
    who(4, false, 'zoe'),
    who(5, false, 'nobody'),
  ])
  t.strictSame(p.labels, ['api', 'p1', 'ui'], 'removes win only when they sort later; sorted')
  t.strictSame(p.assignees, ['al'])
})

t.test('dependencies are a set keyed by target and type', async (t) => {
  const dep = (ts: number, add: boolean, target: string, depType: 'blocks' | 'depends_on' | 'related_to') =>
    ev(ISSUE_A, ts, ACTOR_1, add ? { type: 'DependencyAdded', target, depType } : { type: 'DependencyRemoved', target, depType })
  const p = both(t, [
    created(ISSUE_A, 1),
    dep(2, true, ISSUE_B, 'depends_on'),
    dep(3, true, ISSUE_B, 'blocks'),
    dep(4, false, ISSUE_B, 'blocks'),
    dep(5, true, ISSUE_B, 'related_to'),
    dep(6, true, '0'.repeat(32), 'blocks'),
    dep(7, true, ISSUE_B, 'depends_on'),
  ])
  t.strictSame(p.dependencies, [
    { target: '0'.repeat(32), depType: 'blocks' },
    { target: ISSUE_B, depType: 'depends_on' },
    { target: ISSUE_B, depType: 'related_to' },
  ])
})

t.test('comments, links and attachments are lists in event order with their origin', async (t) => {
  const c2 = ev(ISSUE_A, 5, ACTOR_2, { type: 'CommentAdded', body: 'second' })
  const c1 = ev(ISSUE_A, 5, ACTOR_1, { type: 'CommentAdded', body: 'first' })
  const l1 = ev(ISSUE_A, 3, ACTOR_1, { type: 'LinkAdded', url: 'https://a' })
  const l2 = ev(ISSUE_A, 4, ACTOR_1, { type: 'LinkAdded', url: 'https://b', note: 'n' })
  const a1 = ev(ISSUE_A, 6, ACTOR_3, { type: 'AttachmentAdded', name: 'log.txt', sha256: 'ab'.repeat(32), mime: 'text/plain' })
  const p = both(t, [c2, a1, l2, created(ISSUE_A, 1), c1, l1])
  t.strictSame(p.comments, [
    { eventId: c1.eventId, actor: ACTOR_1, tsUnixMs: 5, body: 'first' },
    { eventId: c2.eventId, actor: ACTOR_2, tsUnixMs: 5, body: 'second' },
  ])
  t.strictSame(p.links, [
    { eventId: l1.eventId, actor: ACTOR_1, tsUnixMs: 3, url: 'https://a', note: null },
    { eventId: l2.eventId, actor: ACTOR_1, tsUnixMs: 4, url: 'https://b', note: 'n' },
  ])
  t.strictSame(p.attachments, [
    { eventId: a1.eventId, actor: ACTOR_3, tsUnixMs: 6, name: 'log.txt', sha256: 'ab'.repeat(32), mime: 'text/plain' },
  ])
})

t.test('duplicates are applied once', async (t) => {
  const c = created(ISSUE_A, 1)
  const comment = ev(ISSUE_A, 2, ACTOR_1, { type: 'CommentAdded', body: 'once' })
  const p = projectIssue(ISSUE_A, [comment, c, comment, c, comment])
  t.strictSame(p, projectIssue(ISSUE_A, [c, comment]))
  t.equal(p.comments.length, 1)
  t.equal(p.eventCount, 2)
})

t.test('an issue without IssueCreated projects as incomplete', async (t) => {
  const comment = ev(ISSUE_A, 7, ACTOR_2, { type: 'CommentAdded', body: 'hi' })
  const closed = state(8, ACTOR_2, 'closed')
  const p = both(t, [closed, comment])
  t.match(p, { title: '', body: '', state: 'closed', incomplete: true, createdAt: null, createdBy: null, updatedAt: 8, eventCount: 2 })
  const done = projectIssue(ISSUE_A, [comment, closed, created(ISSUE_A, 5, 'late')])
  t.match(done, { title: 'late', state: 'closed', incomplete: false, createdAt: 5 })
})

t.test('a second IssueCreated acts as an update; the first keeps the stamp', async (t) => {
  const p = both(t, [created(ISSUE_A, 1, 'one', ACTOR_1, ['a']), state(2, ACTOR_1, 'closed'), created(ISSUE_A, 3, 'two', ACTOR_2, ['b'])])
  t.match(p, { title: 'two', state: 'open', labels: ['a', 'b'], createdAt: 1, createdBy: ACTOR_1 })
})

t.test('context events are not issue events', async (t) => {
  const ctx = ev(ISSUE_A, 9, ACTOR_1, { type: 'ProjectContextUpdated', key: 'k', value: 'v' })
  const p = projectIssue(ISSUE_A, [created(ISSUE_A, 1), ctx])
  t.match(p, { eventCount: 1, updatedAt: 1 })
  t.equal(applyEvent(p, ctx), p)
  t.throws(() => projectIssue(ISSUE_A, [ctx]), { code: 'NOT_FOUND' })
  t.throws(() => ingestEvent(p, ctx, () => []), { code: 'INVALID_ARGUMENT' })
})

t.test('bad input is refused with a code', async (t) => {
  t.throws(() => projectIssue(ISSUE_A, []), { code: 'NOT_FOUND' })
  t.throws(() => projectIssue(ISSUE_A, [created(ISSUE_B, 1)]), { code: 'INVALID_ARGUMENT' })
  t.throws(() => projectIssue(ISSUE_A, [created(ISSUE_A, Number.NaN)]), { code: 'INVALID_ARGUMENT' })
  t.throws(() => projectIssue(ISSUE_A, [created(ISSUE_A, 1.5)]), { code: 'INVALID_ARGUMENT' })
  t.throws(() => applyEvent(emptyIssue(ISSUE_A), created(ISSUE_B, 1)), { code: 'INVALID_ARGUMENT' })
  const unknown = { ...created(ISSUE_A, 1), kind: { type: 'FutureKind' } } as unknown as CairnEvent
  t.throws(() => projectIssue(ISSUE_A, [unknown]), { code: 'SCHEMA_MISMATCH' })
})

t.test('incremental apply in order equals the full projection', async (t) => {
  const events = [
    created(ISSUE_A, 1),
    upd(2, ACTOR_1, 'x'),
    ev(ISSUE_A, 2, ACTOR_2, { type: 'LabelAdded', label: 'l' }),
    ev(ISSUE_A, 3, ACTOR_1, { type: 'CommentAdded', body: 'c' }),
    state(4, ACTOR_1, 'closed'),
  ]
  let p = emptyIssue(ISSUE_A)
  for (const e of [...events].sort(compareEvents)) {
    t.ok(sortsAfter(p, e))
    p = applyEvent(p, e)
  }
  t.strictSame(p, projectIssue(ISSUE_A, events))
})

t.test('applyEvent refuses a late event and ignores a redelivered last one', async (t) => {
  const c = created(ISSUE_A, 1)
  const last = upd(5, ACTOR_1, 'last')
  const p = projectIssue(ISSUE_A, [c, last])
  const late = upd(3, ACTOR_2, 'late')
  t.notOk(sortsAfter(p, late))
  t.notOk(sortsAfter(p, last))
  t.ok(sortsAfter(p, upd(5, ACTOR_2, 'tie, larger actor')))
  t.equal(applyEvent(p, last), p)
  t.throws(() => applyEvent(p, late), { name: 'CairnError', code: 'INVALID_ARGUMENT' })
  t.throws(() => applyEvent(p, c), { code: 'INVALID_ARGUMENT' }, 'an old duplicate is refused too')
})

t.test('applyEvent does not modify its input', async (t) => {
  const p = projectIssue(ISSUE_A, [created(ISSUE_A, 1, 't', ACTOR_1, ['a'])])
  const snapshot = structuredClone(p)
  applyEvent(p, ev(ISSUE_A, 2, ACTOR_1, { type: 'LabelAdded', label: 'b' }))
  applyEvent(p, ev(ISSUE_A, 2, ACTOR_1, { type: 'CommentAdded', body: 'b' }))
  t.strictSame(p, snapshot)
})

t.test('a consuming step shares the lists, equals the copying one, and is undone by restoring the marks', async (t) => {
  const p = projectIssue(ISSUE_A, [created(ISSUE_A, 1), ev(ISSUE_A, 2, ACTOR_1, { type: 'CommentAdded', body: 'first' })])
  const snapshot = structuredClone(p)
  const events = [
    ev(ISSUE_A, 3, ACTOR_1, { type: 'CommentAdded', body: 'second' }),
    ev(ISSUE_A, 4, ACTOR_1, { type: 'LinkAdded', url: 'https://x', note: null }),
    ev(ISSUE_A, 5, ACTOR_1, { type: 'AttachmentAdded', name: 'a', sha256: 'f'.repeat(64), mime: 'text/plain' }),
  ]
  const copied = events.reduce((q, e) => applyEvent(q, e), p)
  const marks = markLists(p)
  const consumed = events.reduce((q, e) => applyEvent(q, e, { consume: true }), p)
  t.strictSame(consumed, copied, 'the same projection as the copying fold')
  t.equal(consumed.comments, p.comments, 'built on the input\'s own comment list')
  const kept = detachLists(consumed)
  restoreLists(marks)
  t.strictSame(p, snapshot, 'restoring the marks gives the input back as it was')
  t.strictSame(kept, copied, 'a detached copy keeps what it saw')
})

t.test('projecting many comments: one list, all of them in order', async (t) => {
  const n = 20_000
  const events = [created(ISSUE_A, 1), ...Array.from({ length: n }, (_, i) => ev(ISSUE_A, 2 + i, ACTOR_1, { type: 'CommentAdded', body: `c${i}` }))]
  const p = projectIssue(ISSUE_A, events)
  t.equal(p.comments.length, n)
  t.equal(p.comments[n - 1]?.body, `c${n - 1}`)
  t.equal(p.eventCount, n + 1)
})

t.test('a late event re-projects its issue and equals the full projection', async (t) => {
  const history = [created(ISSUE_A, 1), upd(10, ACTOR_1, 'newer'), state(12, ACTOR_1, 'closed')]
  const current = projectIssue(ISSUE_A, history)
  const late = upd(5, ACTOR_2, 'older', 'late body')
  const lateState = state(11, ACTOR_3, 'open')
  const r1 = ingestEvent(current, late, () => history)
  t.equal(r1.reprojected, true)
  t.strictSame(r1.projection, projectIssue(ISSUE_A, [...history, late]))
  t.match(r1.projection, { title: 'newer', body: 'late body' })
  const r2 = ingestEvent(r1.projection, lateState, () => [...history, late])
  t.equal(r2.projection.state, 'closed', 'an older state change loses')
  const fresh = state(13, ACTOR_2, 'open')
  const r3 = ingestEvent(r2.projection, fresh, () => [...history, late, lateState])
  t.equal(r3.reprojected, false)
  t.equal(r3.projection.state, 'open')
  t.strictSame(ingestEvent(r3.projection, fresh, () => []), { projection: r3.projection, reprojected: false })
  t.strictSame(ingestEvent(undefined, late, () => []).projection, projectIssue(ISSUE_A, [late]))
})
