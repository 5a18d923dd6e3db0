/**
 * `tsx bench/mcp.ts [--out DIR] [--quick]` (`npm run bench:mcp`): what one
 * tool call costs an agent, three ways, against one daemon in one run:
 *
 * 1. MCP        the official SDK client over stdio to `cairn mcp`, which
 *               calls the daemon (what Claude Code or Codex pays per call)
 * 2. raw socket lib/daemon/client.ts straight to the daemon (the floor MCP
 *               adds its hop to)
 * 3. CLI        one `cairn ... --json` process per call (what an agent
 *               shelling out pays)
 *
 * for `show` (a read) and `comment` (a durable write), one call at a time
 * (an agent waits for each answer). MCP and raw alternate in rounds, so a
 * noisy moment of the machine lands on both; CLI calls are spread over the
 * rounds too. Reported: p50/p99 of each, and the ratios the goals are on:
 * MCP within 2× the raw socket, a CLI process per call ≥ 20× an MCP call.
 *
 * Writes `<out>/mcp.json` (schema `cairn-bench-mcp/1`: bench/lib/report.ts
 * plus `goals`) and `<out>/mcp.md`; prints the markdown.
 */
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { checkGoals, renderGoals, type Goal } from './lib/goals.ts'
import { buildReport, machineInfo, writeReport, type BenchResult } from './lib/report.ts'
import { benchDirs } from './lib/dirs.ts'
import { summarize, type LatencySummary } from './lib/stats.ts'
import { timeCli } from './daemon/cli-timing.ts'
import { compiledBin } from './lib/compiled.ts'
import { connectOrSpawn } from '../lib/daemon/spawn.ts'

/** The compiled bin, as an installed Cairn runs `cairn mcp` (built first when stale). */
const CAIRN = compiledBin()
const SCHEMA = 'cairn-bench-mcp/1'
const GOALS: Goal[] = [
  { result: 'mcp.show.vs-raw', op: '<', target: 2, context: 'an MCP tool call within 2× the raw socket call (p50)' },
  { result: 'mcp.comment.vs-raw', op: '<', target: 2, context: 'a durable write through MCP within 2× the raw socket (p50)' },
  { result: 'cli.show.vs-mcp', op: '>=', target: 20, context: 'a CLI process per call ≥ 20× slower than an MCP call (p50)' },
  { result: 'cli.comment.vs-mcp', op: '>=', target: 20, context: 'the same for a write' },
]

type Op = 'show' | 'comment'

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'bench-out' }, quick: { type: 'boolean', default: false } } })
  const quick = values.quick === true
  const params = { rounds: quick ? 3 : 5, callsPerRound: quick ? 60 : 200, warmup: quick ? 30 : 100, cliPerRound: quick ? 2 : 4, quick }
  const startedAt = new Date().toISOString()
  const log = (m: string) => process.stderr.write(`bench:mcp: ${m}\n`)
  const dirs = benchDirs('cairn-bench-mcp-')
  const home = dirs.home('bench')
  const repo = dirs.repo('repo')
  const env = { ...process.env, CAIRN_HOME: home } as Record<string, string>
  delete env.CAIRN_AGENT
  const samples: Record<string, number[]> = {}
  const add = (key: string, ms: number) => { (samples[key] ??= []).push(ms) }
  let mcp: Client | null = null
  try {
    const { client: raw } = await connectOrSpawn(home, { flags: ['--idle-timeout', '0'] })
    const body = (args: Record<string, unknown>) => ({ repo, agent: 'bench', args })
    // show reads an issue of a usual size (a body, labels, three comments); comments go to
    // another issue, so the one shown does not grow through the run.
    const issue = await raw.request<{ id: string }>('issues.create', body({ title: 'bench: the issue shown', body: 'A description of a few lines.\n'.repeat(5), labels: ['bench', 'mcp'] }))
    for (let i = 0; i < 3; i++) await raw.request('issues.comment', body({ id: issue.id, body: `comment ${i} on the issue shown` }))
    const target = await raw.request<{ id: string }>('issues.create', body({ title: 'bench: the issue commented on' }))

    log('starting `cairn mcp` (SDK client over stdio)')
    mcp = new Client({ name: 'cairn-bench', version: '1' })
    await mcp.connect(new StdioClientTransport({ command: process.execPath, args: [CAIRN, 'mcp', '--home', home, '-C', repo, '--agent', 'bench'], env, stderr: 'inherit' }))
    const client = mcp
    const calls: Record<'mcp' | 'raw', Record<Op, (i: number) => Promise<unknown>>> = {
      mcp: {
        show: () => client.callTool({ name: 'show', arguments: { id: issue.id } }).then(check),
        comment: (i) => client.callTool({ name: 'comment', arguments: { id: target.id, body: `mcp ${i}` } }).then(check),
      },
      raw: {
        show: () => raw.request('issues.show', body({ id: issue.id })),
        comment: (i) => raw.request('issues.comment', body({ id: target.id, body: `raw ${i}` })),
      },
    }
    log(`warm-up: ${params.warmup} calls each`)
    for (const via of ['mcp', 'raw'] as const) for (const op of ['show', 'comment'] as const) for (let i = 0; i < params.warmup; i++) await calls[via][op](i)

    for (let round = 0; round < params.rounds; round++) {
      log(`round ${round + 1}/${params.rounds}: ${params.callsPerRound} show and comment calls each through MCP and the raw socket, ${params.cliPerRound} CLI processes each`)
      const order = round % 2 === 0 ? (['mcp', 'raw'] as const) : (['raw', 'mcp'] as const)
      for (const op of ['show', 'comment'] as const) {
        for (const via of order) {
          for (let i = 0; i < params.callsPerRound; i++) {
            const t0 = performance.now()
            await calls[via][op](i)
            add(`${via}.${op}`, performance.now() - t0)
          }
        }
        const cliArgs = op === 'show' ? ['issue', 'show', issue.id, '--json'] : ['issue', 'comment', target.id, `cli ${round}`, '--json']
        for (const ms of timeCliSamples([...cliArgs, '--agent', 'bench'], params.cliPerRound, env, repo)) add(`cli.${op}`, ms)
      }
    }
    raw.close()
  } finally {
    await mcp?.close().catch(() => undefined)
    try { execFileSync(process.execPath, [CAIRN, 'daemon', 'stop'], { env }) } catch { /* not running */ }
    dirs.cleanup()
  }

  const results: BenchResult[] = []
  const stats: Record<string, LatencySummary> = {}
  for (const [key, list] of Object.entries(samples)) stats[key] = summarize(list)
  for (const op of ['show', 'comment'] as const) {
    const r = stats[`raw.${op}`]!
    const m = stats[`mcp.${op}`]!
    const c = stats[`cli.${op}`]!
    results.push({ name: `raw.${op}`, group: op, unit: 'ms', value: r.p50, p50: r.p50, p99: r.p99, note: `${r.count} calls, one at a time` })
    results.push({ name: `mcp.${op}`, group: op, unit: 'ms', value: m.p50, p50: m.p50, p99: m.p99, baseline: `raw.${op}`, note: `${m.count} calls, one at a time, alternating rounds with raw` })
    results.push({ name: `cli.${op}`, group: op, unit: 'ms', value: c.p50, p50: c.p50, p99: c.p99, baseline: `mcp.${op}`, note: `${c.count} processes` })
    results.push({ name: `mcp.${op}.vs-raw`, group: op, unit: '×', value: m.p50 / r.p50, better: 'lower', note: `p50 ratio; p99 ratio ${(m.p99 / r.p99).toFixed(2)}` })
    results.push({ name: `cli.${op}.vs-mcp`, group: op, unit: '×', value: c.p50 / m.p50, better: 'higher', note: `p50 ratio; p99 ratio ${(c.p99 / m.p99).toFixed(1)}` })
  }
  const goals = checkGoals(GOALS, results)
  const report = { ...buildReport({ machine: machineInfo(), startedAt, params, results, schema: SCHEMA }), goals }
  const { markdown, jsonPath } = await writeReport(values.out!, report, { name: 'mcp', title: 'Cairn MCP tool call benchmark', footer: renderGoals(goals) })
  process.stdout.write(markdown)
  log(`wrote ${jsonPath}`)
}

/** A tool error is a failed benchmark, not a fast call. */
function check(r: unknown): unknown {
  if ((r as { isError?: boolean }).isError) throw new Error(`tool error: ${JSON.stringify((r as { content: unknown }).content)}`)
  return r
}

/** The single wall times of `runs` CLI processes. */
function timeCliSamples(args: string[], runs: number, env: NodeJS.ProcessEnv, cwd: string): number[] {
  const out: number[] = []
  for (let i = 0; i < runs; i++) out.push(timeCli(args, 1, env, cwd).p50)
  return out
}

main().then(() => setTimeout(() => process.exit(0), 2000).unref(), (err: unknown) => {
  process.stderr.write(`bench:mcp: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
