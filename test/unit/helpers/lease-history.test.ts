/**
 * The lease-history judge the multi-process fault tests rely on catches
 * what it claims to: a (resource, token) pair granted twice (with both
 * lines), overlapping live grants and tokens that do not increase.
 */
import t from 'tap'
import { judgeLeases, type Line } from '../../helpers/lease-history.ts'

const grant = (c: string, r: string, token: number, at: number, ttl = 1_500): Line =>
  ({ ev: 'grant', c, r, token, t: at + 1, grantedAt: at, heartbeatAt: at, expiresAt: at + ttl })

t.test('distinct, released, increasing grants pass', async (t) => {
  const v = judgeLeases([
    grant('a', 'path:src', 1, 1_000), { ev: 'rel-send', c: 'a', r: 'path:src', token: 1, t: 1_100 },
    grant('b', 'path:src', 2, 1_200),
  ])
  t.same([v.repeated, v.overlaps, v.tokenOrder], [[], [], []])
  t.same([v.grantLines, v.pairs], [2, 2])
})

t.test('a pair granted twice is reported with both lines, even when the two overlap', async (t) => {
  const first = grant('p1-c0', 'issue:00000001', 7, 1_000)
  const again = grant('p2-c3', 'issue:00000001', 7, 1_050)
  const v = judgeLeases([first, grant('x', 'path:docs', 1, 900), again])
  t.same(v.repeated, ['issue:00000001#7: grant by p1-c0 at 1000 (answered 1001, expires 2500); again grant by p2-c3 at 1050 (answered 1051, expires 2550)'],
    'one line tells both grants')
  t.same([v.grantLines, v.pairs], [3, 2])
  t.equal(v.grants.length, 3, 'both grants of the pair are kept')
  t.equal(v.overlaps.length, 1, 'so the overlap of the two is seen')
  t.match(v.overlaps[0], /p1-c0 issue:00000001#7 .* still live when p2-c3 got issue:00000001#7/)
  t.equal(v.tokenOrder.length, 1, 'and the token not increasing')
})

t.test('overlapping live grants and a token going back are reported', async (t) => {
  const v = judgeLeases([grant('a', 'path:src', 5, 1_000), grant('b', 'path:src/a', 1, 1_100), grant('c', 'path:src', 4, 9_000)])
  t.equal(v.overlaps.length, 1, v.overlaps.join('; '))
  t.match(v.overlaps[0], /a path:src#5 .* still live when b got path:src\/a#1/)
  t.equal(v.tokenOrder.length, 1)
  t.match(v.tokenOrder[0], /path:src: token 4/)
})
