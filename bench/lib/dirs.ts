/**
 * One temporary directory per bench run, holding every git repository and
 * runtime home the run makes; the caller removes it at the end.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface BenchDirs {
  root: string
  /** A fresh `git init`ed repository named `name`. */
  repo(name: string): string
  /** A runtime home named `name` (created by the runtime). */
  home(name: string): string
  cleanup(): void
}

/** Creates the run's temporary directory under os.tmpdir(), named `<prefix>XXXXXX`. */
export function benchDirs(prefix: string): BenchDirs {
  const root = mkdtempSync(join(tmpdir(), prefix))
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
