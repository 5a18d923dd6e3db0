/**
 * bench:transport's cross-host claim scenario (issue 19): `hosts` clones,
 * each with its own runtime home and `cairn.remote` naming the remote behind
 * the delay proxy, `agents` agents per host, all claiming and closing the
 * ready issues at once until none is left. The boards are not synced during
 * the run, so every host keeps seeing issues others already closed: the worst
 * case for stale boards, decided only by the claim refs.
 *
 *   cairn.claim.uncontended  one agent alone claiming fresh issues (one push each), beside one plain git push
 *   cairn.claim.remote     one claimNext through the coordination remote (p50/p99) with every agent at once
 *   cairn.claim.close      close through it: done on the remote, then closed here
 *   cairn.claim.rate       claims per second over the run
 *   cairn.claim.twice      issues claimed by more than one holder (goal 0)
 *   cairn.claim.redone     issues claimed after their close (goal 0)
 *   cairn.claim.refs.*     claim refs on the remote after the run, and after one collection
 */
import { execFileSync } from 'node:child_process'
import type { Repo } from '../../lib/index.ts'
import type { BenchResult } from '../lib/report.ts'
import { LatencyRecorder, summarize } from '../lib/stats.ts'

export interface ClaimFixture {
  url: string
  delayMs: number
  /** A repository handle on a fresh clone with its own runtime home (`host` names both). */
  repo(host: string, agent: string): Promise<Repo>
  remoteDir: string
  quick: boolean
}

const count = (name: string, value: number, unit: string, note: string, extra: Partial<BenchResult> = {}): BenchResult =>
  ({ name, group: 'transport', unit, value, note, ...extra })

export async function claimScenario(f: ClaimFixture): Promise<BenchResult[]> {
  const hosts = 3
  const agents = f.quick ? 3 : 10
  const issues = f.quick ? 30 : 150
  // Host 0 writes the board; the others pull it once, then work from what they saw.
  const first = await f.repo('claim-h0', 'h0-a0')
  for (let i = 0; i < issues; i++) await first.issues.create({ title: `claim ${i}` })
  await first.sync({ remote: f.url })
  const byHost: Repo[][] = []
  for (let h = 0; h < hosts; h++) {
    const repos: Repo[] = []
    for (let a = 0; a < agents; a++) repos.push(h === 0 && a === 0 ? first : await f.repo(`claim-h${h}`, `h${h}-a${a}`))
    if (h > 0) await repos[0]!.sync({ remote: f.url })
    await repos[0]!.coordination.set(f.url)
    byHost.push(repos)
  }
  // Uncontended first: one agent claims and closes alone (fresh issues, nobody else pushing): one push per claim.
  const solo = new LatencyRecorder(f.quick ? 10 : 30)
  const soloRepo = await f.repo('claim-solo', 'solo')
  await soloRepo.coordination.set(f.url)
  for (let i = 0; i < (f.quick ? 10 : 30); i++) {
    const { id } = await soloRepo.issues.create({ title: `solo ${i}` })
    const s = performance.now()
    const got = await soloRepo.issues.claimNext({ ttlMs: 60_000, autoRenew: false })
    solo.record(performance.now() - s)
    if (got?.issue.id !== id) throw new Error(`solo claim took ${got?.issue.id ?? 'nothing'}, not ${id}`)
    await soloRepo.issues.close(id, { lease: got.lease, local: true })
    await got.lease.release().catch(() => undefined)
  }
  const claimLat = new LatencyRecorder(issues * 2)
  const closeLat = new LatencyRecorder(issues * 2)
  const claims: { issue: string; actor: string; at: number }[] = []
  const closedAt = new Map<string, number>()
  const deadline = Date.now() + (f.quick ? 60_000 : 180_000)
  const t0 = performance.now()
  await Promise.all(byHost.flat().map(async (repo) => {
    while (Date.now() < deadline) {
      let s = performance.now()
      const got = await repo.issues.claimNext({ ttlMs: 60_000, autoRenew: false })
      claimLat.record(performance.now() - s)
      if (got === null) return
      claims.push({ issue: got.issue.id, actor: repo.actor, at: Date.now() })
      s = performance.now()
      await repo.issues.close(got.issue.id, { lease: got.lease })
      closeLat.record(performance.now() - s)
      closedAt.set(got.issue.id, Date.now())
      await got.lease.release().catch(() => undefined)
    }
  }))
  const wallS = (performance.now() - t0) / 1000
  const perIssue = new Map<string, number>()
  for (const c of claims) perIssue.set(c.issue, (perIssue.get(c.issue) ?? 0) + 1)
  const twice = [...perIssue.values()].filter((n) => n > 1).length
  const redone = claims.filter((c) => (closedAt.get(c.issue) ?? Infinity) < c.at).length
  const refsOnRemote = (): number => execFileSync('git', ['-C', f.remoteDir, 'for-each-ref', '--format=%(refname)', 'refs/cairn/claims/'], { encoding: 'utf8' })
    .split('\n').filter(Boolean).length
  const after = refsOnRemote()
  const collected = await first.coordination.collect({ doneRetentionMs: 0 })
  const afterCollect = refsOnRemote()
  const c = summarize(claimLat.samples())
  const d = summarize(closeLat.samples())
  const u = summarize(solo.samples())
  return [
    { name: 'cairn.claim.uncontended', group: 'transport', unit: 'ms', value: u.p50, p50: u.p50, p99: u.p99, baseline: 'raw.git.push.one-ref',
      note: `claimNext through the coordination remote, one agent alone (one push; the claim commit written in-process); n=${u.count} (goal p50 ≤ push + 50 ms)` },
    { name: 'cairn.claim.remote', group: 'transport', unit: 'ms', value: c.p50, p50: c.p50, p99: c.p99, baseline: 'raw.git.push.one-ref',
      note: `claimNext through the coordination remote, ${hosts} hosts × ${agents} agents, stale boards; n=${c.count} p95=${c.p95.toFixed(1)} max=${c.max.toFixed(1)} ms (goal p50 ≤ push + 50 ms)` },
    { name: 'cairn.claim.close', group: 'transport', unit: 'ms', value: d.p50, p50: d.p50, p99: d.p99, baseline: 'raw.git.push.one-ref',
      note: `close: done on the remote (one push), then closed here; n=${d.count}` },
    count('cairn.claim.rate', claims.length / wallS, 'claims/s', `${claims.length} claims of ${issues} issues in ${wallS.toFixed(1)} s`),
    count('cairn.claim.twice', twice, 'issues', 'issues claimed by more than one holder (goal 0)'),
    count('cairn.claim.redone', redone, 'issues', 'issues claimed after they were closed (goal 0)'),
    count('cairn.claim.refs.after-run', after, 'refs', 'claim refs on the remote after the run (one done claim per finished issue)'),
    count('cairn.claim.refs.after-collect', afterCollect, 'refs', `after one collect with no retention (deleted ${collected.deleted} of ${collected.seen})`),
  ]
}
