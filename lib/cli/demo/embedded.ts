/**
 * `cairn demo` (without --board): simulated agents on an embedded runtime in
 * this process. Each agent has its own actor id and creates, links, comments
 * on and closes its own issues until the deadline; a watcher follows the log
 * live; the summary tells what was acknowledged, how fast, and what reached
 * the git WAL. The runtime is stopped before the summary is returned.
 */
import { isCairnError } from '../../../protocol/errors.ts'
import type { Repo } from '../../api/repo.ts'

export interface DemoSummary {
  repo: string
  bootMs: number
  agents: number
  seconds: number
  writes: number
  p50Ms: number
  p99Ms: number
  errors: Record<string, number>
  events: number
  lastSeq: number
  outbox: number
  walEvents: number
  walCommits: number
  walError: string | null
  open: number
  closed: number
  ready: number
  watched: number
  /** Events written during the run (what the watcher could follow). */
  newEvents: number
  threads: number[]
  actors: string[]
}

/** Runs the demo on `repoPath` with a runtime on `home`; `say` gets the progress lines. */
export async function runDemo(repoPath: string, home: string, agents: number, seconds: number, say: (line: string) => void): Promise<DemoSummary> {
  // Loaded here only: the runtime's module graph would slow every other command.
  const { createRuntime } = await import('../../api/create-runtime.ts')
  const t0 = performance.now()
  const runtime = await createRuntime({ home })
  try {
    const bootMs = performance.now() - t0
    const board = await runtime.repo(repoPath, { agent: 'board-watcher' })
    say(`cairn: serving in ${bootMs.toFixed(0)} ms; repository ${board.path}`)
    say(`cairn: ${agents} agents working on the issue board for ${seconds} s ...`)
    const latencies: number[] = []
    const errors: Record<string, number> = {}
    const deadline = Date.now() + seconds * 1000
    const startSeq = (await board.events.stats()).lastSeq

    // A watcher follows the log as agents write, the way a dashboard or a sync would.
    const watch = new AbortController()
    let watched = 0
    const watcher = (async () => {
      for await (const _ of board.events.subscribe({ fromSeq: startSeq + 1, signal: watch.signal })) watched++
    })()

    const agent = async (n: number): Promise<number> => {
      const repo = await runtime.repo(repoPath, { agent: `agent-${n}` })
      return work(repo, n, deadline, latencies, errors)
    }
    const writes = (await Promise.all(Array.from({ length: agents }, (_, n) => agent(n)))).reduce((a, b) => a + b, 0)
    latencies.sort((a, b) => a - b)
    const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
    const wal = await board.wal.flush().then(() => null, (err: unknown) => String((err as Error).message ?? err))
    const stats = await board.events.stats()
    const open = (await board.issues.list({ state: 'open' })).length
    const closed = (await board.issues.list({ state: 'closed' })).length
    const ready = (await board.issues.ready()).length
    for (let i = 0; i < 200 && watched < stats.lastSeq - startSeq; i++) await new Promise((r) => setTimeout(r, 10))
    watch.abort()
    await watcher
    const status = await runtime.status()
    return {
      repo: board.path, bootMs: Math.round(bootMs), agents, seconds, writes,
      p50Ms: Number(pct(0.5).toFixed(2)), p99Ms: Number(pct(0.99).toFixed(2)), errors,
      events: stats.events, lastSeq: stats.lastSeq, outbox: stats.outbox,
      walEvents: stats.wal?.drainedEvents ?? 0, walCommits: stats.wal?.commits ?? 0, walError: wal,
      open, closed, ready, watched, newEvents: stats.lastSeq - startSeq,
      threads: status.threads.map((t) => t.threadId), actors: status.actors.map((a) => `${a.kind}(${a.state})`),
    }
  } finally {
    await runtime.stop()
  }
}

/** One agent: creates, links, comments on and closes its own issues until the deadline; returns its acknowledged writes. */
async function work(repo: Repo, n: number, deadline: number, latencies: number[], errors: Record<string, number>): Promise<number> {
  const mine: string[] = []
  let done = 0
  const timed = async (op: () => Promise<unknown>): Promise<void> => {
    const start = performance.now()
    try {
      await op()
      latencies.push(performance.now() - start)
      done++
    } catch (err) {
      const code = isCairnError(err) ? err.code : 'INTERNAL'
      errors[code] = (errors[code] ?? 0) + 1
    }
  }
  for (let i = 0; Date.now() < deadline && i < 10_000_000; i++) {
    const id = mine[i % Math.max(1, mine.length)]
    if (id === undefined || i % 5 === 0) {
      await timed(async () => { mine.push((await repo.issues.create({ title: `task ${i} of agent ${n}`, labels: [i % 2 ? 'backend' : 'docs'] })).id) })
    } else if (i % 5 === 1 && id !== mine[0]) {
      await timed(() => repo.issues.depend(id, { target: mine[0]!, type: 'depends_on' }))
    } else if (i % 5 === 4) {
      await timed(() => repo.issues.close(id))
    } else {
      await timed(() => repo.issues.comment(id, `agent ${n}: progress on step ${i}`))
    }
  }
  return done
}

/** The summary for people. */
export function demoSummaryText(s: DemoSummary): string {
  const errors = Object.entries(s.errors)
  return [
    '',
    'Cairn demo summary',
    `  agents              ${s.agents} (each its own actor id)`,
    `  acknowledged writes ${s.writes} (${(s.writes / s.seconds).toFixed(0)}/s, each durable before its ack)`,
    `  latency             p50 ${s.p50Ms.toFixed(2)} ms   p99 ${s.p99Ms.toFixed(2)} ms`,
    `  errors              ${errors.length === 0 ? 'none' : errors.map(([c, n]) => `${c}×${n}`).join(', ')}`,
    `  event log           ${s.events} events (last seq ${s.lastSeq}), ${s.outbox} waiting for the git WAL`,
    `  git WAL             ${s.walError !== null ? `not written: ${s.walError}` : `${s.walEvents} events in ${s.walCommits} commits on refs/cairn/wal/<actor> (git -C ${s.repo} log refs/cairn/wal/...)`}`,
    `  issues              ${s.open} open, ${s.closed} closed, ${s.ready} ready to work on`,
    `  watcher             followed ${s.watched} of ${s.newEvents} new events live`,
    `  threads             ${s.threads.map((t) => `#${t}`).join(', ')}`,
    `  actors              ${s.actors.join(', ')}`,
    '  stopped cleanly     yes',
  ].join('\n')
}
