/** Structured content is JSON: bytes become hex, anything without bytes is passed through uncopied. */
import t from 'tap'
import { jsonSafe } from '../../../../lib/mcp/json-safe.ts'

t.test('bytes anywhere become lowercase hex; the rest is kept', async (t) => {
  const v = { events: [{ seq: 1, event: { sig: Uint8Array.from([0, 171, 255]), kind: { type: 'CommentAdded' } } }, { seq: 2, event: { sig: null } }] }
  t.same(jsonSafe(v), { events: [{ seq: 1, event: { sig: '00abff', kind: { type: 'CommentAdded' } } }, { seq: 2, event: { sig: null } }] })
  t.type(v.events[0]!.event.sig, Uint8Array, 'the input is not changed')
  t.equal(jsonSafe(Uint8Array.from([1])), '01')
})

t.test('a value without bytes is returned as is', async (t) => {
  const v = { id: 'ab', labels: ['x'], nested: { n: 1, ok: true, none: null } }
  t.equal(jsonSafe(v), v)
  t.equal(jsonSafe('s'), 's')
  t.equal(jsonSafe(null), null)
})
