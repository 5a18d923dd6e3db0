/**
 * Raw baseline for a durable Cairn comment: lmdb-js alone, writing the
 * records one comment writes, committed the fastest way lmdb-js offers.
 *
 * `writers` closed-loop writers (50, as the daemon bench's clients). All
 * writes that arrive in one event-loop turn are put together as one batch
 * (lmdb-js group-commits the batches on its write thread and pipelines
 * them: a batch does not wait for the previous commit); per write the same
 * records, shapes and key orders as a comment (event-log by seq,
 * issue-events by [issue, ts, actor, id] holding [seq, body], outbox by
 * seq, the issue head by issue) plus one checkpoint per batch. A
 * write counts once `env.flushed` (synced to disk) resolves for its batch,
 * which is when Cairn acknowledges. No IPC, no Cairn logic: what LMDB on
 * this disk allows for that write shape.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { open } from 'lmdb'
import { ratePerSecond } from '../lib/stats.ts'

export interface GroupedOptions { writers: number; warmupMs: number; durationMs: number; parentDir?: string }
export interface GroupedResult { rate: number; completed: number; batches: number; recordsPerWrite: number }

const DBS = ['event-log', 'issue-events', 'outbox', 'issues'] as const
const MAX_WRITES_PER_WRITER = 10_000_000

export async function measureGroupedComments(opts: GroupedOptions): Promise<GroupedResult> {
  const dir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'cairn-bench-lmdb-grouped-'))
  // Cairn's store options (lib/kernel/store/open-store.ts).
  const env = open({ path: dir, maxDbs: 32, compression: false, cache: false, overlappingSync: false })
  try {
    const db = Object.fromEntries(DBS.map((name) => [name, env.openDB({ name, useRecords: false, ...(name === 'event-log' || name === 'outbox' ? { keyEncoding: 'uint32' } : {}) } as never)]))
    const meta = env.openDB({ name: 'event-meta' })
    const issues = Array.from({ length: opts.writers }, () => randomBytes(16).toString('hex'))
    const actor = randomBytes(16).toString('hex')
    const counts = new Array<number>(opts.writers).fill(0)
    let seq = 0
    let waiting: { w: number; done: () => void }[] = []
    let batches = 0
    const flushTurn = (): void => {
      const batch = waiting
      waiting = []
      for (const { w } of batch) {
        const s = ++seq
        const ts = Date.now()
        const eventId = randomBytes(32).toString('hex')
        const issue = issues[w] as string
        const n = counts[w]!++
        const event = { issueId: issue, actor, tsUnixMs: ts, parent: null, kind: { type: 'CommentAdded', body: `comment ${n}` }, eventId }
        void db['event-log']!.put(s, event)
        void db['issue-events']!.put([issue, ts, actor, eventId], [s, `comment ${n}`])
        void db.outbox!.put(s, eventId)
        void db.issues!.put(issue, { id: issue, title: 'target', state: 'open', labels: [], assignees: [], updatedAt: ts, commentCount: n + 1, lastEventId: eventId })
      }
      void meta.put('projection', { version: 3, seq })
      batches++
      // Taken in the same turn as the puts: the flush of the transaction holding them.
      void env.flushed.then(() => { for (const b of batch) b.done() })
    }
    const write = (w: number): Promise<void> => new Promise((done) => {
      if (waiting.length === 0) setImmediate(flushTurn)
      waiting.push({ w, done })
    })
    const start = performance.now()
    const from = start + opts.warmupMs
    const end = from + opts.durationMs
    let completed = 0
    let batchesAtStart = 0
    await Promise.all(Array.from({ length: opts.writers }, async (_, w) => {
      for (let i = 0; i < MAX_WRITES_PER_WRITER; i++) {
        const t0 = performance.now()
        if (t0 >= end) return
        if (batchesAtStart === 0 && t0 >= from) batchesAtStart = batches
        await write(w)
        if (t0 >= from && performance.now() <= end) completed++
      }
    }))
    return { rate: ratePerSecond(completed, opts.durationMs), completed, batches: batches - batchesAtStart, recordsPerWrite: DBS.length }
  } finally {
    await env.close()
    await rm(dir, { recursive: true, force: true })
  }
}
