/**
 * One run: `agents` simulated agents perform `ops` operations drawn from a
 * mix against one target, under one of three schedules.
 *
 * - burst: every agent starts at once and calls back to back (closed loop,
 *   no think time): the capacity of the target. Latency is per call.
 * - sustained: operations are offered at a fixed `rate` (ops/s); slot j is
 *   due at j/rate and belongs to agent j mod agents, which waits for the due
 *   time, or calls at once when late. Latency is measured from the due time,
 *   not from the call, so a target that falls behind shows it in the tail
 *   instead of hiding it (coordinated omission).
 * - ramp: agents join one by one as the first half of the operations
 *   complete (agent i once i·ops/(2·agents) are done), then run closed loop:
 *   throughput over time shows how the target scales with concurrency.
 *
 * Bounded twice: the shared operation budget, and `maxMs` after which no
 * agent starts another call (the calls in flight finish; the report says
 * the run was cut). Before timing, every agent opens its session, the
 * board is seeded with one issue per agent, so early operations have
 * something to act on, and `warmupOps` untimed operations of the mix run
 * closed loop.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { mulberry32 } from '../../test/helpers/prng.ts'
import { Board, releaseAll, step, type AgentState } from './agent.ts'
import { pickOp, picker, type Mix, type OpKind } from './mix.ts'
import { RunMetrics, SLOT_MS } from './metrics.ts'
import type { Scenario } from './params.ts'
import type { Target } from './target.ts'

export interface RunOptions {
  scenario: Scenario
  agents: number
  ops: number
  mix: Mix
  seed: number
  /** Offered ops/s; used by `sustained` only. */
  rate: number
  /** Untimed operations from the mix, closed loop, after seeding and before timing. */
  warmupOps: number
  maxMs: number
  /** Called as operations complete (for a progress bar). */
  onProgress?: (completed: number) => void
}

export interface RunOutcome {
  metrics: RunMetrics
  /** From the first call to the last completion. */
  wallMs: number
  /** The time bound stopped the run before its operation budget was spent. */
  stoppedByTime: boolean
  cpu: NodeJS.CpuUsage
  rss: { startMiB: number; peakMiB: number; endMiB: number }
  /** Agents that had started when the run ended (ramp may not start them all). */
  agentsStarted: number
  seedMs: number
  warmupMs: number
}

const MIB = 2 ** 20

/**
 * Opens the agents' sessions, seeds the board, runs the schedule, then
 * releases the leases agents still hold. The target stays open.
 */
export async function runScenario(target: Target, o: RunOptions): Promise<RunOutcome> {
  const pick = picker(o.mix)
  const agents: AgentState[] = []
  for (let i = 0; i < o.agents; i++) {
    agents.push({ session: await target.session(`agent-${i}`), rand: mulberry32(o.seed * 1_000_003 + i), leases: [], serial: 0 })
  }
  const board = new Board()
  const seedStart = performance.now()
  await Promise.all(agents.map((a) => step(a, board, 'create').done))
  const seedMs = performance.now() - seedStart
  // Warm-up: first calls pay for JIT, caches and thread start-up, which a run of a few thousand calls would report as its tail.
  const warmStart = performance.now()
  let warmLeft = o.warmupOps
  await Promise.all(agents.map(async (a) => {
    while (warmLeft-- > 0) await step(a, board, pickOp(pick, a.rand)).done.catch(() => undefined)
  }))
  const warmupMs = performance.now() - warmStart

  const t0 = performance.now()
  const metrics = new RunMetrics(t0)
  const rss0 = process.memoryUsage.rss()
  metrics.sampleRss(t0, rss0)
  const sampler = setInterval(() => metrics.sampleRss(performance.now(), process.memoryUsage.rss()), SLOT_MS)
  sampler.unref()
  const cpu0 = process.cpuUsage()
  const deadline = t0 + o.maxMs
  let issued = 0
  let completed = 0
  let stoppedByTime = false
  let lastEnd = t0
  let onComplete: () => void = () => {}

  /** Runs one operation of agent `a`, timed from `due` (default: now). */
  const one = async (a: AgentState, due?: number): Promise<void> => {
    const start = performance.now()
    const { kind, done } = step(a, board, pickOp(pick, a.rand))
    let err: unknown
    try {
      await done
    } catch (e) {
      err = e ?? new Error('rejected without a reason')
    }
    const end = performance.now()
    // A call made up to 1 ms early (not worth a timer) is timed from when it was made.
    metrics.record(kind as OpKind, Math.min(due ?? start, start), end, err)
    lastEnd = Math.max(lastEnd, end)
    completed++
    onComplete()
    o.onProgress?.(completed)
  }
  const mayStart = (): boolean => {
    if (issued >= o.ops) return false
    if (performance.now() >= deadline) {
      stoppedByTime = true
      return false
    }
    issued++
    return true
  }
  const closedLoop = async (a: AgentState): Promise<void> => {
    while (mayStart()) await one(a)
  }

  let agentsStarted = 0
  if (o.scenario === 'burst') {
    agentsStarted = agents.length
    await Promise.all(agents.map(closedLoop))
  } else if (o.scenario === 'sustained') {
    if (!(o.rate > 0)) throw new RangeError(`sustained needs a positive rate, got ${o.rate}`)
    const interval = 1000 / o.rate
    agentsStarted = agents.length
    await Promise.all(agents.map(async (a, i) => {
      for (let slot = i; slot < o.ops; slot += agents.length) {
        const due = t0 + slot * interval
        const wait = due - performance.now()
        if (wait > 1) await sleep(Math.min(wait, Math.max(0, deadline - performance.now())))
        if (!mayStart()) return
        await one(a, due)
      }
    }))
  } else {
    // ramp: agent i joins once i·ops/(2·agents) operations are done.
    const runs: Promise<void>[] = []
    const threshold = (i: number): number => Math.floor((i * o.ops) / (2 * agents.length))
    onComplete = () => {
      while (agentsStarted < agents.length && completed >= threshold(agentsStarted)) runs.push(closedLoop(agents[agentsStarted++] as AgentState))
    }
    onComplete()
    // Agents join while others run: wait until a round of waiting adds none (at most one round per agent).
    for (let round = 0; round <= agents.length; round++) {
      const seen = runs.length
      await Promise.all(runs)
      if (runs.length === seen) break
    }
  }

  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  const rssEnd = process.memoryUsage.rss()
  metrics.sampleRss(performance.now(), rssEnd)
  await Promise.all(agents.map(releaseAll))
  return {
    metrics,
    wallMs: Math.max(1, lastEnd - t0),
    stoppedByTime: stoppedByTime && issued < o.ops,
    cpu,
    rss: { startMiB: rss0 / MIB, peakMiB: Math.max(...metrics.rssSlots), endMiB: rssEnd / MIB },
    agentsStarted,
    seedMs,
    warmupMs,
  }
}
