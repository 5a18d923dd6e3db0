/**
 * The pure lease table under random operation sequences (seeded): leases
 * stay exclusive and tokens increasing at every step.
 *
 * A failure names its seed, and
 *   LEASES_SEED=<seed> npx tap test/unit/actors/lock-keeper/leases-property.test.ts
 * reruns just that case. LEASES_CASES=<n> runs more (or fewer) cases.
 */
import t from 'tap'
import {
  acquire,
  conflicts,
  emptyLeaseTable,
  expire,
  liveLeases,
  nextDeadline,
  parseResource,
  release,
  renew,
  status,
  type AcquireResult,
  type Holder,
  type Lease,
  type LeaseTable,
} from '../../../../actors/lock-keeper/leases.ts'
import { isCairnError } from '../../../../protocol/errors.ts'
import { mulberry32 } from '../../../helpers/prng.ts'
import { ALICE, ALICE_2, BOB, deepFreeze } from './fixtures.ts'



// ---------------------------------------------------------------------------
// Property: random operation sequences never leave two conflicting live
// leases, and each resource's granted tokens strictly increase.

const BASE_SEED = 0x1ea5e5
const CASES = Number(process.env.LEASES_CASES ?? 400)
const STEPS = 60
const ONLY_SEED = process.env.LEASES_SEED === undefined ? undefined : Number(process.env.LEASES_SEED)
const RESOURCES = ['repo:main', 'path:a', 'path:a/b', 'path:a/b/c', 'path:ab', 'path:c', 'issue:beef', 'issue:BEEF', 'issue:cafe']
const HOLDERS: Holder[] = [ALICE, BOB, ALICE_2, { actor: 'c'.repeat(32), session: 'x' }]

function runCase(seed: number): string | null {
  const random = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
  const graceMs = Math.floor(random() * 300)
  let now = Math.floor(random() * 1_000)
  let s = deepFreeze(emptyLeaseTable())
  const issued = new Map<string, number>() // resource key -> last token the test saw granted
  const held: Lease[] = [] // every grant ever seen, used for (often stale) renew/release
  for (let step = 0; step < STEPS; step++) {
    now += pick([0, 0, 1, 50, 100, 200, 400])
    const op = random()
    const fail = (why: string) => `seed ${seed} step ${step} at ${now}: ${why}`
    if (op < 0.45) {
      const resource = pick(RESOURCES)
      const before = liveLeases(s, now, graceMs)
      const r = parseResource(resource)
      const blocking = before.filter((l) => conflicts(r, parseResource(l.resource)))
      const out = acquire(s, { resource, holder: pick(HOLDERS), ttlMs: 1 + Math.floor(random() * 400) }, now, graceMs)
      if (out.granted !== (blocking.length === 0)) return fail(`granted=${out.granted} with ${blocking.length} live conflicts`)
      if (!out.granted) {
        if (out.conflict !== blocking[0]) return fail('the conflict is not the smallest live conflicting lease')
        continue
      }
      const prev = issued.get(r.key) ?? 0
      if (out.lease.token <= prev) return fail(`token ${out.lease.token} after ${prev} on ${r.key}`)
      issued.set(r.key, out.lease.token)
      held.push(out.lease)
      for (const old of out.replaced) {
        if (status(s, old.resource, now, graceMs).live) return fail(`replaced a live lease on ${old.resource}`)
      }
      s = deepFreeze(out.state)
    } else if (op < 0.7 && held.length > 0) {
      const l = pick(held)
      const st = status(s, l.resource, now, graceMs)
      const ok = st.lease !== null && st.lease.token === l.token && st.live
      try {
        s = deepFreeze(renew(s, { resource: l.resource, token: l.token }, now, graceMs).state)
        if (!ok) return fail('renew succeeded on a lost lease')
      } catch (e) {
        if (!isCairnError(e, 'LEASE_LOST') || ok) return fail(`renew failed: ${String(e)}`)
      }
    } else if (op < 0.9 && held.length > 0) {
      const l = pick(held)
      const current = status(s, l.resource, now, graceMs).lease
      const ok = current !== null && current.token === l.token
      try {
        s = deepFreeze(release(s, { resource: l.resource, token: l.token }, now).state)
        if (!ok) return fail('release succeeded with a stale token')
      } catch (e) {
        if (!isCairnError(e, 'LEASE_LOST') || ok) return fail(`release failed: ${String(e)}`)
      }
    } else {
      const before = liveLeases(s, now, graceMs)
      s = deepFreeze(expire(s, now, graceMs).state)
      if (JSON.stringify(liveLeases(s, now, graceMs)) !== JSON.stringify(before)) return fail('expire removed a live lease')
    }

    const live = liveLeases(s, now, graceMs)
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) {
        const a = live[i] as Lease
        const b = live[j] as Lease
        if (conflicts(parseResource(a.resource), parseResource(b.resource))) return fail(`${a.resource} and ${b.resource} are both live`)
      }
    }
    for (const [key, token] of issued) {
      if (s.lastToken[key] !== token) return fail(`lastToken[${key}] is ${s.lastToken[key]}, last granted ${token}`)
    }
    const deadline = nextDeadline(s, graceMs)
    const takeable = Object.values(s.leases).map((l) => status(s, l.resource, now, graceMs).takeoverAt as number)
    if (deadline !== (takeable.length === 0 ? null : Math.min(...takeable))) return fail('nextDeadline is not the earliest takeoverAt')
  }
  return null
}

t.test(`property: ${ONLY_SEED === undefined ? CASES : 1} random sequences keep leases exclusive and tokens increasing`, async (t) => {
  const seeds = ONLY_SEED === undefined ? Array.from({ length: CASES }, (_, i) => BASE_SEED + i) : [ONLY_SEED]
  let failures = 0
  for (const seed of seeds) {
    const failure = runCase(seed)
    if (failure !== null && failures++ < 5) t.fail(failure)
  }
  t.equal(failures, 0, `${seeds.length} cases of ${STEPS} steps`)
})
