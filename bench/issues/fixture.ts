/**
 * What the issue scenarios share: one temporary directory holding every git
 * repository and runtime home of the run (removed by the caller at the end),
 * population through the public API, and direct access to a repository's
 * store once its runtime has stopped.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { benchDirs as makeBenchDirs, type BenchDirs } from '../lib/dirs.ts'
import { open, type RootDatabase } from 'lmdb'
import type { Repo, Runtime } from '../../lib/index.ts'
import { makeCall } from './mix.ts'

/** Mirrors OPEN_OPTIONS in lib/kernel/store/open-store.ts: the raw side opens stores as Cairn does. */
const STORE_OPEN_OPTIONS = { maxDbs: 32, compression: false, cache: false, overlappingSync: false } as const

export type { BenchDirs }

/** Creates the run's temporary directory under os.tmpdir(). */
export function benchDirs(): BenchDirs {
  return makeBenchDirs('cairn-bench-issues-')
}

/** The repository store of a (non-bare, freshly initialised) repository. */
export function storeDir(repoPath: string): string {
  const dir = join(repoPath, '.git', 'cairn')
  if (!existsSync(join(dir, 'data.mdb'))) throw new Error(`no Cairn store at ${dir}`)
  return dir
}

/**
 * Opens a repository's store in this thread. Only while no runtime has the
 * repository open: the RepoWorker is the stores' only writer.
 */
export function openStoreEnv(repoPath: string): RootDatabase {
  return open({ path: storeDir(repoPath), ...STORE_OPEN_OPTIONS })
}

/** Removes the projection checkpoint, so the next open rebuilds every projection. */
export async function dropProjectionCheckpoint(repoPath: string): Promise<void> {
  const env = openStoreEnv(repoPath)
  try {
    // Key and database as in actors/repo-worker/store/{dbs,event-store}.ts.
    const meta = env.openDB({ name: 'event-meta' })
    if (meta.get('projection') === undefined) throw new Error(`no projection checkpoint in ${storeDir(repoPath)}`)
    await meta.remove('projection')
    await env.flushed
  } finally {
    await env.close()
  }
}

export interface Population {
  issues: number
  events: number
  calls: number
  ms: number
  /** The time bound stopped the writers before every issue was complete. */
  timedOut: boolean
}

/**
 * Writes `issues` issues of `eventsPerIssue` events each into the repository
 * at `path`, with `writers` concurrent handles (distinct agents), each
 * awaiting every call and taking the next issue number when its issue is
 * complete. Bounded by the issue count and by `timeoutMs`.
 */
export async function populate(rt: Runtime, path: string, opts: {
  issues: number; eventsPerIssue: number; writers: number; timeoutMs: number; commentChars: number
}): Promise<Population> {
  const handles: Repo[] = await Promise.all(
    Array.from({ length: opts.writers }, (_, i) => rt.repo(path, { agent: `populate-${i}` })))
  let nextIssue = 0
  let issues = 0
  let events = 0
  let calls = 0
  let timedOut = false
  const t0 = performance.now()
  const deadline = t0 + opts.timeoutMs
  const writer = async (repo: Repo): Promise<void> => {
    while (nextIssue < opts.issues) {
      const n = nextIssue++
      let issueId: string | null = null
      for (let k = 0; k < opts.eventsPerIssue; k++) {
        if (performance.now() >= deadline) {
          timedOut = true
          return
        }
        const done = await makeCall(repo, k, issueId, n * opts.eventsPerIssue + k, opts.commentChars)
        issueId = done.issueId
        events += done.events
        calls++
      }
      issues++
    }
  }
  await Promise.all(handles.map(writer))
  return { issues, events, calls, ms: performance.now() - t0, timedOut }
}

/** Population as a note fragment, e.g. `10,000 issues / 100,000 events written in 21.3 s`. */
export function describePopulation(p: Population): string {
  const fmt = (n: number): string => n.toLocaleString('en-US')
  return `${fmt(p.issues)} issues / ${fmt(p.events)} events written in ${(p.ms / 1000).toFixed(1)} s` +
    (p.timedOut ? ' (STOPPED BY THE TIME BOUND: repository smaller than asked)' : '')
}
