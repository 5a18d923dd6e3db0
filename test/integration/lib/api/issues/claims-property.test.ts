/**
 * Claims against a simple model, property-style: seeded random
 * interleavings of claim, close (ending the claim), block and unblock
 * (dependencies), reopen and lapse (time on the ManualClock), by many
 * agents on one board, through a real runtime. After every step the
 * runtime must agree with the model:
 *
 * - never two live holders of one issue;
 * - every claimed issue was ready when claimed (open, every prerequisite
 *   closed, no live claim), and it is exactly the model's first such issue
 *   in ready order; null only when the model has none;
 * - `ready` is the model's ready-and-unclaimed set, in order.
 *
 * Replay with CAIRN_PROPERTY_SEED=<seed printed in the output>.
 */
import t from 'tap'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { mulberry32 } from '../../../../helpers/prng.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

const T0 = 1_800_000_000_000
const TTL = 1_000
const GRACE = 300
const AGENTS = 6
const ISSUES = 12
const STEPS = 160
const seed = Number(process.env.CAIRN_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31))

interface ModelIssue { id: string; open: boolean; deps: Set<string>; claim: { agent: number; grantedAt: number } | null }

t.test(`claim / close / block / unblock / reopen / lapse against a model (${STEPS} steps)`, async (t) => {
  t.comment(`seed ${seed} (CAIRN_PROPERTY_SEED to replay)`)
  const rand = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const box = sandbox()
  const path = box.repo('property')
  const clock = new ManualClock(T0)
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const agents: Repo[] = []
  for (let k = 0; k < AGENTS; k++) agents.push(await rt.repo(path, { agent: `agent-${k}` }))
  await agents[0]!.locks.setGrace(GRACE)
  const issues: ModelIssue[] = []
  for (let i = 0; i < ISSUES; i++) {
    issues.push({ id: (await agents[0]!.issues.create({ title: `work ${i}` })).id, open: true, deps: new Set(), claim: null })
    await clock.advance(1) // ready order is creation order
  }
  const byId = new Map(issues.map((m) => [m.id, m]))
  const leases = new Map<string, Awaited<ReturnType<Repo['issues']['claimNext']>>>()

  const live = (m: ModelIssue): boolean => m.claim !== null && clock.now() < m.claim.grantedAt + Math.max(TTL, GRACE)
  const ready = (m: ModelIssue): boolean => m.open && [...m.deps].every((d) => !(byId.get(d) as ModelIssue).open)
  const claimable = (): string[] => issues.filter((m) => ready(m) && !live(m)).map((m) => m.id)
  /** Would `from` depending on `to` close a cycle (is `from` reachable from `to`)? */
  const reaches = (to: string, from: string): boolean => {
    const seen = new Set<string>()
    const stack = [to]
    while (stack.length > 0) {
      const x = stack.pop() as string
      if (x === from) return true
      if (seen.has(x)) continue
      seen.add(x)
      stack.push(...(byId.get(x) as ModelIssue).deps)
    }
    return false
  }

  const failures: string[] = []
  const counts: Record<string, number> = {}
  for (let step = 0; step < STEPS && failures.length === 0; step++) {
    const r = rand()
    const k = Math.floor(rand() * AGENTS)
    const agent = agents[k] as Repo
    let op: string
    if (r < 0.4) {
      op = 'claim'
      const expected = claimable()[0] ?? null
      const got = await agent.issues.claimNext({ ttlMs: TTL, autoRenew: false })
      const id = got?.issue.id ?? null
      if (id !== expected) failures.push(`step ${step}: agent-${k} claimed ${id}, the model says ${expected}`)
      if (id !== null) {
        const m = byId.get(id) as ModelIssue
        if (live(m)) failures.push(`step ${step}: ${id} won by agent-${k} while agent-${m.claim?.agent} holds it`)
        if (!ready(m)) failures.push(`step ${step}: ${id} claimed while not ready`)
        m.claim = { agent: k, grantedAt: clock.now() }
        leases.set(id, got)
      }
    } else if (r < 0.55) {
      op = 'close'
      const mine = issues.filter((m) => m.open && live(m) && m.claim?.agent === k)
      const m = mine.length > 0 ? pick(mine) : pick(issues.filter((x) => x.open).concat(issues[0] as ModelIssue))
      const held = mine.includes(m) ? leases.get(m.id)?.lease : undefined
      const res = await agent.issues.close(m.id, held ? { lease: held, reason: `done by agent-${k}` } : {})
      if (held && res.released !== true && m.open) failures.push(`step ${step}: closing ${m.id} with its claim did not release it`)
      if (held || m.claim?.agent === k) m.claim = held ? null : m.claim
      m.open = false
    } else if (r < 0.7) {
      op = 'block'
      const from = pick(issues)
      const to = pick(issues)
      if (from === to || from.deps.has(to.id) || reaches(to.id, from.id)) { counts.skipped = (counts.skipped ?? 0) + 1; continue }
      await agent.issues.depend(from.id, { target: to.id, type: 'depends_on' })
      from.deps.add(to.id)
    } else if (r < 0.8) {
      op = 'unblock'
      const withDeps = issues.filter((m) => m.deps.size > 0)
      if (withDeps.length === 0) continue
      const from = pick(withDeps)
      const to = pick([...from.deps])
      await agent.issues.depend(from.id, { target: to, type: 'depends_on', remove: true })
      from.deps.delete(to)
    } else if (r < 0.87) {
      op = 'reopen'
      const closed = issues.filter((m) => !m.open)
      if (closed.length === 0) continue
      const m = pick(closed)
      await agent.issues.reopen(m.id)
      m.open = true
    } else {
      op = 'lapse'
      await clock.advance(pick([50, TTL / 2, TTL + GRACE + 1]))
    }
    counts[op] = (counts[op] ?? 0) + 1
    // After every step: ready is the model's ready-and-unclaimed set, in order.
    const got = (await agents[(k + 1) % AGENTS]!.issues.ready()).map((i) => i.id)
    const want = claimable()
    if (got.join() !== want.join()) failures.push(`after step ${step} (${op}): ready ${JSON.stringify(got.map((x) => x.slice(0, 6)))}, the model says ${JSON.stringify(want.map((x) => x.slice(0, 6)))}`)
  }
  t.comment(`operations: ${JSON.stringify(counts)}`)
  t.same(failures, [], 'the runtime agreed with the model at every step')
  t.ok((counts.claim ?? 0) > 30 && (counts.close ?? 0) > 5 && (counts.lapse ?? 0) > 5, 'every kind of step ran')
})
