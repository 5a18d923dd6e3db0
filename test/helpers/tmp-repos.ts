/** Real git repositories and runtime homes in a temp dir, removed after the test. */
import { execFileSync } from 'node:child_process'
import diagnosticsChannel from 'node:diagnostics_channel'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export { eventually } from './eventually.ts'

export interface Sandbox { dir: string; home: string; repo(name: string): string; cleanup(): void }

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-test-'))
  return {
    dir,
    home: join(dir, 'home'),
    repo(name: string) {
      const path = join(dir, name)
      execFileSync('git', ['init', '-q', path])
      return path
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Collects what is published on a diagnostics channel until `teardown` runs. */
export function captureChannel(name: string, teardown: (fn: () => void) => void): unknown[] {
  const seen: unknown[] = []
  const listener = (m: unknown) => { seen.push(m) }
  diagnosticsChannel.subscribe(name, listener)
  teardown(() => diagnosticsChannel.unsubscribe(name, listener))
  return seen
}
