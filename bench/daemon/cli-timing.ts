/**
 * Wall time of whole `cairn` invocations, as an agent shelling out pays it:
 * process start, module loading, argument parsing, the request, exit. The
 * compiled bin (what an installed package runs), beside `node -e 0`.
 */
import { spawnSync } from 'node:child_process'
import { compiledBin } from '../lib/compiled.ts'
import { summarize, type LatencySummary } from '../lib/stats.ts'

/** Wall time of `cairn <args>` (the compiled bin) until it exits 0. */
export function timeCli(args: string[], runs: number, env: NodeJS.ProcessEnv, cwd: string, before?: () => void): LatencySummary {
  return timeNode([compiledBin(), ...args], runs, env, cwd, before)
}

/** Wall time of `node <args>` until it exits 0. */
export function timeNode(args: string[], runs: number, env: NodeJS.ProcessEnv, cwd: string, before?: () => void): LatencySummary {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    before?.()
    const t0 = performance.now()
    const r = spawnSync(process.execPath, args, { env, cwd, encoding: 'utf8', timeout: 60_000 })
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
    samples.push(ms)
  }
  return summarize(samples)
}
