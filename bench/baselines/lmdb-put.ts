/**
 * Raw baseline for Cairn's acknowledged writes: lmdb-js on its own, in a
 * temporary directory, opened with the same options as Cairn's stores
 * (lib/kernel/store/open-store.ts: no compression, no cache, no
 * overlappingSync) and writing journal-entry-shaped records with lmdb's
 * default msgpack encoding into a named database.
 *
 * 1. Durable, 64 in flight: `inFlight` concurrent writers, each looping
 *    `await db.put()` then `await env.flushed` (i.e. synced to disk, the point
 *    at which Cairn acknowledges), for `durationMs`. Concurrent puts share
 *    transactions and syncs, as they would in the runtime.
 * 2. Pipelined batches: `batchSize` puts issued in one tick (lmdb-js commits
 *    them as one transaction) while the previous batch commits; one
 *    `env.flushed` at the end is included in the time, so every counted put
 *    is durable when the clock stops.
 *
 * {@link measureDurableWriters} runs phase 1 alone with records of the
 * caller's shape, a warm-up, a per-writer count bound and per-put latency,
 * for scripts comparing other writes (bench/issues/writers.ts: one
 * event-sized record per acknowledged Cairn event).
 *
 * {@link measureDurablePairs} is the same loop with two durable writes per
 * step, a put then a remove of the writer's own key (bench/locks: a lease
 * granted then released).
 */
import { mkdtemp, rm, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { open, type Database, type Key, type RootDatabase } from 'lmdb'
import { LatencyRecorder, ratePerSecond, summarize, type LatencySummary } from '../lib/stats.ts'
import type { BenchResult } from '../lib/report.ts'

/** Result names of this baseline, for Cairn results to reference as `baseline`. */
export const LMDB_BASELINES = {
  durable: 'raw.lmdb.durable-put',
  batched: 'raw.lmdb.batched-put',
} as const

/** Knobs of the lmdb baseline. */
export interface LmdbPutOptions {
  /** Concurrent durable writers (the task asks for 64). */
  inFlight: number
  /** Puts per batch in the pipelined phase. */
  batchSize: number
  /** Length of each measured phase, in ms. */
  durationMs: number
  /** Parent of the temporary environment directory (default: os.tmpdir()). */
  parentDir?: string
}

const GROUP = 'storage'
/** Mirrors OPEN_OPTIONS in lib/kernel/store/open-store.ts (kept local: this is the raw side). */
const OPEN_OPTIONS = { maxDbs: 32, compression: false, cache: false, overlappingSync: false } as const
/** statfs().type of tmpfs, where fsync costs nothing and "durable" is not. */
const TMPFS_MAGIC = 0x01021994

interface Entry {
  opId: string
  type: string
  actor: string
  startedAt: number
  resumable: boolean
  body: { seq: number }
}

type EntryDb = Database<Entry, string>

/** Runs both phases in a fresh temporary environment, then closes and deletes it. */
export async function runLmdbPut(opts: LmdbPutOptions): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'cairn-bench-lmdb-'))
  let env: RootDatabase | undefined
  try {
    const onTmpfs = (await statfs(dir)).type === TMPFS_MAGIC ? '; WARNING: temp dir is on tmpfs, syncs are free' : ''
    env = open({ path: dir, ...OPEN_OPTIONS })
    const db: EntryDb = env.openDB<Entry, string>({ name: 'journal' })
    const keys = { next: 0 }
    const put = (): Promise<boolean> => {
      const [key, value] = entry(keys.next++)
      return db.put(key, value)
    }
    await durable(env, put, opts.inFlight, Math.min(200, opts.durationMs / 4), Infinity) // warm-up, discarded
    const d = await durable(env, put, opts.inFlight, opts.durationMs, Infinity)
    const b = await batched(env, db, keys, opts.batchSize, opts.durationMs)
    return [
      {
        name: LMDB_BASELINES.durable, group: GROUP, unit: 'puts/s', value: d.rate,
        note: `raw lmdb-js, ${opts.inFlight} in flight, each put awaited then env.flushed; ${d.count} puts in ${d.elapsedMs.toFixed(0)} ms${onTmpfs}`,
      },
      {
        name: LMDB_BASELINES.batched, group: GROUP, unit: 'puts/s', value: b.rate,
        note: `raw lmdb-js, batches of ${opts.batchSize} puts pipelined one deep, final env.flushed included; ${b.count} puts in ${b.elapsedMs.toFixed(0)} ms`,
      },
    ]
  } finally {
    await env?.close()
    await rm(dir, { recursive: true, force: true })
  }
}

interface Rate {
  count: number
  elapsedMs: number
  rate: number
}

function entry(seq: number): [string, Entry] {
  const opId = `op-${seq.toString().padStart(10, '0')}`
  return [opId, { opId, type: 'task.update', actor: 'repo-worker:bench', startedAt: Date.now(), resumable: true, body: { seq } }]
}

/**
 * `inFlight` writers, each looping `await put(w)` then `await env.flushed`;
 * `w` is the writer's index (0-based), for writes that belong to one writer.
 */
async function durable(
  env: RootDatabase, put: (writer: number) => Promise<unknown>, inFlight: number, durationMs: number, maxPerWriter: number, rec?: LatencyRecorder,
): Promise<Rate> {
  let count = 0
  const start = performance.now()
  const deadline = start + durationMs
  const writer = async (_: unknown, w: number): Promise<void> => {
    for (let n = 0; n < maxPerWriter && performance.now() < deadline; n++) {
      const t0 = rec ? performance.now() : 0
      await put(w)
      await env.flushed
      if (rec) rec.record(performance.now() - t0)
      count++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, writer))
  const elapsedMs = performance.now() - start
  return { count, elapsedMs, rate: ratePerSecond(count, elapsedMs) }
}

async function batched(env: RootDatabase, db: EntryDb, keys: { next: number }, batchSize: number, durationMs: number): Promise<Rate> {
  let count = 0
  let previous: Promise<boolean> | undefined
  const start = performance.now()
  const deadline = start + durationMs
  while (performance.now() < deadline) {
    let last: Promise<boolean> | undefined
    for (let i = 0; i < batchSize; i++) {
      const [key, value] = entry(keys.next++)
      last = db.put(key, value)
    }
    count += batchSize
    if (previous) await previous // one batch commits while the next is built
    previous = last
  }
  await previous
  await env.flushed
  const elapsedMs = performance.now() - start
  return { count, elapsedMs, rate: ratePerSecond(count, elapsedMs) }
}

/** Knobs of {@link measureDurableWriters}. */
export interface DurableWritersOptions {
  /** Concurrent writers, each awaiting its put and the flush before the next. */
  writers: number
  durationMs: number
  /** Untimed run of the same loop before timing starts. */
  warmupMs: number
  /** Count bound per writer (per phase), besides the time bound. */
  maxPutsPerWriter: number
  /** Named database the records go to; its keys are uint32 when `record` returns numbers. */
  dbName: string
  keyEncoding?: 'uint32'
  /** Key and value of the i-th put (i counts up from 0 across warm-up and timed run). */
  record: (i: number) => [Key, unknown]
  parentDir?: string
}

/** Timed run of {@link measureDurableWriters}; latency in ms from put to flushed. */
export interface DurableWritersResult extends Rate {
  latencyMs: LatencySummary
  /** The temp dir was on tmpfs, where syncs cost nothing. */
  onTmpfs: boolean
}

/**
 * Durable awaited puts from `writers` concurrent writers into a fresh
 * temporary environment (deleted afterwards), opened like Cairn's stores.
 * @example await measureDurableWriters({ writers: 50, durationMs: 2000, warmupMs: 300, maxPutsPerWriter: 1e6, dbName: 'log', keyEncoding: 'uint32', record: (i) => [i + 1, { i }] })
 */
export async function measureDurableWriters(opts: DurableWritersOptions): Promise<DurableWritersResult> {
  return withTempEnv(opts.parentDir, async (env, onTmpfs) => {
    const db = env.openDB<unknown, Key>({ name: opts.dbName, ...(opts.keyEncoding ? { keyEncoding: opts.keyEncoding } : {}) })
    let next = 0
    const put = (): Promise<boolean> => {
      const [key, value] = opts.record(next++)
      return db.put(key, value)
    }
    if (opts.warmupMs > 0) await durable(env, put, opts.writers, opts.warmupMs, opts.maxPutsPerWriter)
    const rec = new LatencyRecorder(16_384)
    const rate = await durable(env, put, opts.writers, opts.durationMs, opts.maxPutsPerWriter, rec)
    return { ...rate, latencyMs: summarize(rec.samples()), onTmpfs }
  })
}

/** Knobs of {@link measureDurablePairs}. */
export interface DurablePairsOptions {
  /** Concurrent writers, each awaiting its whole pair before the next. */
  writers: number
  durationMs: number
  /** Untimed run of the same loop before timing starts. */
  warmupMs: number
  /** Count bound per writer (per phase), besides the time bound. */
  maxPairsPerWriter: number
  dbName: string
  /** Key and value writer `w` puts (then removes) in its `i`-th pair (i counts per writer, warm-up included). */
  record: (w: number, i: number) => [Key, unknown]
  parentDir?: string
}

/**
 * Durable put-then-remove pairs from `writers` concurrent writers into a
 * fresh temporary environment (deleted afterwards), opened like Cairn's
 * stores: each step is `await put`, `await env.flushed`, `await remove`,
 * `await env.flushed`. `count`, `rate` and `latencyMs` are per pair.
 * @example await measureDurablePairs({ writers: 20, durationMs: 5000, warmupMs: 1000, maxPairsPerWriter: 1e6, dbName: 'leases', record: (w, i) => [`path:bench/${w}`, { i }] })
 */
export async function measureDurablePairs(opts: DurablePairsOptions): Promise<DurableWritersResult> {
  return withTempEnv(opts.parentDir, async (env, onTmpfs) => {
    const db = env.openDB<unknown, Key>({ name: opts.dbName })
    const next: number[] = Array.from({ length: opts.writers }, () => 0)
    const pair = async (w: number): Promise<void> => {
      const i = next[w] ?? 0
      next[w] = i + 1
      const [key, value] = opts.record(w, i)
      await db.put(key, value)
      await env.flushed
      await db.remove(key) // durable() awaits env.flushed after it
    }
    if (opts.warmupMs > 0) await durable(env, pair, opts.writers, opts.warmupMs, opts.maxPairsPerWriter)
    const rec = new LatencyRecorder(16_384)
    const rate = await durable(env, pair, opts.writers, opts.durationMs, opts.maxPairsPerWriter, rec)
    return { ...rate, latencyMs: summarize(rec.samples()), onTmpfs }
  })
}

/** Runs `body` on a fresh environment in a new temporary directory, then closes and deletes both. */
async function withTempEnv<T>(parentDir: string | undefined, body: (env: RootDatabase, onTmpfs: boolean) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(parentDir ?? tmpdir(), 'cairn-bench-lmdb-'))
  let env: RootDatabase | undefined
  try {
    const onTmpfs = (await statfs(dir)).type === TMPFS_MAGIC
    env = open({ path: dir, ...OPEN_OPTIONS })
    return await body(env, onTmpfs)
  } finally {
    await env?.close()
    await rm(dir, { recursive: true, force: true })
  }
}
