/**
 * What the lock scenarios share: one temporary directory holding every git
 * repository and runtime home of the run (removed by the caller at the
 * end), and seeding a board through the public API.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Runtime } from '../../lib/index.ts'

export interface BenchDirs {
  root: string
  /** A fresh `git init`ed repository named `name`. */
  repo(name: string): string
  /** A runtime home named `name` (created by the runtime). */
  home(name: string): string
  cleanup(): void
}

/** Creates the run's temporary directory under os.tmpdir(). */
export function benchDirs(): BenchDirs {
  const root = mkdtempSync(join(tmpdir(), 'cairn-bench-locks-'))
  return {
    root,
    repo(name) {
      const path = join(root, name)
      execFileSync('git', ['init', '-q', path])
      return path
    },
    home: (name) => join(root, `home-${name}`),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  }
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
