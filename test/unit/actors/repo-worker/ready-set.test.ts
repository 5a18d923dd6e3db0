/**
 * The RepoWorker's incremental ready set against the graph's ready() over
 * the same projections, after every one of many seeded random changes
 * (issues appearing, opening, closing, completing, gaining and losing
 * dependencies of every type, including on issues not known yet); and its
 * claim candidates: held issues stay out until their lapse or an unhold.
 */
import t from 'tap'
import { emptyIssue, ready, type IssueProjection } from '../../../../actors/repo-worker/projection/index.ts'
import { ReadySet } from '../../../../actors/repo-worker/store/ready-set.ts'
import { mulberry32 } from '../../../helpers/prng.ts'

const id = (n: number): string => n.toString(16).padStart(32, '0')

function issue(n: number, over: Partial<IssueProjection> = {}): IssueProjection {
  return { ...emptyIssue(id(n)), incomplete: false, createdAt: 1000 + n, createdBy: 'a'.repeat(32), title: `i${n}`, ...over }
}

t.test('matches ready() after every random change', async (t) => {
  const seed = Number(process.env.CAIRN_PROPERTY_SEED ?? 7)
  const rand = mulberry32(seed)
  const N = 40
  const all = new Map<string, IssueProjection>()
  for (let n = 0; n < N / 2; n++) all.set(id(n), issue(n))
  const set = new ReadySet(all.values())
  let mismatches = 0
  for (let step = 0; step < 2_000 && mismatches < 3; step++) {
    const n = Math.floor(rand() * N)
    const fresh = rand() < 0.2
    const prev = all.get(id(n)) ?? issue(n, fresh ? { incomplete: true, createdAt: null } : {})
    const next: IssueProjection = { ...prev, dependencies: [...prev.dependencies] }
    const r = rand()
    if (r < 0.3) next.state = next.state === 'open' ? 'closed' : 'open'
    else if (r < 0.4) {
      // Completed, or an earlier creation merged from a replica: its place in ready order moves.
      next.incomplete = false
      next.createdAt = 1000 + Math.floor(rand() * N)
    }
    else if (r < 0.75) {
      const target = id(Math.floor(rand() * (N + 5))) // a few targets never exist: unknown prerequisites block
      const depType = (['depends_on', 'blocks', 'related_to'] as const)[Math.floor(rand() * 3)] as 'depends_on'
      if (target !== next.id && !next.dependencies.some((d) => d.target === target && d.depType === depType)) next.dependencies.push({ target, depType })
    } else if (next.dependencies.length > 0) {
      next.dependencies.splice(Math.floor(rand() * next.dependencies.length), 1)
    }
    all.set(next.id, next)
    set.update(next)
    const want = ready(all.values()).map((p) => p.id)
    const got = set.all()
    if (want.join() !== got.join()) {
      mismatches++
      t.fail(`step ${step}: ready ${got.length} issues, ready() says ${want.length}`, { got, want })
    }
  }
  t.equal(mismatches, 0, `2000 changes over ${N} issues (seed ${seed}): always the same set, in the same order`)
})

t.test('claim candidates: held ones stay out until they lapse or are let go', async (t) => {
  const set = new ReadySet([issue(1), issue(2), issue(3)])
  t.same([...set.free(0)], [id(1), id(2), id(3)], 'ready order')
  const it = set.free(0)
  t.equal(it.next().value, id(1))
  set.hold(id(1), 500)
  t.equal(it.next().value, id(2), 'holding the candidate just given moves on to the next')
  t.same([...set.free(499)], [id(2), id(3)])
  t.same([...set.free(500)], [id(1), id(2), id(3)], 'back at its lapse')
  set.hold(id(2), 1_000)
  set.hold(id(2), 2_000)
  t.same([...set.free(1_000)], [id(1), id(3)], 'a renewed hold is not let go at the old time')
  set.unhold(id(2))
  t.same([...set.free(1_000)], [id(1), id(2), id(3)], 'let go early (released)')
  set.hold(id(3), 9_999)
  set.update(issue(3, { state: 'closed' }))
  set.update(issue(3))
  t.same([...set.free(1_000)], [id(1), id(2)], 'reopened while held: still held')
  t.same(set.all(), [id(1), id(2), id(3)], 'but ready all the same')
  set.unholdAll()
  t.same([...set.free(1_000)], [id(1), id(2), id(3)])
})
