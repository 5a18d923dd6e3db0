/**
 * One simulated agent of the board demo, working the way an agent with the
 * `cairn` CLI does, through the daemon: claim the next ready issue, comment
 * on its progress a few times (renewing its claim between steps), sometimes
 * hold a `path:` lease on the code it touches, sometimes find follow-up
 * work (a new issue that waits for this one), then close it and let go.
 *
 * A "stalling" agent claims once and then goes silent, so its lease lapses
 * in plain view (the board shows it in grace, then stale).
 */
import { isCairnError } from '../../../protocol/errors.ts'
import { pick, titleOf, type Call } from './board-seed.ts'

export interface TeamStats { claims: number; closed: number; comments: number; followUps: number; pathLeases: number; pathBusy: number; stalled: number; idle: number; errors: Map<string, number> }

export const newStats = (): TeamStats => ({ claims: 0, closed: 0, comments: 0, followUps: 0, pathLeases: 0, pathBusy: 0, stalled: 0, idle: 0, errors: new Map() })

export interface AgentOptions {
  deadline: number
  /** Mean pause between an agent's steps, in ms. */
  paceMs: number
  ttlMs: number
  rnd: () => number
  stall: boolean
  signal: AbortSignal
  stats: TeamStats
}

const NOTES = ['read the code around it', 'wrote a failing test first', 'the fix is in progress', 'all tests pass locally',
  'asked for a review', 'found an edge case, handling it', 'benchmarked: no regression', 'updated the docs']
const AREAS = ['lib/api', 'lib/daemon', 'actors/sync', 'actors/lock-keeper', 'protocol', 'lib/ui', 'bench']

interface Lease { resource: string; token: number; expiresAt: number }

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, Math.max(0, ms))
    function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}

export async function runAgent(call: Call, name: string, o: AgentOptions): Promise<void> {
  const live = (): boolean => !o.signal.aborted && Date.now() < o.deadline
  const pause = (): Promise<void> => sleep(o.paceMs * (0.5 + o.rnd()), o.signal)
  const counted = async <T>(fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn()
    } catch (err) {
      const code = isCairnError(err) ? err.code : 'INTERNAL'
      o.stats.errors.set(code, (o.stats.errors.get(code) ?? 0) + 1)
      return null
    }
  }
  for (let round = 0; live() && round < 1_000_000; round++) {
    const got = await counted(() => call<{ issue: { id: string; title: string }; lease: Lease } | null>('issues.claim', { ttlMs: o.ttlMs }, name))
    if (!got) {
      o.stats.idle++
      await sleep(o.paceMs * 4, o.signal)
      continue
    }
    o.stats.claims++
    const { issue } = got
    let lease = got.lease
    if (o.stall) {
      // Goes silent holding its claim: the lease lapses on the board, in grace, then stale.
      o.stats.stalled++
      await sleep(o.deadline - Date.now(), o.signal)
      return
    }
    let path: Lease | null = null
    if (o.rnd() < 0.3) {
      // Another agent holding that code is normal: work on without it.
      path = await call<Lease>('locks.acquire', { resource: `path:${pick(o.rnd, AREAS)}`, ttlMs: o.ttlMs }, name).catch((err: unknown) => {
        if (isCairnError(err, 'LEASE_HELD')) o.stats.pathBusy++
        else o.stats.errors.set(isCairnError(err) ? err.code : 'INTERNAL', (o.stats.errors.get(isCairnError(err) ? err.code : 'INTERNAL') ?? 0) + 1)
        return null
      })
      if (path) o.stats.pathLeases++
    }
    const steps = 2 + Math.floor(o.rnd() * 4)
    let done = false
    try {
      for (let step = 1; step <= steps && live(); step++) {
        await pause()
        if (!live()) break
        if (await counted(() => call('issues.comment', { id: issue.id, body: `step ${step}/${steps}: ${pick(o.rnd, NOTES)}` }, name))) o.stats.comments++
        const renewed = await counted(() => call<Lease>('locks.renew', { resource: lease.resource, token: lease.token, ttlMs: o.ttlMs }, name))
        if (renewed) lease = renewed
        if (path) path = (await counted(() => call<Lease>('locks.renew', { resource: path!.resource, token: path!.token, ttlMs: o.ttlMs }, name))) ?? path
      }
      if (!live()) break
      if (o.rnd() < 0.15) {
        const follow = await counted(() => call<{ id: string }>('issues.create', { title: `Follow up: ${titleOf(o.rnd, round).replace(/ \(#\d+\)$/, '')}`, labels: ['follow-up'] }, name))
        if (follow) {
          o.stats.followUps++
          await counted(() => call('issues.depend', { id: follow.id, target: issue.id, type: 'depends_on' }, name))
        }
      }
      if (await counted(() => call('issues.close', { id: issue.id }, name))) o.stats.closed++
      done = true
    } finally {
      // Stopped mid-work (the demo ends, Ctrl-C): the claim is let go, not left to lapse
      // (a close already ended it).
      if (!done) await counted(() => call('locks.release', { resource: lease.resource, token: lease.token }, name))
      if (path) await counted(() => call('locks.release', { resource: path!.resource, token: path!.token }, name))
    }
    if (!done) break
    await pause()
  }
}
