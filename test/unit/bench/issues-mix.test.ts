import t from 'tap'
import { callKind, makeCall, paddedText, type IssueWriter } from '../../../bench/issues/mix.ts'

t.test('an issue life: create first, then mostly comments, some labels and assignees', async (t) => {
  t.same(Array.from({ length: 10 }, (_, k) => callKind(k)),
    ['create', 'comment', 'comment', 'comment', 'label', 'comment', 'comment', 'assign', 'label', 'comment'])
  t.throws(() => callKind(-1), RangeError)
  t.throws(() => callKind(1.5), RangeError)
})

t.test('padded text has exactly the asked length', async (t) => {
  t.equal(paddedText('c12', 8), 'c12 ....')
  t.equal(paddedText('c12', 120).length, 120)
  t.equal(paddedText('a-long-tag', 4), 'a-lo', 'a tag longer than the size is cut')
  t.throws(() => paddedText('x', 0), RangeError)
})

t.test('makeCall drives the handle and counts the events each call appended', async (t) => {
  const seen: string[] = []
  const fake: IssueWriter = {
    issues: {
      create: async (f) => { seen.push(`create ${f.title.length} ${f.body?.length} ${f.labels?.join(',')}`); return { id: 'i1' } },
      comment: async (id, body) => { seen.push(`comment ${id} ${body.length}`); return { eventIds: ['e'] } },
      label: async (id, c) => { seen.push(`label ${id} ${c.add?.join(',')}`); return { eventIds: ['e'] } },
      assign: async (id, c) => { seen.push(`assign ${id} ${c.add?.join(',')}`); return { eventIds: ['e', 'f'] } },
    },
  }
  t.same(await makeCall(fake, 0, null, 9, 10), { issueId: 'i1', events: 1 })
  t.same(await makeCall(fake, 1, 'i1', 10, 10), { issueId: 'i1', events: 1 })
  t.same(await makeCall(fake, 4, 'i1', 11, 10), { issueId: 'i1', events: 1 })
  t.same(await makeCall(fake, 7, 'i1', 12, 10), { issueId: 'i1', events: 2 }, 'counts what the reply says')
  t.same(seen, ['create 48 20 bench,area-1', 'comment i1 10', 'label i1 label-4', 'assign i1 user-2'])
  await t.rejects(makeCall(fake, 1, null, 0, 10), /needs the issue's id/)
})
