/**
 * `cairn demo`: simulated agents on an embedded runtime. Starts a runtime on
 * a demo repository it creates under the system temp dir (or the repository
 * given as an argument), runs a handful of simulated agents for a few
 * seconds, prints a summary, stops cleanly.
 *
 *   cairn demo                     # demo repository in $TMPDIR
 *   cairn demo /path/to/repo       # an existing git repository
 *   cairn demo --agents 8 --seconds 5
 *   cairn demo --board             # a team on a 200-issue board, live in `cairn ui` (scripts/demo-board/main.ts)
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRuntime, isCairnError } from '../lib/index.ts'

if (process.argv.includes('--board')) {
  await import('./demo-board/main.ts')
  process.exit(process.exitCode ?? 0)
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { agents: { type: 'string', default: '5' }, seconds: { type: 'string', default: '3' }, home: { type: 'string' } },
})
const agents = Number(values.agents)
const seconds = Number(values.seconds)
if (!Number.isInteger(agents) || agents < 1 || agents > 1000) fail('--agents must be an integer from 1 to 1000')
if (!(seconds > 0 && seconds <= 3600)) fail('--seconds must be a number from 0 to 3600')

function fail(msg: string): never {
  process.stderr.write(`cairn demo: ${msg}\n`)
  process.exit(2)
}

let repoPath = positionals[0]
const scratch = mkdtempSync(join(tmpdir(), 'cairn-demo-'))
if (!repoPath) {
  repoPath = join(scratch, 'demo-repo')
  execFileSync('git', ['init', '-q', repoPath])
}
const home = values.home ?? join(scratch, 'home')

const t0 = performance.now()
const runtime = await createRuntime({ home })
const bootMs = performance.now() - t0
const board = await runtime.repo(repoPath, { agent: 'board-watcher' })
process.stdout.write(`cairn: serving in ${bootMs.toFixed(0)} ms; repository ${board.path}\n`)
process.stdout.write(`cairn: ${agents} agents working on the issue board for ${seconds} s ...\n`)

const latencies: number[] = []
const errors = new Map<string, number>()
const deadline = Date.now() + seconds * 1000
const startSeq = (await board.events.stats()).lastSeq

// A watcher follows the log as agents write, the way a dashboard or a sync would.
const watch = new AbortController()
let watched = 0
const watcher = (async () => {
  for await (const _ of board.events.subscribe({ fromSeq: startSeq + 1, signal: watch.signal })) watched++
})()

async function agent(n: number): Promise<number> {
  const repo = await runtime.repo(repoPath!, { agent: `agent-${n}` })
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
      errors.set(code, (errors.get(code) ?? 0) + 1)
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

const perAgent = await Promise.all(Array.from({ length: agents }, (_, n) => agent(n)))
const total = perAgent.reduce((a, b) => a + b, 0)
latencies.sort((a, b) => a - b)
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
const wal = await board.wal.flush().catch((err: unknown) => ({ error: String((err as Error).message ?? err) }))
const stats = await board.events.stats()
const open = (await board.issues.list({ state: 'open' })).length
const closed = (await board.issues.list({ state: 'closed' })).length
const ready = (await board.issues.ready()).length
for (let i = 0; i < 200 && watched < stats.lastSeq - startSeq; i++) await new Promise((r) => setTimeout(r, 10))
watch.abort()
await watcher
const status = await runtime.status()
await runtime.stop()

const lines = [
  '',
  'Cairn demo summary',
  `  agents              ${agents} (each its own actor id)`,
  `  acknowledged writes ${total} (${(total / seconds).toFixed(0)}/s, each durable before its ack)`,
  `  latency             p50 ${pct(0.5).toFixed(2)} ms   p99 ${pct(0.99).toFixed(2)} ms`,
  `  errors              ${errors.size === 0 ? 'none' : [...errors].map(([c, n]) => `${c}×${n}`).join(', ')}`,
  `  event log           ${stats.events} events (last seq ${stats.lastSeq}), ${stats.outbox} waiting for the git WAL`,
  `  git WAL             ${'error' in wal ? `not written: ${wal.error}` : `${stats.wal?.drainedEvents ?? 0} events in ${stats.wal?.commits ?? 0} commits on refs/cairn/wal/<actor> (git log refs/cairn/wal/...)`}`,
  `  issues              ${open} open, ${closed} closed, ${ready} ready to work on`,
  `  watcher             followed ${watched} of ${stats.lastSeq - startSeq} new events live`,
  `  threads             ${status.threads.map((t) => `#${t.threadId}`).join(', ')}`,
  `  actors              ${status.actors.map((a) => `${a.kind}(${a.state})`).join(', ')}`,
  `  stopped cleanly     yes`,
  '',
]
process.stdout.write(lines.join('\n'))
