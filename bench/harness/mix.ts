/**
 * Operation mixes of the harness: which call a simulated agent makes next,
 * drawn by weight from a seeded PRNG so a run replays from its seed.
 *
 * `default` is grite's bench mix (create 40 %, comment 30 %, label 10 %,
 * unlabel 5 %, update 5 %, close 10 %). `agents` is what a team of coding
 * agents does on top of the board: claim the next ready issue, take path
 * leases, renew and release them, and sync with a remote. Releases are
 * weighted to roughly match claims plus acquires, so the number of leases
 * held stays flat instead of growing through the run.
 */

/** Every operation the harness knows; targets say which they support. */
export const OP_KINDS = [
  'create', 'comment', 'label', 'unlabel', 'update', 'close', 'claim', 'acquire', 'renew', 'release', 'sync',
] as const

export type OpKind = (typeof OP_KINDS)[number]

/** Weight per operation (any positive scale; only ratios matter). */
export type Mix = Partial<Record<OpKind, number>>

export const MIXES = {
  default: { create: 40, comment: 30, label: 10, unlabel: 5, update: 5, close: 10 },
  agents: {
    create: 20, comment: 18, label: 7, unlabel: 3, update: 4, close: 6,
    claim: 10, acquire: 6, renew: 8, release: 14, sync: 4,
  },
} as const satisfies Record<string, Mix>

export type MixName = keyof typeof MIXES

export function isOpKind(s: string): s is OpKind {
  return (OP_KINDS as readonly string[]).includes(s)
}

/**
 * Checks a mix: known kinds, finite non-negative weights, a positive total.
 * Throws TypeError naming the problem.
 */
export function checkMix(mix: Mix): void {
  let total = 0
  for (const [kind, w] of Object.entries(mix)) {
    if (!isOpKind(kind)) throw new TypeError(`unknown operation '${kind}' in mix (known: ${OP_KINDS.join(', ')})`)
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new TypeError(`weight of '${kind}' must be a non-negative number, got ${w}`)
    total += w
  }
  if (!(total > 0)) throw new TypeError('mix has no operation with a positive weight')
}

/**
 * A mix by name, or a custom one written `kind=weight,kind=weight`.
 * @example parseMix('create=3,comment=1') // { create: 3, comment: 1 }
 */
export function parseMix(spec: string): Mix {
  if (Object.hasOwn(MIXES, spec)) return { ...MIXES[spec as MixName] }
  if (!spec.includes('=')) throw new TypeError(`--mix must be ${Object.keys(MIXES).join(', ')} or kind=weight,...; got '${spec}'`)
  const mix: Mix = {}
  for (const part of spec.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*$/.exec(part)
    if (!m) throw new TypeError(`--mix: '${part}' is not kind=weight`)
    const [, kind, weight] = m as unknown as [string, string, string]
    if (!isOpKind(kind)) throw new TypeError(`--mix: unknown operation '${kind}' (known: ${OP_KINDS.join(', ')})`)
    if (mix[kind] !== undefined) throw new TypeError(`--mix: '${kind}' given twice`)
    mix[kind] = Number(weight)
  }
  checkMix(mix)
  return mix
}

/**
 * Keeps the operations a target supports; the others are reported, not
 * silently reweighted away.
 * @example restrictMix({ create: 1, sync: 1 }, new Set(['create'])) // { mix: { create: 1 }, dropped: ['sync'] }
 */
export function restrictMix(mix: Mix, supported: ReadonlySet<OpKind>): { mix: Mix; dropped: OpKind[] } {
  const kept: Mix = {}
  const dropped: OpKind[] = []
  for (const kind of OP_KINDS) {
    const w = mix[kind]
    if (w === undefined || w === 0) continue
    if (supported.has(kind)) kept[kind] = w
    else dropped.push(kind)
  }
  return { mix: kept, dropped }
}

/** A mix prepared for fast draws: kinds with their cumulative weights. */
export interface Picker {
  kinds: readonly OpKind[]
  cumulative: readonly number[]
  total: number
}

/** Prepares a mix for {@link pickOp}; throws like {@link checkMix}. */
export function picker(mix: Mix): Picker {
  checkMix(mix)
  const kinds: OpKind[] = []
  const cumulative: number[] = []
  let total = 0
  for (const kind of OP_KINDS) {
    const w = mix[kind] ?? 0
    if (w === 0) continue
    total += w
    kinds.push(kind)
    cumulative.push(total)
  }
  return { kinds, cumulative, total }
}

/**
 * Draws one operation; `rand` returns numbers in [0, 1) (Math.random or a
 * seeded PRNG).
 * @example pickOp(picker(MIXES.default), mulberry32(1))
 */
export function pickOp(p: Picker, rand: () => number): OpKind {
  const x = rand() * p.total
  for (let i = 0; i < p.kinds.length; i++) if (x < (p.cumulative[i] as number)) return p.kinds[i] as OpKind
  return p.kinds[p.kinds.length - 1] as OpKind // rand() within rounding of 1
}
