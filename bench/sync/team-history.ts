/**
 * bench:sync's team scenario: a WAL history as a team of agents leaves it
 * (bench/lib/wal-history.ts: 30 agents, 9,690 events in 6,855 WAL commits,
 * one or two events per commit as a drain under steady load writes them),
 * pulled into a fresh replica by `repo.sync({ push: false })` (fetch, read
 * and check every commit, ingest with projections, banked), next to plain
 * `git fetch` of the same refs into a fresh repository, in the same round.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime } from '../../lib/index.ts'
import type { BenchDirs } from '../lib/dirs.ts'
import { writeWalHistory, type HistoryShape, type WrittenHistory } from '../lib/wal-history.ts'

/** The history of the 3-host run: 30 agents, 9,690 events in 6,855 WAL commits. */
export const TEAM_HISTORY: HistoryShape = { agents: 30, commits: 6_855, events: 9_690 }
export const TEAM_HISTORY_QUICK: HistoryShape = { agents: 10, commits: 1_000, events: 1_400 }

const timed = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** Writes the team's history into a bare repository `team.git` under the run's directory (once per run). */
export function teamRemote(dirs: BenchDirs, shape: HistoryShape): { url: string; history: WrittenHistory } {
  const bare = join(dirs.root, 'team.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  return { url: `file://${bare}`, history: writeWalHistory(bare, shape) }
}

/** One round: plain git fetch, then Cairn's fetch + ingest, each into a fresh repository. */
export async function teamRound(dirs: BenchDirs, url: string, r: number, expected: number): Promise<{ rawFetchMs: number; fetchIngestMs: number }> {
  const raw = dirs.repo(`team-raw-${r}`)
  const rawFetchMs = await timed(() => execFileSync('git', ['fetch', '-q', url, 'refs/cairn/wal/*:refs/cairn/wal/*'], { cwd: raw, stdio: 'ignore' }))
  const rt = await createRuntime({ threads: 1, home: dirs.home(`team-${r}`) })
  try {
    const repo = await rt.repo(dirs.repo(`team-dst-${r}`), { agent: 'reader' })
    // Loads nodegit and starts the thread's git work once, outside the timing (an empty remote).
    const empty = join(dirs.root, `team-empty-${r}.git`)
    execFileSync('git', ['init', '-q', '--bare', empty])
    await repo.sync({ remote: `file://${empty}`, push: false })
    let pulled = 0
    const fetchIngestMs = await timed(async () => { pulled = (await repo.sync({ remote: url, push: false, timeoutMs: 600_000 })).pulled })
    if (pulled !== expected) throw new Error(`team fetch ingested ${pulled} events, expected ${expected}`)
    return { rawFetchMs, fetchIngestMs }
  } finally {
    await rt.stop()
  }
}
