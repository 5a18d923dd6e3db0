/**
 * What the lock scenarios share: one temporary directory holding every git
 * repository and runtime home of the run (removed by the caller at the
 * end), and seeding a board through the public API.
 */
import { benchDirs as makeBenchDirs, type BenchDirs } from '../lib/dirs.ts'
import type { Runtime } from '../../lib/index.ts'

export type { BenchDirs }

/** Creates the run's temporary directory under os.tmpdir(). */
export function benchDirs(): BenchDirs {
  return makeBenchDirs('cairn-bench-locks-')
}

export interface Seeded {
  /** Ids of the created issues, in the order their creates resolved. */
  ids: string[]
  ms: number
  /** The time bound stopped the writers before `issues` were created. */
  timedOut: boolean
}

/**
 * Creates `issues` open, unblocked issues in the repository at `path` with
 * `writers` concurrent handles (distinct agents), each awaiting every
 * create. Bounded by the count and by `timeoutMs`.
 */
export async function seedIssues(rt: Runtime, path: string, opts: { issues: number; writers: number; timeoutMs: number }): Promise<Seeded> {
  const handles = await Promise.all(Array.from({ length: opts.writers }, (_, i) => rt.repo(path, { agent: `seed-${i}` })))
  const ids: string[] = []
  let next = 0
  let timedOut = false
  const t0 = performance.now()
  const deadline = t0 + opts.timeoutMs
  await Promise.all(handles.map(async (repo) => {
    while (next < opts.issues) {
      if (performance.now() >= deadline) {
        timedOut = true
        return
      }
      const n = next++
      ids.push((await repo.issues.create({ title: `Claimable issue ${n}`, labels: ['bench'] })).id)
    }
  }))
  return { ids, ms: performance.now() - t0, timedOut }
}
