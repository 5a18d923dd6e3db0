import t from 'tap'
import { mulberry32 } from '../../helpers/prng.ts'
import { MIXES, OP_KINDS, checkMix, parseMix, pickOp, picker, restrictMix, type OpKind } from '../../../bench/harness/mix.ts'

t.test('the default mix is grite\'s; the agents mix adds claims, leases and sync', async (t) => {
  t.same(MIXES.default, { create: 40, comment: 30, label: 10, unlabel: 5, update: 5, close: 10 })
  for (const k of ['claim', 'acquire', 'renew', 'release', 'sync'] as const) t.ok((MIXES.agents[k] ?? 0) > 0, k)
  const total = Object.values(MIXES.agents).reduce((a, b) => a + b, 0)
  t.equal(total, 100)
  t.ok(MIXES.agents.release >= MIXES.agents.claim + MIXES.agents.acquire - 2, 'releases roughly keep up with grants')
})

t.test('draws follow the weights (seeded, 200k draws, within 1 point)', async (t) => {
  for (const mix of [MIXES.default, MIXES.agents]) {
    const p = picker(mix)
    const rand = mulberry32(7)
    const counts = new Map<OpKind, number>()
    const n = 200_000
    for (let i = 0; i < n; i++) {
      const k = pickOp(p, rand)
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
    const total = Object.values(mix).reduce((a, b) => a + b, 0)
    for (const [kind, w] of Object.entries(mix)) {
      const share = ((counts.get(kind as OpKind) ?? 0) / n) * 100
      t.ok(Math.abs(share - (w / total) * 100) < 1, `${kind}: ${share.toFixed(2)} % vs ${((w / total) * 100).toFixed(2)} %`)
    }
    t.same([...counts.keys()].filter((k) => !(k in mix)), [], 'never draws a kind outside the mix')
  }
})

t.test('a seed replays the same sequence', async (t) => {
  const p = picker(MIXES.agents)
  const seq = (seed: number): OpKind[] => { const r = mulberry32(seed); return Array.from({ length: 50 }, () => pickOp(p, r)) }
  t.same(seq(3), seq(3))
  t.not(seq(3).join(), seq(4).join())
})

t.test('edges of rand', async (t) => {
  const p = picker({ create: 1, close: 1 })
  t.equal(pickOp(p, () => 0), 'create')
  t.equal(pickOp(p, () => 0.4999), 'create')
  t.equal(pickOp(p, () => 0.5), 'close')
  t.equal(pickOp(p, () => 1 - Number.EPSILON), 'close')
  t.equal(pickOp(p, () => 1), 'close', 'rounding up to 1 still picks the last kind')
  t.equal(pickOp(picker({ comment: 0, sync: 3 }), () => 0), 'sync', 'zero weights are never drawn')
})

t.test('parseMix, checkMix and restrictMix', async (t) => {
  t.same(parseMix('default'), MIXES.default)
  t.not(parseMix('default'), MIXES.default, 'a copy')
  t.same(parseMix(' create = 2 , comment=1.5'), { create: 2, comment: 1.5 })
  t.throws(() => parseMix('create=1,create=2'), /given twice/)
  t.throws(() => parseMix('create'), /--mix must be/)
  t.throws(() => parseMix('create=x'), /is not kind=weight/)
  t.throws(() => checkMix({ create: -1 }), /non-negative/)
  t.throws(() => checkMix({ create: Number.NaN }), /non-negative/)
  t.throws(() => checkMix({ fly: 1 } as never), /unknown operation/)
  t.same(restrictMix(MIXES.agents, new Set<OpKind>(OP_KINDS.filter((k) => k !== 'sync'))).dropped, ['sync'])
  t.same(restrictMix({ create: 1, sync: 0 }, new Set<OpKind>(['create'])), { mix: { create: 1 }, dropped: [] }, 'a zero weight is not reported as dropped')
})
