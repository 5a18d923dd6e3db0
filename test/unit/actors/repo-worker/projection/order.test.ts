import t from 'tap'
import { compareEvents, eventKey, sortUnique } from '../../../../../actors/repo-worker/projection/order.ts'
import { ACTOR_1, ACTOR_2, ISSUE_A, ev, eventId } from './fixtures/events.ts'

const key = (tsUnixMs: number, actor: string, id: string) => ({ tsUnixMs, actor, eventId: id })

t.test('timestamps compare as numbers, not as strings', async (t) => {
  t.equal(compareEvents(key(9, 'b', 'b'), key(10, 'a', 'a')), -1)
  t.equal(compareEvents(key(10, 'a', 'a'), key(9, 'b', 'b')), 1)
})

t.test('equal timestamps: the actor decides, then the event id', async (t) => {
  t.equal(compareEvents(key(5, ACTOR_1, 'ff'), key(5, ACTOR_2, '00')), -1)
  t.equal(compareEvents(key(5, ACTOR_2, '00'), key(5, ACTOR_1, 'ff')), 1)
  t.equal(compareEvents(key(5, ACTOR_1, eventId(1)), key(5, ACTOR_1, eventId(2))), -1)
  t.equal(compareEvents(key(5, ACTOR_1, eventId(2)), key(5, ACTOR_1, eventId(1))), 1)
})

t.test('hex compares by code unit, so digits sort before letters', async (t) => {
  t.equal(compareEvents(key(5, '9'.repeat(32), 'a'), key(5, 'a'.repeat(32), 'a')), -1)
})

t.test('the same event compares equal', async (t) => {
  t.equal(compareEvents(key(5, ACTOR_1, 'aa'), key(5, ACTOR_1, 'aa')), 0)
})

t.test('eventKey keeps only the position', async (t) => {
  const e = ev(ISSUE_A, 7, ACTOR_1, { type: 'CommentAdded', body: 'x' })
  t.strictSame(eventKey(e), { tsUnixMs: 7, actor: ACTOR_1, eventId: e.eventId })
})

t.test('sortUnique sorts, drops duplicates by id and leaves its input alone', async (t) => {
  const e1 = ev(ISSUE_A, 1, ACTOR_1, { type: 'CommentAdded', body: '1' })
  const e2 = ev(ISSUE_A, 2, ACTOR_1, { type: 'CommentAdded', body: '2' })
  const e3 = ev(ISSUE_A, 2, ACTOR_2, { type: 'CommentAdded', body: '3' })
  const input = [e3, e2, e1, e3, e1]
  t.strictSame(sortUnique(input), [e1, e2, e3])
  t.strictSame(input, [e3, e2, e1, e3, e1])
})

t.test('a corrupt duplicate id keeps the copy that sorts first, whatever the input order', async (t) => {
  const id = eventId()
  const early = ev(ISSUE_A, 1, ACTOR_1, { type: 'CommentAdded', body: 'early' }, id)
  const late = ev(ISSUE_A, 9, ACTOR_1, { type: 'CommentAdded', body: 'late' }, id)
  t.strictSame(sortUnique([late, early]), [early])
  t.strictSame(sortUnique([early, late]), [early])
})
