/**
 * `cairn demo --board`: a team of simulated agents working an issue board
 * through the daemon of your home, to watch live with `cairn ui`. Seeds a
 * backlog (200 issues by default) in a demo repository (or the one named),
 * serves the board and prints its URL, runs the agents (10 by default) for
 * a while, and leaves the daemon and the board running afterwards.
 *
 *   cairn demo --board                                  # 10 agents, 200 issues, 120 s, a step a second
 *   cairn demo --board --agents 4 --issues 50 --seconds 600 --pace 1500
 *   cairn demo --board /path/to/repo --issues 0         # agents on an existing board
 */
import { connectOrSpawn } from '../../daemon/spawn.ts'
import type { BoardInfo } from '../../daemon/board-host.ts'
import { newStats, runAgent } from './board-agent.ts'
import { caller, prng, seedBacklog } from './board-seed.ts'

export interface BoardDemoOptions {
  repo: string
  home: string
  agents: number
  issues: number
  seconds: number
  paceMs: number
  ttlMs: number
  seed: number
  port?: number
  ui: boolean
  signal: AbortSignal
}

export interface BoardDemoSummary {
  repo: string
  url: string | null
  daemonPid: number
  agents: number
  stalled: string | null
  claims: number
  closed: number
  followUps: number
  pathLeases: number
  comments: number
  errors: Record<string, number>
  events: number
  issues: number
  outbox: number
}

/** Runs the board demo; `say` gets the progress lines (not the summary). */
export async function runBoardDemo(o: BoardDemoOptions, say: (line: string) => void): Promise<BoardDemoSummary> {
  const { client } = await connectOrSpawn(o.home, { client: 'cairn-demo' })
  const call = caller(client, o.repo)
  const rnd = prng(o.seed)
  try {
    if (o.issues > 0) {
      say(`cairn demo: seeding ${o.issues} issues in ${o.repo} ...`)
      await seedBacklog(call, o.issues, rnd, (n) => { if (n % 100 === 0) say(`  ${n} issues`) })
    }
    let url: string | null = null
    if (o.ui) {
      const info = await client.request<BoardInfo>('ui.start', { repo: o.repo, args: o.port === undefined ? {} : { port: o.port } }, { timeoutMs: 30_000 })
      url = info.url
      say(`cairn demo: watch it live at\n\n  ${info.url}\n`)
    }
    say(`cairn demo: ${o.agents} agents working for ${o.seconds} s (pace ${o.paceMs} ms, claims of ${o.ttlMs / 1000} s) through the daemon (pid ${client.hello.pid}) ...`)
    const stats = newStats()
    const deadline = Date.now() + o.seconds * 1000
    const started = Date.now()
    const ticker = setInterval(() => {
      say(`  ${Math.round((Date.now() - started) / 1000)} s: ${stats.claims} claimed, ${stats.closed} closed, ${stats.comments} comments, ${stats.followUps} follow-ups${stats.errors.size ? `, errors ${[...stats.errors].map(([c, n]) => `${c}×${n}`).join(' ')}` : ''}`)
    }, 10_000)
    try {
      await Promise.all(Array.from({ length: o.agents }, (_, i) => runAgent(call, `agent-${i + 1}`, {
        deadline, paceMs: o.paceMs, ttlMs: o.ttlMs, rnd: prng(o.seed * 1000 + i + 1), signal: o.signal, stats,
        // With a team of five or more, the last one stalls on its first claim, so a lapsing lease shows.
        stall: o.agents >= 5 && i === o.agents - 1,
      })))
    } finally {
      clearInterval(ticker)
    }
    const log = await call<{ lastSeq: number; outbox: number; issues: number }>('events.stats', {}, 'planner')
    return {
      repo: o.repo, url, daemonPid: client.hello.pid, agents: o.agents, stalled: o.agents >= 5 ? `agent-${o.agents}` : null,
      claims: stats.claims, closed: stats.closed, followUps: stats.followUps, pathLeases: stats.pathLeases, comments: stats.comments,
      errors: Object.fromEntries(stats.errors), events: log.lastSeq, issues: log.issues, outbox: log.outbox,
    }
  } finally {
    client.close()
  }
}

/** The summary for people. */
export function boardSummaryText(s: BoardDemoSummary): string {
  const errors = Object.entries(s.errors)
  return [
    '',
    'Cairn board demo summary',
    `  agents        ${s.agents}${s.stalled ? ` (${s.stalled} stalled on purpose: its lease lapsed)` : ''}`,
    `  claims        ${s.claims} (${s.closed} closed, ${s.followUps} follow-ups found, ${s.pathLeases} path leases)`,
    `  comments      ${s.comments}`,
    `  errors        ${errors.length === 0 ? 'none' : errors.map(([c, n]) => `${c}×${n}`).join(', ')}`,
    `  event log     ${s.events} events, ${s.issues} issues, ${s.outbox} waiting for the git WAL`,
    `  repository    ${s.repo}`,
    s.url === null ? '' : '  the board keeps serving: `cairn ui --stop` (or `cairn daemon stop`) ends it',
  ].join('\n')
}
