/**
 * `npm run bench:sync`: events into git, and a replica's history to and from
 * a local bare remote, next to plain `git push` / `git fetch` of the same
 * refs measured in the same run.
 *
 * Usage: tsx bench/sync.ts [--out DIR] [--quick]
 *
 * 1. append   N events written by 10 agents (create + comments), acknowledged
 *             and in git (the drain runs alongside; ends when wal.flush returns)
 * 2. push     repo.sync({ push only }) of the whole history to an empty bare
 *             remote, vs `git push` of the same refs to another empty one
 * 3. fetch    a fresh replica's repo.sync({ pull only }): fetch + ingest +
 *             projections, vs `git fetch` of the same refs into a fresh repository
 * 4. team     the same for a team's history (bench/sync/team-history.ts: 30
 *             agents, 9,690 events in 6,855 WAL commits), with the goal
 *             Cairn ≥ 0.3× plain git fetch
 *
 * Each timed step runs once per round (3 rounds, median reported; fresh
 * remotes and replicas each round). Writes `<out>/sync.json` (schema
 * `cairn-bench-sync/1`, the document of bench/lib/report.ts) and `sync.md`.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../lib/index.ts'
import { benchDirs, type BenchDirs } from './lib/dirs.ts'
import { parseBenchArgs } from './lib/params.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { checkGoals, renderGoals, type Goal } from './lib/goals.ts'
import { TEAM_HISTORY, TEAM_HISTORY_QUICK, teamRemote, teamRound } from './sync/team-history.ts'

const SYNC_SCHEMA = 'cairn-bench-sync/1'
const GOALS: Goal[] = [
  { result: 'cairn.sync.team.vs-git-fetch', op: '>=', target: 0.3, context: 'issue 19: fetch + ingest of a 30-agent history at ≥ 0.3× the speed of plain git fetch' },
]
const AGENTS = 10
const EXIT_GRACE_MS = 5000

const git = (args: string[], cwd?: string): void => { execFileSync('git', args, { cwd, stdio: 'ignore' }) }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const timed = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** Writes `events` events from AGENTS agents: one create then comments, all concurrent per agent. */
async function writeHistory(repos: Repo[], events: number): Promise<void> {
  const perAgent = Math.ceil(events / repos.length)
  await Promise.all(repos.map(async (repo, a) => {
    let left = perAgent
    while (left > 0) {
      const issue = await repo.issues.create({ title: `agent ${a} issue ${left}` })
      left--
      const n = Math.min(9, left)
      await Promise.all(Array.from({ length: n }, (_, i) => repo.issues.comment(issue.id, `comment ${i}`)))
      left -= n
    }
  }))
}

async function round(dirs: BenchDirs, r: number, events: number, log: (m: string) => void): Promise<Record<string, number>> {
  const src = dirs.repo(`src-${r}`)
  const rt = await createRuntime({ threads: 2, home: dirs.home(`src-${r}`) })
  const out: Record<string, number> = {}
  try {
    const agents = await Promise.all(Array.from({ length: AGENTS }, (_, a) => rt.repo(src, { agent: `agent-${a}` })))
    out.appendMs = await timed(async () => {
      await writeHistory(agents, events)
      await agents[0]!.wal.flush()
    })
    const written = (await agents[0]!.events.stats()).events
    out.events = written
    log(`round ${r}: ${written} events acknowledged and in git in ${out.appendMs.toFixed(0)} ms`)

    const cairnRemote = join(dirs.root, `cairn-${r}.git`)
    const rawRemote = join(dirs.root, `raw-${r}.git`)
    git(['init', '-q', '--bare', cairnRemote])
    git(['init', '-q', '--bare', rawRemote])
    await agents[0]!.sync({ remote: `file://${join(dirs.root, 'warm.git')}`, pull: false }).catch(() => undefined) // loads nodegit once
    out.pushMs = await timed(() => agents[0]!.sync({ remote: `file://${cairnRemote}`, pull: false }))
    out.rawPushMs = await timed(() => git(['push', '-q', `file://${rawRemote}`, 'refs/cairn/wal/*:refs/cairn/wal/*'], src))
    log(`round ${r}: push ${out.pushMs.toFixed(0)} ms, raw git push ${out.rawPushMs.toFixed(0)} ms`)
  } finally {
    await rt.stop()
  }

  const dst = dirs.repo(`dst-${r}`)
  const rawDst = dirs.repo(`raw-dst-${r}`)
  const rt2 = await createRuntime({ threads: 1, home: dirs.home(`dst-${r}`) })
  try {
    const repo = await rt2.repo(dst, { agent: 'reader' })
    await repo.sync({ remote: `file://${join(dirs.root, 'warm.git')}`, push: false }).catch(() => undefined)
    let pulled = 0
    out.fetchMs = await timed(async () => { pulled = (await repo.sync({ remote: `file://${join(dirs.root, `cairn-${r}.git`)}`, push: false })).pulled })
    if (pulled !== out.events) throw new Error(`fetch ingested ${pulled} events, expected ${out.events}`)
    out.rawFetchMs = await timed(() => git(['fetch', '-q', `file://${join(dirs.root, `raw-${r}.git`)}`, 'refs/cairn/wal/*:refs/cairn/wal/*'], rawDst))
    log(`round ${r}: fetch+ingest ${out.fetchMs.toFixed(0)} ms (${pulled} events), raw git fetch ${out.rawFetchMs.toFixed(0)} ms`)
  } finally {
    await rt2.stop()
  }
  return out
}

async function main(): Promise<void> {
  let args
  try {
    args = parseBenchArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`bench:sync: ${(err as Error).message}\nusage: tsx bench/sync.ts [--out DIR] [--quick]`)
    process.exitCode = 2
    return
  }
  const params = { events: args.quick ? 2_000 : 10_000, rounds: args.quick ? 1 : 3, agents: AGENTS }
  const startedAt = new Date().toISOString()
  const dirs = benchDirs('cairn-bench-sync-')
  const log = (m: string): void => { process.stderr.write(`bench:sync: ${m}\n`) }
  const rounds: Record<string, number>[] = []
  const shape = args.quick ? TEAM_HISTORY_QUICK : TEAM_HISTORY
  try {
    for (let r = 0; r < params.rounds; r++) rounds.push(await round(dirs, r, params.events, log))
    const team = teamRemote(dirs, shape)
    log(`team history: ${team.history.events} events in ${team.history.commits} WAL commits of ${shape.agents} agents`)
    for (let r = 0; r < params.rounds; r++) {
      const t = await teamRound(dirs, team.url, r, team.history.events)
      Object.assign(rounds[r] as Record<string, number>, { teamRawFetchMs: t.rawFetchMs, teamFetchIngestMs: t.fetchIngestMs, teamEvents: team.history.events })
      log(`round ${r}: team fetch+ingest ${t.fetchIngestMs.toFixed(0)} ms, raw git fetch ${t.rawFetchMs.toFixed(0)} ms`)
    }
  } finally {
    dirs.cleanup()
  }
  const m = (k: string): number => median(rounds.map((x) => x[k] as number))
  const events = m('events')
  const results: BenchResult[] = [
    { name: 'cairn.append.events-per-s', group: 'append', unit: 'events/s', value: events / (m('appendMs') / 1000),
      note: `${events} events by ${AGENTS} agents, acknowledged (durable in LMDB) and committed to refs/cairn/wal/* (wal.flush returned)` },
    { name: 'raw.git.push', group: 'push', unit: 'ms', value: m('rawPushMs'), note: 'git push (CLI) of the same refs to an empty bare remote over file://' },
    { name: 'cairn.sync.push', group: 'push', unit: 'ms', value: m('pushMs'), baseline: 'raw.git.push',
      note: 'repo.sync({ pull: false }): fetch (empty), ancestry checks, push without force' },
    { name: 'raw.git.fetch', group: 'fetch', unit: 'ms', value: m('rawFetchMs'), note: 'git fetch (CLI) of the same refs into a fresh repository' },
    { name: 'cairn.sync.fetch-ingest', group: 'fetch', unit: 'ms', value: m('fetchMs'), baseline: 'raw.git.fetch',
      note: `repo.sync({ push: false }) into a fresh replica: fetch, read and verify every chunk, ingest ${events} events with projections, banked` },
    { name: 'cairn.sync.fetch-ingest.events-per-s', group: 'fetch', unit: 'events/s', value: events / (m('fetchMs') / 1000) },
    { name: 'raw.git.fetch.team', group: 'team', unit: 'ms', value: m('teamRawFetchMs'),
      note: `git fetch (CLI) of a ${shape.agents}-agent history (${m('teamEvents')} events in ${shape.commits} WAL commits) into a fresh repository` },
    { name: 'cairn.sync.team.fetch-ingest', group: 'team', unit: 'ms', value: m('teamFetchIngestMs'), baseline: 'raw.git.fetch.team',
      note: 'repo.sync({ push: false }) of the same history into a fresh replica: fetch, read and check every commit, ingest with projections, banked' },
    // Per round, then the median: a round's two figures share its machine load.
    { name: 'cairn.sync.team.vs-git-fetch', group: 'team', unit: '×', better: 'higher',
      value: median(rounds.map((x) => (x.teamRawFetchMs as number) / (x.teamFetchIngestMs as number))),
      note: 'plain git fetch time ÷ Cairn fetch + ingest time, per round (median); 1 is parity' },
  ]
  const goals = checkGoals(GOALS, results)
  const report = { ...buildReport({ machine: machineInfo(), startedAt, params: { ...params, teamAgents: shape.agents, teamCommits: shape.commits }, results, schema: SYNC_SCHEMA }), goals }
  const { jsonPath, mdPath, markdown } = await writeReport(args.outDir, report, { name: 'sync', title: 'Cairn sync benchmark', footer: renderGoals(goals) })
  process.stdout.write(markdown)
  log(`wrote ${jsonPath} and ${mdPath}`)
}

main().then(
  () => { setTimeout(() => { console.error('bench:sync: handles still open after the report'); process.exit(1) }, EXIT_GRACE_MS).unref() },
  (err) => { console.error(err); process.exit(1) },
)
