/**
 * The board model: which column each issue lands in, who blocks whom (in
 * DESIGN's dependency direction), the cap on closed cards, and the diff that
 * sends only changed cards. Values in, values out.
 */
import t from 'tap'
import type { LeaseView } from '../../../../protocol/messages.ts'
import type { IssueSummary } from '../../../../protocol/results.ts'
import { buildBoard, dependencyEdges, diffBoard, issueHolders } from '../../../../lib/ui/board/model.ts'
import { activityOf } from '../../../../lib/ui/board/activity.ts'

const hex = (n: number): string => n.toString(16).padStart(32, '0')
const A = hex(1)
const B = hex(2)
const C = hex(3)
const D = hex(4)
const GHOST = hex(99)

function issue(id: string, over: Partial<IssueSummary> = {}): IssueSummary {
  return { id, title: `issue ${id.slice(-2)}`, state: 'open', labels: [], assignees: [], dependencies: [], comments: 0, createdAt: 1000 + Number.parseInt(id, 16), createdBy: hex(500), updatedAt: 2000, ...over }
}

function lease(resource: string, over: Partial<LeaseView> = {}): LeaseView {
  return { resource, holder: { actor: hex(7), session: 's1' }, token: 1, ttlMs: 30_000, grantedAt: 100, expiresAt: 30_100, heartbeatAt: 100, live: true, takeoverAt: 35_100, ...over }
}

t.test('columns: closed, then claimed (live issue lease), then blocked by open or unknown prerequisites, else ready', async (t) => {
  const issues = [
    issue(A),
    issue(B, { dependencies: [{ target: A, depType: 'depends_on' }] }),
    issue(C, { state: 'closed' }),
    issue(D),
  ]
  const board = buildBoard({ issues, leases: [lease(`issue:${D}`), lease(`issue:${C}`), lease('path:src')] })
  const col = Object.fromEntries(board.cards.map((c) => [c.id, c.column]))
  t.same(col, { [A]: 'ready', [B]: 'blocked', [C]: 'closed', [D]: 'claimed' })
  t.same(board.counts, { ready: 1, claimed: 1, blocked: 1, closed: 1, open: 3, total: 4 })
  const d = board.cards.find((c) => c.id === D)!
  t.match(d.holder, { actor: hex(7), session: 's1', expiresAt: 30_100, takeoverAt: 35_100 }, 'the claimed card carries its holder and expiry')
  t.equal(board.cards.find((c) => c.id === C)!.holder, null, 'a closed issue has no holder on the board, even with a lease left')
})

t.test('a lapsed lease does not claim; a claimed issue that became blocked stays claimed, flagged by its blockers', async (t) => {
  const issues = [issue(A), issue(B, { dependencies: [{ target: A, depType: 'depends_on' }] })]
  const lapsed = buildBoard({ issues, leases: [lease(`issue:${A}`, { live: false })] })
  t.equal(lapsed.cards.find((c) => c.id === A)!.column, 'ready')
  const held = buildBoard({ issues, leases: [lease(`issue:${B}`)] })
  const b = held.cards.find((c) => c.id === B)!
  t.equal(b.column, 'claimed')
  t.same(b.blockers, [A])
})

t.test('blockers follow the edge direction: depends_on and blocks are the same edge; closed prerequisites are satisfied; unknown ones block', async (t) => {
  const issues = [
    issue(A, { dependencies: [{ target: C, depType: 'blocks' }] }),
    issue(B, { state: 'closed' }),
    issue(C, { dependencies: [{ target: B, depType: 'depends_on' }, { target: GHOST, depType: 'depends_on' }, { target: D, depType: 'related_to' }] }),
    issue(D),
  ]
  const board = buildBoard({ issues, leases: [] })
  const c = board.cards.find((x) => x.id === C)!
  t.same(c.blockers, [A, GHOST].sort(), 'A blocks C and the unknown one blocks; closed B and related D do not')
  t.same(board.cards.find((x) => x.id === A)!.blocking, [C], 'A keeps C waiting')
  t.same(board.cards.find((x) => x.id === D)!.blockers, [], 'related_to is no edge')
  const { prev } = dependencyEdges(issues)
  t.same(prev.get(C), [A, B, GHOST].sort(), 'the edges keep closed and unknown prerequisites; the board filters')
})

t.test('closed cards: the most recently updated first, capped; the count still counts them all', async (t) => {
  const issues = Array.from({ length: 10 }, (_, i) => issue(hex(i + 1), { state: 'closed', updatedAt: 5000 + i }))
  const board = buildBoard({ issues, leases: [], closedLimit: 3 })
  t.same(board.cards.map((c) => c.id), [hex(10), hex(9), hex(8)])
  t.equal(board.counts.closed, 10)
})

t.test('the diff sends only cards that changed and names the ones that left', async (t) => {
  const one = buildBoard({ issues: [issue(A), issue(B)], leases: [] })
  const first = diffBoard(new Map(), one.cards)
  t.equal(first.diff.upserts.length, 2, 'from nothing, every card')
  const rebuilt = buildBoard({ issues: [issue(A), issue(B)], leases: [] })
  const same = diffBoard(first.cards, rebuilt.cards)
  t.same(same.diff, { upserts: [], removes: [] }, 'an equal board built again sends nothing')
  const two = buildBoard({ issues: [issue(A, { title: 'renamed' })], leases: [] })
  const next = diffBoard(same.cards, two.cards)
  t.same(next.diff.upserts.map((c) => c.title), ['renamed'])
  t.same(next.diff.removes, [B])
})

t.test('issueHolders keeps only live issue leases', async (t) => {
  const m = issueHolders([lease(`issue:${A}`), lease(`issue:${B}`, { live: false }), lease('repo:x')])
  t.same([...m.keys()], [A])
})

t.test('activity lines cut long bodies and name a dependency\'s other issue', async (t) => {
  const event = (kind: never) => ({ seq: 5, event: { issueId: A, actor: hex(7), tsUnixMs: 9, parent: null, eventId: hex(1), kind } })
  const long = activityOf(event({ type: 'CommentAdded', body: `${'x'.repeat(500)}\n\ny` } as never))
  t.ok(long.text.length < 170, 'a long comment is cut')
  t.match(long, { seq: 5, issueId: A, actor: hex(7), ts: 9, type: 'CommentAdded' })
  const dep = activityOf(event({ type: 'DependencyAdded', target: B, depType: 'depends_on' } as never))
  t.match(dep, { text: 'now depends on', target: B })
  t.equal(activityOf(event({ type: 'StateChanged', state: 'closed' } as never)).text, 'closed')
})

t.test('a renewed lease or a new blocker changes the card; nothing else does', async (t) => {
  const issues = [issue(A), issue(B)]
  const before = buildBoard({ issues, leases: [lease(`issue:${A}`)] })
  const renewed = buildBoard({ issues, leases: [lease(`issue:${A}`, { expiresAt: 60_000 })] })
  t.same(diffBoard(diffBoard(new Map(), before.cards).cards, renewed.cards).diff.upserts.map((c) => c.id), [A], 'the countdown needs the new expiry')
  const blocked = buildBoard({ issues: [issue(A), issue(B, { dependencies: [{ target: A, depType: 'depends_on' }] })], leases: [lease(`issue:${A}`)] })
  t.same(diffBoard(diffBoard(new Map(), before.cards).cards, blocked.cards).diff.upserts.map((c) => c.id).sort(), [A, B].sort(), 'A now unblocks B, B waits for A')
})

t.test('ready on the board is the repository\'s ready(): the same issues on random graphs', async (t) => {
  const { ready } = await import('../../../../actors/repo-worker/projection/index.ts')
  const { mulberry32 } = await import('../../../helpers/prng.ts')
  const types = ['depends_on', 'blocks', 'related_to'] as const
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = mulberry32(seed)
    const n = 2 + Math.floor(rnd() * 25)
    const issues = Array.from({ length: n }, (_, i) => issue(hex(i + 1), { state: rnd() < 0.3 ? 'closed' : 'open' }))
    for (const i of issues) {
      const deps = Math.floor(rnd() * 3)
      for (let k = 0; k < deps; k++) {
        const target = rnd() < 0.1 ? hex(1000 + k) : hex(1 + Math.floor(rnd() * n))
        if (target !== i.id) i.dependencies.push({ target, depType: types[Math.floor(rnd() * 3)]! })
      }
    }
    const projections = issues.map((i) => ({ ...i, incomplete: false, comments: [], links: [], attachments: [] }))
    const expected = ready(projections as never).map((p) => p.id).sort()
    const got = buildBoard({ issues, leases: [] }).cards.filter((c) => c.column === 'ready').map((c) => c.id).sort()
    if (JSON.stringify(got) !== JSON.stringify(expected)) { t.same(got, expected, `seed ${seed}`); return }
  }
  t.pass('200 random boards agree with the repository\'s readiness rule')
})
