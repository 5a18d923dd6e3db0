/**
 * Judges a history of lease events logged by churning clients
 * (test/fixtures/locks-modes.ts), from one process or many: grants,
 * renewals, releases sent, and writes fenced by a lease's token.
 *
 * - overlaps: when a grant happens, every earlier grant on a conflicting
 *   resource is provably over (its release was sent, or its takeover time,
 *   as of its last known heartbeat, has passed);
 * - tokens: per resource, tokens strictly increase in grant order, and no
 *   (resource, token) pair is granted twice (counted on the raw lines);
 * - stale fenced writes: a write fenced by a lease's token is accepted only
 *   while no later grant on a conflicting resource had been answered when
 *   the write was sent.
 *
 * Sound, not complete: a renewal or grant whose answer died with its
 * process can only hide an overlap, never invent one. All times are the
 * machine's wall clock (every process runs on it).
 */
import { conflicts, parseResource } from '../../actors/lock-keeper/leases.ts'
import { GRACE_MS } from '../../actors/lock-keeper/policy.ts'

export type Line = Record<string, unknown>

export interface Grant {
  key: string
  c: string
  r: string
  token: number
  grantedAt: number
  /** When the grant's answer arrived. */
  ackAt: number
  /** [heartbeatAt, expiresAt] as known, in time order. */
  beats: [number, number][]
  relSend: number | null
  claim: boolean
}

export interface Verdict {
  grants: Grant[]
  claims: number
  /** Raw grant lines, against {@link pairs}. */
  grantLines: number
  /** Distinct (resource, token) pairs granted. */
  pairs: number
  /**
   * The first (resource, token) pairs granted more than once, each told on
   * one line (who, how, granted and answered when, for both grants): a
   * failing run's diagnostics show them whole.
   */
  repeated: string[]
  overlaps: string[]
  tokenOrder: string[]
  fenced: { accepted: number; refused: number; stale: string[] }
}

/** Reads the lines of every process, in any order. */
export function judgeLeases(lines: Line[]): Verdict {
  // Keyed by holder too: a pair granted twice to two clients stays two
  // grants, so the overlap and token-order checks see both.
  const grants = new Map<string, Grant>()
  const holderKey = (l: Line): string => `${l.c as string} ${l.r as string}#${l.token as number}`
  let grantLines = 0
  const repeated: string[] = []
  const firstLine = new Map<string, Line>()
  for (const l of lines) {
    const key = `${l.r}#${l.token}`
    if (l.ev === 'grant' || l.ev === 'claim') {
      grantLines++
      const before = firstLine.get(key)
      if (before && repeated.length < 5) repeated.push(`${key}: ${tell(before)}; again ${tell(l)}`)
      else firstLine.set(key, l)
      grants.set(holderKey(l), { key, c: l.c as string, r: l.r as string, token: l.token as number, grantedAt: l.grantedAt as number,
        ackAt: (l.t as number | undefined) ?? (l.grantedAt as number), beats: [[l.heartbeatAt as number, l.expiresAt as number]], relSend: null, claim: l.ev === 'claim' })
    }
  }
  for (const l of lines) {
    const g = grants.get(holderKey(l))
    if (!g) continue
    if (l.ev === 'renew') g.beats.push([l.heartbeatAt as number, l.expiresAt as number])
    else if (l.ev === 'rel-send') g.relSend = Math.min(g.relSend ?? Number.POSITIVE_INFINITY, l.t as number)
  }
  for (const g of grants.values()) g.beats.sort((a, b) => a[0] - b[0])
  const all = [...grants.values()].sort((a, b) => a.grantedAt - b.grantedAt || a.token - b.token)

  /** Is g provably over at time `at`? */
  const over = (g: Grant, at: number): boolean => {
    if (g.relSend !== null && g.relSend <= at) return true
    let takeover = 0
    for (const [hb, exp] of g.beats) if (hb <= at) takeover = Math.max(exp, hb + GRACE_MS)
    return at >= takeover
  }
  const overlaps: string[] = []
  for (let j = 0; j < all.length && overlaps.length < 5; j++) {
    const b = all[j] as Grant
    const rb = parseResource(b.r)
    for (let i = 0; i < j; i++) {
      const a = all[i] as Grant
      if (a.grantedAt > b.grantedAt - 120_000 && conflicts(parseResource(a.r), rb) && !over(a, b.grantedAt)) {
        overlaps.push(`${a.c} ${a.key} (granted ${a.grantedAt}) still live when ${b.c} got ${b.key} at ${b.grantedAt}`)
      }
    }
  }

  const byResource = new Map<string, Grant[]>()
  for (const g of all) byResource.set(g.r, [...(byResource.get(g.r) ?? []), g])
  const tokenOrder: string[] = []
  for (const [r, gs] of byResource) {
    for (let i = 1; i < gs.length; i++) {
      const [p, q] = [gs[i - 1] as Grant, gs[i] as Grant]
      if (q.token <= p.token) tokenOrder.push(`${r}: token ${q.token} (${q.c}, at ${q.grantedAt}) after ${p.token} (${p.c}, at ${p.grantedAt})`)
    }
  }

  const stale: string[] = []
  let accepted = 0
  let refused = 0
  for (const l of lines) {
    if (l.ev === 'fenced-refused') refused++
    if (l.ev !== 'fenced') continue
    accepted++
    const mine = grants.get(holderKey(l))
    if (!mine) continue
    const target = parseResource(`issue:${l.issue as string}`)
    for (const g of all) {
      // A later grant on a resource covering the write's issue, already answered when the write was sent.
      if (g === mine || g.grantedAt < mine.grantedAt || g.ackAt >= (l.sent as number)) continue
      if (!conflicts(parseResource(g.r), target)) continue
      stale.push(`${l.c}'s write to ${l.issue as string} fenced by ${mine.key}, sent at ${l.sent as number}, accepted after ${g.c} got ${g.key} (answered ${g.ackAt})`)
      break
    }
  }
  return { grants: all, claims: all.filter((g) => g.claim).length, grantLines, pairs: firstLine.size, repeated, overlaps, tokenOrder: tokenOrder.slice(0, 5), fenced: { accepted, refused, stale: stale.slice(0, 5) } }
}

/** One grant line in a few words: `grant by p0-0-c4 at 1000 (answered 1001, expires 2500)`. */
function tell(l: Line): string {
  return `${l.ev as string} by ${l.c as string} at ${l.grantedAt as number} (answered ${l.t as number}, expires ${l.expiresAt as number})`
}
