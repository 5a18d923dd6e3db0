/**
 * Open to serving as users run Cairn, for bench:scale: a fresh `node`
 * process running the compiled package (dist/bundle/, built first when a
 * source is newer) through bench/package/probe.mjs: `import 'cairn'`,
 * createRuntime with the default threads, rt.repo() of the generated board,
 * then its idle RSS 2 s later. bench:scale's own open runs from the sources
 * through tsx, whose loader each repository thread pays again, so it
 * overstates what a user waits for.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { compiledEntry } from '../lib/compiled.ts'
import { percentile } from '../lib/stats.ts'

const PROBE = fileURLToPath(new URL('../package/probe.mjs', import.meta.url))

export interface CompiledOpen {
  /** import + createRuntime + rt.repo(), median of the runs. */
  openMs: number
  /** The same from the process's start (node's own start included). */
  fromStartMs: number
  importMs: number
  idleRssMiB: number
}

interface Probe { importMs: number; createMs: number; openMs: number; servingMs: number; idleRssMiB: number }

const median = (xs: number[]): number => percentile(xs, 50)

/** `runs` fresh processes opening `repoPath` with runtime home `home`, one after another. */
export function compiledOpen(repoPath: string, home: string, runs: number): CompiledOpen {
  const entry = compiledEntry()
  const probes: Probe[] = []
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [PROBE, entry, repoPath, home], { encoding: 'utf8', timeout: 120_000 })
    if (r.status !== 0) throw new Error(`the compiled open probe failed (${r.status ?? r.signal}): ${r.stderr.slice(0, 2000)}`)
    probes.push(JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Probe)
  }
  return {
    openMs: median(probes.map((p) => p.importMs + p.createMs + p.openMs)),
    fromStartMs: median(probes.map((p) => p.servingMs)),
    importMs: median(probes.map((p) => p.importMs)),
    idleRssMiB: median(probes.map((p) => p.idleRssMiB)),
  }
}
