/**
 * Raw baseline for "what you would use instead": a git-backed tracker that
 * writes one commit per operation. nodegit (Cairn's own adapter,
 * lib/adapters/git/nodegit-wal.ts, with libgit2's fsync on) appends commits
 * in grite's WAL layout to a temporary `git init`ed repository, each holding
 * one one-event chunk, with compare-and-swap ref updates.
 *
 * `writers` concurrent writers each append to a ref of their own (as each
 * agent writes its own WAL ref), awaiting every commit, for `durationMs`.
 * Cairn batches many acknowledged events into one WAL commit after the
 * LMDB commit; this line prices the commit itself.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openGitWal } from '../../lib/adapters/git/nodegit-wal.ts'
import { chunkHashOf, computeEventId, encodeChunk, type EventInput } from '../../protocol/events/index.ts'
import type { BenchResult } from '../lib/report.ts'
import { LatencyRecorder, ratePerSecond, summarize } from '../lib/stats.ts'

/** Result names of this baseline, for Cairn results to reference as `baseline`. */
export const GIT_BASELINES = {
  commit: 'raw.git.commit',
  latency: 'raw.git.commit.latency',
} as const

export interface NodegitCommitOptions {
  writers: number
  durationMs: number
  /** Untimed run of the same loop before timing starts. */
  warmupMs: number
  /** Count bound per writer, besides the time bound. */
  maxCommitsPerWriter: number
}

const GROUP = 'git'

/** A 32-hex actor id of writer `w`. */
function actorOf(w: number): string {
  return w.toString(16).padStart(32, '0')
}

/** One CommentAdded event (a typical operation) as a grite chunk. */
function chunkFor(actor: string, n: number): Uint8Array {
  const input: EventInput = {
    issueId: 'fedcba9876543210fedcba9876543210', actor, tsUnixMs: Date.now(), parent: null,
    kind: { type: 'CommentAdded', body: `comment ${n} `.padEnd(120, '.') },
  }
  return encodeChunk([{ ...input, eventId: computeEventId(input) }])
}

/**
 * Runs the writers on a fresh repository (deleted afterwards).
 * @example await runNodegitCommit({ writers: 4, durationMs: 2000, warmupMs: 200, maxCommitsPerWriter: 1e6 })
 */
export async function runNodegitCommit(opts: NodegitCommitOptions): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-git-'))
  execFileSync('git', ['init', '-q', dir])
  const wal = await openGitWal(join(dir, '.git'))
  try {
    const tips: (string | null)[] = Array.from({ length: opts.writers }, () => null)
    let serial = 0
    const commit = async (w: number): Promise<void> => {
      const actor = actorOf(w)
      const chunk = chunkFor(actor, serial++)
      const hash = chunkHashOf(chunk)
      const d = new Date()
      const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`
      const expectedTip = tips[w] ?? null
      const res = await wal.appendWal({
        ref: `refs/cairn/wal/${actor}`, expectedTip, meta: { schema_version: 1, actor_id: actor, chunk_hash: hash, prev_wal: expectedTip },
        chunkPath: `events/${day}/${hash}.bin`, chunk, message: 'bench: 1 event',
        author: { name: 'bench', email: `${actor}@cairn.invalid`, timeMs: d.getTime() },
      })
      if (!res.ok) throw new Error(`ref of writer ${w} moved under it`)
      tips[w] = res.commit
    }
    const phase = async (durationMs: number, rec?: LatencyRecorder): Promise<{ count: number; elapsedMs: number }> => {
      let count = 0
      const start = performance.now()
      const deadline = start + durationMs
      await Promise.all(Array.from({ length: opts.writers }, async (_, w) => {
        for (let n = 0; n < opts.maxCommitsPerWriter && performance.now() < deadline; n++) {
          const t0 = performance.now()
          await commit(w)
          rec?.record(performance.now() - t0)
          count++
        }
      }))
      return { count, elapsedMs: performance.now() - start }
    }
    if (opts.warmupMs > 0) await phase(opts.warmupMs)
    const rec = new LatencyRecorder(4096)
    const m = await phase(opts.durationMs, rec)
    const lat = summarize(rec.samples())
    const how = `nodegit appendWal (blob, tree, commit, CAS ref update, fsync on), ${opts.writers} writers each on its own ref, one 1-event chunk per commit`
    return [
      { name: GIT_BASELINES.commit, group: GROUP, unit: 'ops/s', value: ratePerSecond(m.count, m.elapsedMs),
        note: `${how}; ${m.count} commits in ${m.elapsedMs.toFixed(0)} ms after ${opts.warmupMs} ms warm-up; 1 op = 1 commit` },
      { name: GIT_BASELINES.latency, group: GROUP, unit: 'ms', value: lat.p50, p50: lat.p50, p99: lat.p99,
        note: `per commit; n=${lat.count} p95=${lat.p95.toFixed(1)} max=${lat.max.toFixed(1)} ms` },
    ]
  } finally {
    wal.close()
    await rm(dir, { recursive: true, force: true })
  }
}
