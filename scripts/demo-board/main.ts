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
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { resolveHome } from '../../lib/daemon/paths.ts'
import { connectOrSpawn } from '../../lib/daemon/spawn.ts'
import type { BoardInfo } from '../../lib/daemon/board-host.ts'
import { isCairnError } from '../../lib/index.ts'
import { newStats, runAgent } from './agent.ts'
import { caller, prng, seedBacklog } from './seed.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    board: { type: 'boolean' },
    agents: { type: 'string', default: '10' },
    issues: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '120' },
    pace: { type: 'string', default: '1000' },
    ttl: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    port: { type: 'string' },
    home: { type: 'string' },
    'no-ui': { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
})

function fail(msg: string): never {
  process.stderr.write(`cairn demo: ${msg}\n`)
  process.exit(2)
}
function int(name: string, min: number, max: number): number {
  const v = Number(values[name as keyof typeof values])
  if (!Number.isInteger(v) || v < min || v > max) fail(`--${name} must be an integer from ${min} to ${max}`)
  return v
}
const agents = int('agents', 1, 200)
const issues = int('issues', 0, 100_000)
const seconds = int('seconds', 1, 86_400)
const paceMs = int('pace', 0, 600_000)
const ttlMs = int('ttl', 1000, 86_400_000)
const seed = int('seed', 0, 2 ** 31)
const port = values.port === undefined ? undefined : int('port', 0, 65_535)
const say = (line: string): void => { if (!values.quiet) process.stdout.write(`${line}\n`) }

let repo = positionals[0] ? resolve(positionals[0]) : ''
if (!repo) {
  repo = join(mkdtempSync(join(tmpdir(), 'cairn-demo-')), 'demo-repo')
  execFileSync('git', ['init', '-q', repo])
}
const home = resolveHome(values.home)
const { client } = await connectOrSpawn(home, { client: 'cairn-demo' })
const call = caller(client, repo)
const rnd = prng(seed)

try {
  if (issues > 0) {
    say(`cairn demo: seeding ${issues} issues in ${repo} ...`)
    await seedBacklog(call, issues, rnd, (n) => { if (n % 100 === 0) say(`  ${n} issues`) })
  }
  if (!values['no-ui']) {
    const info = await client.request<BoardInfo>('ui.start', { repo, args: port === undefined ? {} : { port } }, { timeoutMs: 30_000 })
    say(`cairn demo: watch it live at\n\n  ${info.url}\n`)
  }
  say(`cairn demo: ${agents} agents working for ${seconds} s (pace ${paceMs} ms, claims of ${ttlMs / 1000} s) through the daemon (pid ${client.hello.pid}) ...`)
  const stats = newStats()
  const stop = new AbortController()
  process.once('SIGINT', () => stop.abort())
  process.once('SIGTERM', () => stop.abort())
  const deadline = Date.now() + seconds * 1000
  const started = Date.now()
  const ticker = setInterval(() => {
    say(`  ${Math.round((Date.now() - started) / 1000)} s: ${stats.claims} claimed, ${stats.closed} closed, ${stats.comments} comments, ${stats.followUps} follow-ups${stats.errors.size ? `, errors ${[...stats.errors].map(([c, n]) => `${c}×${n}`).join(' ')}` : ''}`)
  }, 10_000)
  await Promise.all(Array.from({ length: agents }, (_, i) => runAgent(call, `agent-${i + 1}`, {
    deadline, paceMs, ttlMs, rnd: prng(seed * 1000 + i + 1), signal: stop.signal, stats,
    // With a team of five or more, the last one stalls on its first claim, so a lapsing lease shows.
    stall: agents >= 5 && i === agents - 1,
  })))
  clearInterval(ticker)
  const stats2 = await call<{ lastSeq: number; outbox: number; issues: number }>('events.stats', {}, 'planner')
  say([
    '',
    'Cairn board demo summary',
    `  agents        ${agents}${agents >= 5 ? ` (agent-${agents} stalled on purpose: its lease lapsed)` : ''}`,
    `  claims        ${stats.claims} (${stats.closed} closed, ${stats.followUps} follow-ups found, ${stats.pathLeases} path leases)`,
    `  comments      ${stats.comments}`,
    `  errors        ${stats.errors.size === 0 ? 'none' : [...stats.errors].map(([c, n]) => `${c}×${n}`).join(', ')}`,
    `  event log     ${stats2.lastSeq} events, ${stats2.issues} issues, ${stats2.outbox} waiting for the git WAL`,
    `  repository    ${repo}`,
    values['no-ui'] ? '' : '  the board keeps serving: `cairn ui --stop` (or `cairn daemon stop`) ends it',
    '',
  ].join('\n'))
} catch (err) {
  fail(isCairnError(err) ? `${err.code}: ${err.message}` : String(err))
} finally {
  client.close()
}
