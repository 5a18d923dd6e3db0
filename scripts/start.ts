/**
 * `npm start`: Cairn's main job on an embedded default. Starts a runtime on a
 * demo repository it creates under the system temp dir (or the repository
 * given as an argument), runs a handful of simulated agents for a few
 * seconds, prints a summary, stops cleanly.
 *
 *   npm start                      # demo repository in $TMPDIR
 *   npm start -- /path/to/repo     # an existing git repository
 *   npm start -- --agents 8 --seconds 5
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRuntime, isCairnError } from '../lib/index.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { agents: { type: 'string', default: '5' }, seconds: { type: 'string', default: '3' }, home: { type: 'string' } },
})
const agents = Number(values.agents)
const seconds = Number(values.seconds)
if (!Number.isInteger(agents) || agents < 1 || agents > 1000) fail('--agents must be an integer from 1 to 1000')
if (!(seconds > 0 && seconds <= 3600)) fail('--seconds must be a number from 0 to 3600')

function fail(msg: string): never {
  process.stderr.write(`cairn start: ${msg}\n`)
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
const repo = await runtime.repo(repoPath)
process.stdout.write(`cairn: serving in ${bootMs.toFixed(0)} ms; repository ${repo.path}\n`)
process.stdout.write(`cairn: ${agents} agents working for ${seconds} s ...\n`)

const latencies: number[] = []
const errors = new Map<string, number>()
const deadline = Date.now() + seconds * 1000
const reminder = await repo.timers.schedule(`demo-${Date.now()}`, Date.now() + 1000, { note: 'stand-up' })

async function agent(n: number): Promise<number> {
  let done = 0
  for (let i = 0; Date.now() < deadline && i < 10_000_000; i++) {
    const start = performance.now()
    try {
      await repo.records.append({ agent: n, step: i, note: `agent ${n} finished step ${i}` }, { opId: `agent-${n}-${process.pid}-${i}` })
      latencies.push(performance.now() - start)
      done++
    } catch (err) {
      const code = isCairnError(err) ? err.code : 'INTERNAL'
      errors.set(code, (errors.get(code) ?? 0) + 1)
    }
  }
  return done
}

const perAgent = await Promise.all(Array.from({ length: agents }, (_, n) => agent(n)))
const total = perAgent.reduce((a, b) => a + b, 0)
latencies.sort((a, b) => a - b)
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
const count = await repo.records.count()
const fired = (await repo.records.scan({ fromSeq: 1, limit: 10_000 })).some((r) => (r.value as { timer?: string })?.timer === reminder.id)
const status = await runtime.status()
await runtime.stop()

const lines = [
  '',
  'Cairn demo summary',
  `  agents              ${agents}`,
  `  acknowledged writes ${total} (${(total / seconds).toFixed(0)}/s, each durable before its ack)`,
  `  latency             p50 ${pct(0.5).toFixed(2)} ms   p99 ${pct(0.99).toFixed(2)} ms`,
  `  errors              ${errors.size === 0 ? 'none' : [...errors].map(([c, n]) => `${c}×${n}`).join(', ')}`,
  `  records in store    ${count.count} (last seq ${count.lastSeq})`,
  `  durable timer       ${fired ? 'fired once and logged' : 'still pending'}`,
  `  threads             ${status.threads.map((t) => `#${t.threadId}`).join(', ')}`,
  `  actors              ${status.actors.map((a) => `${a.kind}(${a.state})`).join(', ')}`,
  `  stopped cleanly     yes`,
  '',
]
process.stdout.write(lines.join('\n'))
