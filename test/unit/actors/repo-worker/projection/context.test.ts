import t from 'tap'
import type { CairnEvent } from '../../../../../protocol/events/types.ts'
import {
  applyContextEvent,
  applyContextEvents,
  emptyContext,
  listFileContexts,
  listProjectContext,
  projectContext,
} from '../../../../../actors/repo-worker/projection/context.ts'
import { ACTOR_1, ACTOR_2, ISSUE_A, created, ev, eventId, shuffle, mulberry32 } from './fixtures/events.ts'

const CTX = 'e'.repeat(32)
const file = (ts: number, actor: string, path: string, summary: string, id?: string): CairnEvent =>
  ev(CTX, ts, actor, {
    type: 'ContextUpdated',
    path,
    language: 'ts',
    symbols: [{ name: 'f', kind: 'function', lineStart: 1, lineEnd: 2 }],
    summary,
    contentHash: '0f'.repeat(32),
  }, id)
const proj = (ts: number, actor: string, key: string, value: string, id?: string): CairnEvent =>
  ev(CTX, ts, actor, { type: 'ProjectContextUpdated', key, value }, id)

t.test('file context is last-writer-wins per path', async (t) => {
  const events = [
    file(2, ACTOR_1, 'src/a.ts', 'new'),
    file(1, ACTOR_2, 'src/a.ts', 'old'),
    file(1, ACTOR_1, 'lib/b.ts', 'b'),
  ]
  const view = projectContext(events)
  const files = listFileContexts(view)
  t.strictSame(files.map((f) => [f.path, f.summary]), [['lib/b.ts', 'b'], ['src/a.ts', 'new']])
  t.match(files[1], { eventId: events[0]?.eventId, actor: ACTOR_1, tsUnixMs: 2, language: 'ts', contentHash: '0f'.repeat(32) })
  t.equal(view.files.get('src/a.ts')?.symbols[0]?.name, 'f')
})

t.test('ties are broken by actor, then event id', async (t) => {
  let view = projectContext([proj(5, ACTOR_2, 'k', 'two'), proj(5, ACTOR_1, 'k', 'one')])
  t.equal(view.project.get('k')?.value, 'two')
  view = projectContext([proj(5, ACTOR_1, 'k', 'hi', eventId(2)), proj(5, ACTOR_1, 'k', 'lo', eventId(1))])
  t.equal(view.project.get('k')?.value, 'hi')
})

t.test('any order, any duplicates, one at a time or in a batch: one view', async (t) => {
  const events = [
    proj(1, ACTOR_1, 'build', 'make'),
    proj(3, ACTOR_2, 'build', 'npm run build'),
    proj(3, ACTOR_1, 'test', 'tap'),
    file(4, ACTOR_1, 'a.ts', 'a1'),
    file(4, ACTOR_2, 'a.ts', 'a2'),
    file(2, ACTOR_2, 'b.ts', 'b'),
  ]
  const expected = projectContext(events)
  const random = mulberry32(7)
  for (let i = 0; i < 20; i++) {
    const order = shuffle([...events, ...events.slice(0, i % events.length)], random)
    let view = emptyContext()
    for (const e of order) view = applyContextEvent(view, e)
    t.strictSame(listFileContexts(view), listFileContexts(expected))
    t.strictSame(listProjectContext(view), listProjectContext(expected))
  }
  t.strictSame(listProjectContext(expected).map((e) => [e.key, e.value]), [['build', 'npm run build'], ['test', 'tap']])
})

t.test('issue events are skipped and an unchanged view is returned as is', async (t) => {
  const view = projectContext([proj(5, ACTOR_1, 'k', 'v')])
  t.equal(applyContextEvent(view, created(ISSUE_A, 9)), view)
  t.equal(applyContextEvent(view, proj(4, ACTOR_1, 'k', 'older')), view)
  t.equal(applyContextEvents(view, []), view)
  const next = applyContextEvent(view, proj(6, ACTOR_1, 'k', 'newer'))
  t.not(next, view)
  t.equal(next.files, view.files, 'the untouched map is shared')
  t.equal(view.project.get('k')?.value, 'v', 'the input view is not modified')
})

t.test('keys are data, not object properties', async (t) => {
  const view = projectContext([proj(1, ACTOR_1, '__proto__', 'x'), proj(1, ACTOR_1, 'constructor', 'y')])
  t.equal(view.project.get('__proto__')?.value, 'x')
  t.equal(listProjectContext(view).length, 2)
})

t.test('a malformed timestamp is refused', async (t) => {
  t.throws(() => projectContext([proj(Number.NaN, ACTOR_1, 'k', 'v')]), { code: 'INVALID_ARGUMENT' })
})
