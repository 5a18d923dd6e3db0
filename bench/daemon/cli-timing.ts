/**
 * Wall time of whole `cairn` invocations, as an agent shelling out pays it:
 * process start, tsx, argument parsing, the request, exit.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { summarize, type LatencySummary } from '../lib/stats.ts'

const CAIRN = fileURLToPath(new URL('../../scripts/cairn.mjs', import.meta.url))

export function timeCli(args: string[], runs: number, env: NodeJS.ProcessEnv, cwd: string, before?: () => void): LatencySummary {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    before?.()
    const t0 = performance.now()
    const r = spawnSync(process.execPath, [CAIRN, ...args], { env, cwd, encoding: 'utf8', timeout: 60_000 })
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`cairn ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
    samples.push(ms)
  }
  return summarize(samples)
}
