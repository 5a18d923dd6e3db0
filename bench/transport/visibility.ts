/**
 * bench:transport's cross-host visibility scenario (issue 19: "cross-host
 * visibility p50/p99, goal p99 ≤ 2 sync intervals; sync p99 at 50 writes/s
 * per host"). `hosts` clones, each with its own runtime home, `agents` agents
 * per host writing at a steady `rate` per host (open loop: each
 * write is due at its time and issued then, whether or not the ones before
 * it were answered), while every host runs `repo.sync()` against the remote
 * behind the delay proxy every `intervalMs` (hosts staggered by a third of an
 * interval; a sync that overruns its tick starts at the next one). Each
 * agent opens an issue every tenth write and comments on its latest issue
 * otherwise, so no issue grows past the size of a real one.
 *
 * Visibility of a write is the time from its acknowledgement on its host
 * to its arrival in another host's event log (`events.subscribe`, which
 * yields an event once it is committed there, so readable). After the
 * writers stop, the hosts keep syncing for `settleIntervals` intervals, and
 * every write not seen by every other host by then is counted as missing.
 *
 *   cairn.visibility.p50/.p99           ack on host A → readable on host B, every (A, B ≠ A) pair
 *   cairn.visibility.p99-intervals      that p99 in sync intervals (goal ≤ 2)
 *   cairn.visibility.missing            (write, host) pairs not visible after the settle time (goal 0)
 *   cairn.sync.steady                   repo.sync() duration under the writers (p50/p99), beside one plain push
 *   cairn.sync.steady.flush             its WAL flush part (report.phasesMs.flush)
 *   cairn.sync.steady.trend             p50 of the last third of syncs ÷ the first third (≈1: not growing)
 *   cairn.write.steady                  one write's acknowledgement under the syncs (due time → answer)
 *   cairn.write.rate                    acknowledged writes/s per host (offered: `rate`)
 */
import type { Repo } from '../../lib/index.ts'
import type { BenchResult } from '../lib/report.ts'
import { LatencyRecorder, summarize, type LatencySummary } from '../lib/stats.ts'

export interface VisibilityFixture {
  url: string
  /** A handle on clone `host` with its own runtime home; `agent` adds an agent on it. */
  repo(host: string, agent: string): Promise<Repo>
  quick: boolean
  /** Overrides of the defaults below (flags of bench/transport.ts). */
  intervalMs?: number
  seconds?: number
}

const HOSTS = 3
const MARK = /^vis h(\d+) (\d+)$/
/** Each agent opens a new issue every this many writes (the rest are comments on it). */
const ISSUE_EVERY = 10
/** Writes in flight per host at most: a host that cannot keep up shows in write latency, not in unbounded memory. */
const MAX_IN_FLIGHT = 200

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)))

function latency(name: string, s: LatencySummary, note: string, baseline?: string): BenchResult {
  return { name, group: 'transport', unit: 'ms', value: s.p50, p50: s.p50, p99: s.p99, ...(baseline ? { baseline } : {}),
    note: `${note}; n=${s.count} p95=${s.p95.toFixed(1)} max=${s.max.toFixed(1)} ms` }
}

export async function visibilityScenario(f: VisibilityFixture): Promise<BenchResult[]> {
  const intervalMs = f.intervalMs ?? (f.quick ? 1_000 : 3_000)
  const seconds = f.seconds ?? (f.quick ? 8 : 60)
  const agents = f.quick ? 3 : 10
  const rate = 50
  const settleIntervals = 4
  // Setup, untimed: one issue per agent, every host has every issue before the clock starts.
  const hosts: { repos: Repo[]; issues: string[] }[] = []
  for (let h = 0; h < HOSTS; h++) {
    const repos: Repo[] = []
    const issues: string[] = []
    for (let a = 0; a < agents; a++) {
      const repo = await f.repo(`vis-h${h}`, `vis-h${h}-a${a}`)
      repos.push(repo)
      issues.push((await repo.issues.create({ title: `visibility h${h} a${a}` })).id)
    }
    hosts.push({ repos, issues })
  }
  for (let round = 0; round < 2; round++) for (const h of hosts) await h.repos[0]!.sync({ remote: f.url })

  // Arrivals: per host, marker -> when it was read there.
  const acked: Map<number, number>[] = hosts.map(() => new Map())
  const arrived: Map<string, number>[] = hosts.map(() => new Map())
  const stopFeeds = new AbortController()
  const feeds = hosts.map(async (h, b) => {
    const from = (await h.repos[0]!.events.stats()).lastSeq + 1
    try {
      for await (const { event } of h.repos[0]!.events.subscribe({ fromSeq: from, signal: stopFeeds.signal })) {
        const text = event.kind.type === 'CommentAdded' ? event.kind.body : event.kind.type === 'IssueCreated' ? event.kind.title : null
        if (text === null) continue
        const m = MARK.exec(text)
        if (m && Number(m[1]) !== b) arrived[b]!.set(`${m[1]} ${m[2]}`, performance.now())
      }
    } catch (err) {
      if (!stopFeeds.signal.aborted) throw err
    }
  })

  const syncLat = new LatencyRecorder(256)
  const flushLat = new LatencyRecorder(256)
  const syncs: { at: number; ms: number; flushMs: number }[] = []
  const phases = { fetch: new LatencyRecorder(256), ingest: new LatencyRecorder(256), push: new LatencyRecorder(256) }
  let syncFailures = 0
  let overruns = 0
  const writeLat = new LatencyRecorder(seconds * rate * HOSTS)
  let writeFailures = 0
  const t0 = performance.now()
  const writeEnd = t0 + seconds * 1000
  let syncEnd = Infinity

  const syncLoop = async (h: number): Promise<void> => {
    const repo = hosts[h]!.repos[0]!
    let tick = t0 + (h * intervalMs) / HOSTS
    while (tick < syncEnd) {
      await sleep(tick - performance.now())
      if (tick >= syncEnd) break
      const s = performance.now()
      try {
        const r = await repo.sync({ remote: f.url })
        const ms = performance.now() - s
        if (s < writeEnd) {
          syncLat.record(ms)
          flushLat.record(r.phasesMs?.flush ?? 0)
          syncs.push({ at: s - t0, ms, flushMs: r.phasesMs?.flush ?? 0 })
          for (const k of ['fetch', 'ingest', 'push'] as const) phases[k].record(r.phasesMs?.[k] ?? 0)
        }
      } catch {
        syncFailures++
      }
      tick += intervalMs
      if (tick < performance.now()) {
        overruns++
        tick += Math.ceil((performance.now() - tick) / intervalMs) * intervalMs
      }
    }
  }

  const writer = async (h: number): Promise<void> => {
    const { repos, issues } = hosts[h]!
    const inFlight = new Set<Promise<void>>()
    const gap = 1000 / rate
    for (let n = 0; ; n++) {
      const due = t0 + n * gap
      if (due >= writeEnd) break
      await sleep(due - performance.now())
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight)
      const a = n % repos.length
      // Every agent's tenth write opens a new issue, the others comment on its latest: issues stay the size of real ones.
      const fresh = Math.floor(n / repos.length) % ISSUE_EVERY === 0
      const mark = `vis h${h} ${n}`
      const write = fresh
        ? repos[a]!.issues.create({ title: mark }).then((r) => { issues[a] = r.id })
        : repos[a]!.issues.comment(issues[a]!, mark)
      const p = write.then(
        () => { const now = performance.now(); writeLat.record(now - due); acked[h]!.set(n, now) },
        () => { writeFailures++ },
      ).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    await Promise.all(inFlight)
  }

  const loops = hosts.map((_, h) => syncLoop(h))
  await Promise.all(hosts.map((_, h) => writer(h)))
  const wroteS = (performance.now() - t0) / 1000
  // Settle: the syncs keep going until every write is seen everywhere, or settleIntervals have passed.
  const expected = acked.reduce((n, m) => n + m.size, 0) * (HOSTS - 1)
  const settleBy = performance.now() + settleIntervals * intervalMs
  const seen = (): number => arrived.reduce((n, m) => n + m.size, 0)
  while (performance.now() < settleBy && seen() < expected) await sleep(50)
  syncEnd = 0
  await Promise.all(loops)
  stopFeeds.abort()
  await Promise.all(feeds)

  const vis = new LatencyRecorder(expected)
  let missing = 0
  for (let a = 0; a < HOSTS; a++) {
    for (let b = 0; b < HOSTS; b++) {
      if (a === b) continue
      for (const [n, at] of acked[a]!) {
        const got = arrived[b]!.get(`${a} ${n}`)
        // An arrival can beat the acknowledgement's callback by a hair on a busy event loop: that is 0, not negative.
        if (got === undefined) missing++
        else vis.record(Math.max(0, got - at))
      }
    }
  }
  const v = summarize(vis.samples())
  const s = summarize(syncLat.samples())
  const fl = summarize(flushLat.samples())
  const w = summarize(writeLat.samples())
  const phaseNote = (['fetch', 'ingest', 'push'] as const).map((k) => {
    const x = summarize(phases[k].samples())
    return `${k} p50 ${x.p50.toFixed(0)} p99 ${x.p99.toFixed(0)} ms`
  }).join(', ')
  const third = Math.floor(syncs.length / 3)
  const p50Of = (xs: typeof syncs): number => summarize(Float64Array.from(xs.map((x) => x.ms))).p50
  const trend = third > 0 ? p50Of(syncs.slice(-third)) / p50Of(syncs.slice(0, third)) : NaN
  const ackedWrites = acked.reduce((n, m) => n + m.size, 0)
  const where = `${HOSTS} hosts × ${agents} agents, ${rate} writes/s per host for ${seconds} s, sync every ${intervalMs} ms per host`
  return [
    latency('cairn.visibility', v, `ack on one host → in another host's event log (subscribe), every pair; ${where}`),
    { name: 'cairn.visibility.p99-intervals', group: 'transport', unit: 'intervals', value: v.p99 / intervalMs,
      note: `visibility p99 ÷ the sync interval (${intervalMs} ms); goal ≤ 2` },
    { name: 'cairn.visibility.missing', group: 'transport', unit: 'pairs', value: missing,
      note: `(write, other host) pairs not visible ${settleIntervals} intervals after the writers stopped, of ${expected} (goal 0)` },
    latency('cairn.sync.steady', s, `repo.sync() (fetch, ingest, flush, push) while the writers run; ${where}; ${syncFailures} failed, ${overruns} ticks overrun; phases: ${phaseNote}, flush below`, 'raw.git.push.one-ref'),
    latency('cairn.sync.steady.flush', fl, 'the WAL flush inside each of those syncs (report.phasesMs.flush)'),
    { name: 'cairn.sync.steady.trend', group: 'transport', unit: '×', value: trend,
      note: `p50 sync duration of the last third of the run ÷ the first third (${third} syncs each); ≈1 means not growing` },
    latency('cairn.write.steady', w, `one write (a comment, or every tenth an issue), due time → acknowledgement, under the syncs; ${writeFailures} failed`),
    { name: 'cairn.write.rate', group: 'transport', unit: 'writes/s', value: ackedWrites / HOSTS / wroteS,
      note: `acknowledged writes per second per host (offered ${rate}/s)` },
  ]
}
