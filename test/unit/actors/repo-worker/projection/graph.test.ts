import t from 'tap'
import type { CairnEvent, DepType } from '../../../../../protocol/events/types.ts'
import { projectIssue, type IssueProjection } from '../../../../../actors/repo-worker/projection/issue.ts'
import {
  blockersOf,
  checkNewDependency,
  edgeOf,
  findNewCycle,
  ready,
  wouldCreateCycle,
} from '../../../../../actors/repo-worker/projection/graph.ts'
import { topo, topoStrict } from '../../../../../actors/repo-worker/projection/topo.ts'
import { ACTOR_1, created, ev, mulberry32, shuffle } from './fixtures/events.ts'

const A = 'a'.repeat(32)
const B = 'b'.repeat(32)
const C = 'c'.repeat(32)
const D = 'd'.repeat(32)
const E = 'e'.repeat(32)
const GHOST = '0'.repeat(32)

interface Opts {
  deps?: Array<[string, DepType]>
  state?: 'open' | 'closed'
  complete?: boolean
}

/** A projection built from real events: created at `at`, deps at at+1, state at at+2. */
function issue(id: string, at: number, { deps = [], state = 'open', complete = true }: Opts = {}): IssueProjection {
  const events: CairnEvent[] = []
  if (complete) events.push(created(id, at, `issue ${id[0]}`))
  for (const [target, depType] of deps) events.push(ev(id, at + 1, ACTOR_1, { type: 'DependencyAdded', target, depType }))
  events.push(ev(id, at + 2, ACTOR_1, { type: 'StateChanged', state }))
  return projectIssue(id, events)
}

const ids = (ps: IssueProjection[]) => ps.map((p) => p.id[0])

t.test('direction: A depends_on B and B blocks A are the same edge', async (t) => {
  t.strictSame(edgeOf(A, B, 'depends_on'), [B, A])
  t.strictSame(edgeOf(B, A, 'blocks'), [B, A])
  t.equal(edgeOf(A, B, 'related_to'), null)
})

t.test('wouldCreateCycle with depends_on', async (t) => {
  const ps = [issue(A, 1, { deps: [[B, 'depends_on']] }), issue(B, 2, { deps: [[C, 'depends_on']] }), issue(C, 3)]
  t.ok(wouldCreateCycle(ps, B, A, 'depends_on'), 'two-cycle')
  t.ok(wouldCreateCycle(ps, C, A, 'depends_on'), 'three-cycle')
  t.notOk(wouldCreateCycle(ps, A, C, 'depends_on'), 'a shortcut is no cycle')
  t.notOk(wouldCreateCycle(ps, A, B, 'depends_on'), 'the same edge again is no cycle')
  t.notOk(wouldCreateCycle(ps, C, A, 'related_to'), 'related_to never cycles')
})

t.test('wouldCreateCycle with blocks', async (t) => {
  const ps = [issue(A, 1, { deps: [[B, 'blocks']] }), issue(B, 2, { deps: [[C, 'blocks']] }), issue(C, 3)]
  t.ok(wouldCreateCycle(ps, C, A, 'blocks'))
  t.ok(wouldCreateCycle(ps, B, A, 'blocks'))
  t.notOk(wouldCreateCycle(ps, A, C, 'blocks'))
})

t.test('wouldCreateCycle across mixed types', async (t) => {
  // A depends_on B (B -> A), C blocks B (C -> B): C -> B -> A.
  const ps = [issue(A, 1, { deps: [[B, 'depends_on']] }), issue(B, 2), issue(C, 3, { deps: [[B, 'blocks']] })]
  t.ok(wouldCreateCycle(ps, A, C, 'blocks'), 'A blocks C closes C -> B -> A -> C')
  t.ok(wouldCreateCycle(ps, C, A, 'depends_on'), 'C depends_on A is the same edge')
  t.notOk(wouldCreateCycle(ps, C, A, 'blocks'), 'C blocks A agrees with the order')
  t.notOk(wouldCreateCycle(ps, A, C, 'depends_on'), 'A depends_on C agrees too')
  t.notOk(wouldCreateCycle(ps, B, A, 'blocks'), 'B blocks A is the existing edge')
  t.ok(wouldCreateCycle(ps, A, B, 'blocks'), 'A blocks B reverses it')
  t.strictSame(findNewCycle(ps, A, C, 'blocks'), [A, C, B, A])
})

t.test('self-dependencies and unknown issues', async (t) => {
  const ps = [issue(A, 1)]
  t.ok(wouldCreateCycle(ps, A, A, 'blocks'))
  t.ok(wouldCreateCycle(ps, A, A, 'depends_on'))
  t.notOk(wouldCreateCycle(ps, A, A, 'related_to'))
  t.notOk(wouldCreateCycle(ps, A, GHOST, 'depends_on'))
})

t.test('closed issues still count for cycles: they can be reopened', async (t) => {
  const ps = [issue(A, 1, { deps: [[B, 'depends_on']], state: 'closed' }), issue(B, 2, { state: 'closed' })]
  t.ok(wouldCreateCycle(ps, B, A, 'depends_on'))
})

t.test('checkNewDependency codes', async (t) => {
  const ps = [issue(A, 1, { deps: [[B, 'depends_on']] }), issue(B, 2)]
  t.throws(() => checkNewDependency(ps, A, A, 'related_to'), { code: 'INVALID_ARGUMENT' })
  t.throws(() => checkNewDependency(ps, A, GHOST, 'blocks'), { code: 'NOT_FOUND', details: { issueId: GHOST } })
  t.throws(() => checkNewDependency(ps, GHOST, A, 'blocks'), { code: 'NOT_FOUND' })
  t.throws(() => checkNewDependency(ps, B, A, 'depends_on'), { code: 'CYCLE', details: { cycle: [A, B, A] } })
  t.doesNotThrow(() => checkNewDependency(ps, B, A, 'related_to'))
  t.doesNotThrow(() => checkNewDependency(ps, B, A, 'blocks'))
})

t.test('duplicate projections are refused', async (t) => {
  t.throws(() => ready([issue(A, 1), issue(A, 1)]), { code: 'INVALID_ARGUMENT' })
})

t.test('ready: open issues without an open blocker', async (t) => {
  const ps = [
    issue(A, 1, { deps: [[B, 'depends_on']] }), // blocked by open B
    issue(B, 2),
    issue(C, 3, { deps: [[D, 'depends_on']] }), // D closed: free
    issue(D, 4, { state: 'closed' }),
    issue(E, 5, { deps: [[B, 'related_to']] }), // related_to never blocks
  ]
  t.strictSame(ids(ready(ps)), ['b', 'c', 'e'])
  t.strictSame(blockersOf(ps, A), [B])
  t.strictSame(blockersOf(ps, C), [])
})

t.test('ready: blocks edges block their target', async (t) => {
  const ps = [issue(A, 1, { deps: [[B, 'blocks']] }), issue(B, 2)]
  t.strictSame(ids(ready(ps)), ['a'])
  const closedA = [issue(A, 1, { deps: [[B, 'blocks']], state: 'closed' }), issue(B, 2)]
  t.strictSame(ids(ready(closedA)), ['b'])
})

t.test('ready: unknown prerequisites block, incomplete issues are not listed but block', async (t) => {
  const ps = [
    issue(A, 1, { deps: [[GHOST, 'depends_on']] }),
    issue(B, 2, { complete: false }),
    issue(C, 3, { deps: [[B, 'depends_on']] }),
    issue(D, 4, { deps: [[GHOST, 'blocks']] }), // D blocking an unknown issue is not blocked
  ]
  t.strictSame(ids(ready(ps)), ['d'])
})

t.test('ready: ordered by createdAt, then id, whatever the input order', async (t) => {
  const ps = [issue(D, 1), issue(C, 2), issue(B, 2), issue(A, 3)]
  const random = mulberry32(1)
  for (let i = 0; i < 10; i++) t.strictSame(ids(ready(shuffle(ps, random))), ['d', 'b', 'c', 'a'])
})

t.test('ready: members of a merged cycle wait until it is broken', async (t) => {
  const ps = [issue(A, 1, { deps: [[B, 'depends_on']] }), issue(B, 2, { deps: [[A, 'depends_on']] }), issue(C, 3)]
  t.strictSame(ids(ready(ps)), ['c'])
  const broken = [issue(A, 1, { deps: [[B, 'depends_on']] }), issue(B, 2, { deps: [[A, 'depends_on']], state: 'closed' }), issue(C, 3)]
  t.strictSame(ids(ready(broken)), ['a', 'c'])
})

t.test('topo: prerequisites first, earliest created first among the free', async (t) => {
  // E blocks A; A depends_on C; B and D free. Created order: A1 B2 C3 D4 E5.
  const ps = [
    issue(A, 1, { deps: [[C, 'depends_on']] }),
    issue(B, 2),
    issue(C, 3),
    issue(D, 4),
    issue(E, 5, { deps: [[A, 'blocks']] }),
  ]
  const { order, cycles } = topo(ps)
  t.strictSame(ids(order), ['b', 'c', 'd', 'e', 'a'])
  t.strictSame(cycles, [])
  t.strictSame(ids(topoStrict(shuffle(ps, mulberry32(3)))), ['b', 'c', 'd', 'e', 'a'])
})

t.test('topo: ties on createdAt go by id', async (t) => {
  t.strictSame(ids(topo([issue(C, 1), issue(A, 1), issue(B, 1)]).order), ['a', 'b', 'c'])
})

t.test('topo: closed issues are left out and satisfy their dependents', async (t) => {
  const ps = [issue(A, 1, { deps: [[B, 'depends_on']] }), issue(B, 2, { state: 'closed' }), issue(C, 3)]
  t.strictSame(ids(topo(ps).order), ['a', 'c'])
})

t.test('topo: incomplete issues constrain the order but are not listed', async (t) => {
  // A depends on incomplete B, B depends on C: C before A although A is older.
  const ps = [issue(A, 1, { deps: [[B, 'depends_on']] }), issue(B, 2, { complete: false, deps: [[C, 'depends_on']] }), issue(C, 3)]
  t.strictSame(ids(topo(ps).order), ['c', 'a'])
})

t.test('topo: a merged cycle does not throw; it is one block and reported', async (t) => {
  const ps = [
    issue(A, 1),
    issue(B, 2, { deps: [[C, 'depends_on']] }),
    issue(C, 3, { deps: [[D, 'depends_on']] }),
    issue(D, 4, { deps: [[B, 'depends_on'], [A, 'depends_on']] }),
    issue(E, 5, { deps: [[C, 'depends_on']] }),
  ]
  const { order, cycles } = topo(ps)
  t.strictSame(ids(order), ['a', 'b', 'c', 'd', 'e'])
  t.strictSame(cycles, [[B, C, D]])
  t.throws(() => topoStrict(ps), { code: 'CYCLE', details: { cycles: [[B, C, D]] } })
})

t.test('topo: a self-loop from merged data is reported', async (t) => {
  const { order, cycles } = topo([issue(A, 1, { deps: [[A, 'blocks']] }), issue(B, 2)])
  t.strictSame(ids(order), ['a', 'b'])
  t.strictSame(cycles, [[A]])
})

t.test('topo: a long chain does not overflow the stack', async (t) => {
  const n = 20_000
  const id = (i: number) => i.toString(16).padStart(32, '0')
  const ps: IssueProjection[] = []
  // Issue i depends on i+1, so the newest must come first: the worst case for the tie-break.
  for (let i = 0; i < n; i++) {
    ps.push({ ...issue(id(i), i), dependencies: i + 1 < n ? [{ target: id(i + 1), depType: 'depends_on' }] : [] })
  }
  const { order, cycles } = topo(ps)
  t.equal(order.length, n)
  t.equal(order[0]?.id, id(n - 1))
  t.equal(order[n - 1]?.id, id(0))
  t.strictSame(cycles, [])
})
