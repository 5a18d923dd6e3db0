/**
 * The lease checker: 20 clients churn acquire / renew / release / claimNext
 * on conflicting resources in a real runtime process that is SIGKILLed and
 * restarted 10 times. Every step is logged with the server's times; then:
 *
 * - no two grants on conflicting resources overlap: when a grant happens,
 *   every earlier conflicting grant is provably over (release already sent,
 *   or past its takeover time as of its last known heartbeat);
 * - tokens strictly increase per resource in grant order and never repeat;
 * - no issue is won by two claimNext callers while the first claim holds.
 *
 * The check is sound, not complete: a renewal whose ack died with a process
 * can only make a real overlap invisible, never invent one.
 * Replay with CAIRN_FAULT_SEED=<seed printed in the output>.
 */
import t from 'tap'
import { conflicts, parseResource } from '../../actors/lock-keeper/leases.ts'
import { GRACE_MS } from '../../actors/lock-keeper/policy.ts'
import { childTracker, prng, scratchRepo, type Line } from '../fixtures/child-process.ts'

const KILLS = 10
const BOOT_TIMEOUT_MS = 30_000
const seed = Number(process.env.CAIRN_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = prng(seed)

interface Grant {
  key: string
  c: string
  r: string
  token: number
  grantedAt: number
  /** [heartbeatAt, expiresAt] as known, in time order. */
  beats: [number, number][]
  relSend: number | null
  claim: boolean
}

t.test(`lease checker: 20 clients, ${KILLS} SIGKILLs`, async (t) => {
  t.comment(`seed ${seed} (CAIRN_FAULT_SEED to replay)`)
  const scratch = scratchRepo('cairn-fault-leases-')
  const kids = childTracker(t, scratch.cleanup)
  const lines: Line[] = []
  for (let i = 0; i < KILLS; i++) {
    const c = kids.spawn('locks-churn', scratch.home, scratch.repo, { CAIRN_CLIENTS: '20', CAIRN_SEED: String(seed + i) })
    await c.line('ready', BOOT_TIMEOUT_MS)
    const ms = 300 + Math.floor(rand() * 900)
    await new Promise((r) => setTimeout(r, ms))
    t.equal((await c.kill()).signal, 'SIGKILL', `run ${i} killed after ${ms} ms`)
    lines.push(...c.lines)
  }

  const grants = new Map<string, Grant>()
  for (const l of lines) {
    const key = `${l.r}#${l.token}`
    if (l.ev === 'grant' || l.ev === 'claim') {
      grants.set(key, { key, c: l.c as string, r: l.r as string, token: l.token as number, grantedAt: l.grantedAt as number,
        beats: [[l.heartbeatAt as number, l.expiresAt as number]], relSend: null, claim: l.ev === 'claim' })
    } else if (l.ev === 'renew') {
      grants.get(key)?.beats.push([l.heartbeatAt as number, l.expiresAt as number])
    } else if (l.ev === 'rel-send') {
      const g = grants.get(key)
      if (g) g.relSend = l.t as number
    }
  }
  const all = [...grants.values()].sort((a, b) => a.grantedAt - b.grantedAt || a.token - b.token)
  const claims = all.filter((g) => g.claim).length
  const errors = lines.filter((l) => l.ev === 'err' && l.code !== 'LEASE_HELD' && l.code !== 'STOPPED')
  t.ok(all.length >= 100, `${all.length} grants (${claims} by claimNext) logged across ${KILLS} processes`)
  t.same(errors.filter((l) => !['UNAVAILABLE', 'LEASE_LOST'].includes(l.code as string)).slice(0, 5), [],
    'no unexpected error codes (LEASE_HELD is contention; UNAVAILABLE and LEASE_LOST follow a kill)')

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
      if (a.grantedAt > b.grantedAt - 60_000 && conflicts(parseResource(a.r), rb) && !over(a, b.grantedAt)) {
        overlaps.push(`${a.c} ${a.key} (granted ${a.grantedAt}) still live when ${b.c} got ${b.key} at ${b.grantedAt}`)
      }
    }
  }
  t.same(overlaps, [], 'no two live grants on conflicting resources overlap')

  const byResource = new Map<string, Grant[]>()
  for (const g of all) byResource.set(g.r, [...(byResource.get(g.r) ?? []), g])
  const bad: string[] = []
  for (const [r, gs] of byResource) {
    for (let i = 1; i < gs.length; i++) {
      if ((gs[i] as Grant).token <= (gs[i - 1] as Grant).token) bad.push(`${r}: token ${(gs[i] as Grant).token} after ${(gs[i - 1] as Grant).token}`)
    }
  }
  t.same(bad.slice(0, 5), [], `tokens strictly increase per resource in grant order (${byResource.size} resources)`)
  t.equal(all.length, grants.size, 'no (resource, token) pair was granted twice')
})
