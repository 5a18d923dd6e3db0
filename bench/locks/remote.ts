/**
 * Scenario 3 of `npm run bench:locks`: cross-machine leases. Latency of a
 * remote acquire and of an acquire+release pair, one client, against a bare
 * repository on this machine, reached two ways:
 *
 * - `file`: the remote named by its path. Cairn appends to the bare
 *   repository directly by compare-and-swap (libgit2's local push is not
 *   atomic, see lib/adapters/git/nodegit-lease-refs.ts).
 * - `daemon`: the same repository through `git daemon` on 127.0.0.1. An
 *   acquire is one fetch and one push connection; a release one push.
 *
 * Raw baseline, same run, same remote: the git CLI pushing one new commit
 * (`git push <remote> <commit>:refs/bench/raw`, a fast-forward), timed per
 * push; the commits are made beforehand, untimed. Both sides make each
 * change durable (Cairn with libgit2's fsync, git with its defaults).
 *
 * Checks: epochs strictly increase, and the chain, read with the git CLI,
 * holds exactly two commits per pair measured (acquire, release).
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../lib/index.ts'
import type { Check } from '../lib/checks.ts'
import type { BenchResult } from '../lib/report.ts'
import { LatencyRecorder, summarize } from '../lib/stats.ts'
import type { BenchDirs } from './fixture.ts'
import type { LocksParams } from './params.ts'

const GROUP = 'remote leases'
const RESOURCE = 'path:bench/remote'
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

export interface RemoteOutcome { results: BenchResult[]; checks: Check[] }

const git = (args: string[], input?: string): string => execFileSync('git', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'ignore'] }).trim()

/** A free TCP port on 127.0.0.1, then `git daemon` on it serving `base` (own process group); resolves once it accepts. */
async function gitDaemon(base: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  const child = spawn('git', ['daemon', '--export-all', '--enable=receive-pack', '--reuseaddr', `--base-path=${base}`,
    '--listen=127.0.0.1', `--port=${port}`, base], { stdio: 'ignore', detached: true })
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    try { process.kill(-(child.pid as number), 'SIGTERM') } catch { /* gone */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000).unref())])
  }
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (up) return { url: `git://127.0.0.1:${port}/remote.git`, stop }
    await new Promise((r) => setTimeout(r, 25))
  }
  await stop()
  throw new Error(`git daemon did not listen on ${port}`)
}

/** `count` raw pushes of one new commit each to `remote`, from a clone of its own. */
function rawPushes(dirs: BenchDirs, remote: string, name: string, count: number): LatencyRecorder {
  const clone = dirs.repo(`raw-${name}`)
  let parent: string | null = null
  const commits: string[] = []
  for (let i = 0; i < count; i++) {
    parent = git(['-C', clone, '-c', 'user.name=bench', '-c', 'user.email=bench@x', 'commit-tree', EMPTY_TREE, ...(parent ? ['-p', parent] : []), '-m', `raw ${i}`])
    commits.push(parent)
  }
  const rec = new LatencyRecorder(count)
  for (const c of commits) {
    const t0 = performance.now()
    git(['-C', clone, 'push', '-q', remote, `${c}:refs/bench/raw-${name}`])
    rec.record(performance.now() - t0)
  }
  return rec
}

interface PairRun { acquire: LatencyRecorder; pair: LatencyRecorder; epochs: number[]; timedOut: boolean }

async function cairnPairs(repo: Repo, remote: string, count: number, budgetMs: number): Promise<PairRun> {
  const run: PairRun = { acquire: new LatencyRecorder(count), pair: new LatencyRecorder(count), epochs: [], timedOut: false }
  const deadline = performance.now() + budgetMs
  for (let i = 0; i < count; i++) {
    if (performance.now() > deadline) {
      run.timedOut = true
      break
    }
    const t0 = performance.now()
    const lease = await repo.locks.acquire(RESOURCE, { ttlMs: 60_000, autoRenew: false, scope: 'remote', remote })
    const t1 = performance.now()
    await lease.release()
    run.acquire.record(t1 - t0)
    run.pair.record(performance.now() - t0)
    run.epochs.push(lease.token)
  }
  return run
}

function latency(name: string, rec: LatencyRecorder, note: string, baseline?: string): BenchResult {
  const s = summarize(rec.samples())
  return { name, group: GROUP, unit: 'ms', value: s.p50, p50: s.p50, p99: s.p99, ...(baseline ? { baseline } : {}),
    note: `${note}; n=${s.count} p95=${s.p95.toFixed(1)} max=${s.max.toFixed(1)} ms` }
}

/** Both transports, raw first, then Cairn on its own clone; each bounded by count and by time. */
export async function runRemoteLeases(p: LocksParams, dirs: BenchDirs, log: (msg: string) => void): Promise<RemoteOutcome> {
  const bare = join(dirs.root, 'remote.git')
  git(['init', '-q', '--bare', bare])
  const daemon = await gitDaemon(dirs.root)
  const rt = await createRuntime({ home: dirs.home('remote'), threads: 1 })
  const results: BenchResult[] = []
  const checks: Check[] = []
  try {
    const repo = await rt.repo(dirs.repo('remote-client'), { agent: 'remote-bench' })
    // Both transports append to the same chain (same bare repository, same resource).
    const ref = `refs/cairn/leases/${createHash('sha256').update(RESOURCE).digest('hex').slice(0, 16)}`
    let pairsSoFar = 0
    for (const [name, remote] of [['file', bare], ['daemon', daemon.url]] as const) {
      const raw = rawPushes(dirs, remote, name, p.remotePairs)
      const warm = await cairnPairs(repo, remote, p.remoteWarmup, p.remoteBudgetMs)
      const run = await cairnPairs(repo, remote, p.remotePairs, p.remoteBudgetMs)
      log(`${name}: ${run.pair.count} pairs${run.timedOut ? ' (stopped by the time bound)' : ''}`)
      const how = `1 client, acquire('${RESOURCE}', { scope: 'remote', remote: ${name === 'file' ? '<path of a bare repo>' : 'git://127.0.0.1/...'}, ttlMs: 60000, autoRenew: false })`
      const rawName = `raw.git.push.${name}`
      results.push(
        latency(rawName, raw, `git CLI: push of one new commit (fast-forward) to the same remote, ${name === 'file' ? 'by path' : 'through git daemon'}`),
        latency(`cairn.locks.remote.${name}.acquire`, run.acquire, `${how}; acquire only (read tip + compare-and-swap append)`, rawName),
        latency(`cairn.locks.remote.${name}.pair`, run.pair, `${how}, then release(); both awaited`, rawName),
      )
      const epochs = [...warm.epochs, ...run.epochs]
      pairsSoFar += epochs.length
      const rising = epochs.every((e, i) => i === 0 || e > (epochs[i - 1] as number))
      const chain = Number(git(['-C', bare, 'rev-list', '--count', ref]))
      checks.push({ name: `${name}: remote epochs strictly increase and the chain holds two commits per pair`, fatal: true,
        pass: rising && chain === 2 * pairsSoFar,
        detail: `${epochs.length} pairs, epochs ${epochs[0]}..${epochs.at(-1)}, chain of ${chain} commits after ${pairsSoFar} pairs in all` })
    }
  } finally {
    await rt.stop()
    await daemon.stop()
  }
  return { results, checks }
}
