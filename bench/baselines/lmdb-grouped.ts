/**
 * Raw baseline for a durable Cairn comment: lmdb-js alone, group-committing
 * the records one comment writes, the way the RepoWorker commits them.
 *
 * `writers` closed-loop writers (50, as the daemon bench's clients) hand
 * writes to one committer. The committer runs one async `transaction()` per
 * batch of whatever is waiting, writing per write the same records, shapes
 * and key orders as a comment (event-log by seq, event-ids by a random
 * 64-hex id, issue-events by [issue, ts, actor, id], outbox by seq, the
 * issue head by issue, issue-comments by [issue, n]) plus one checkpoint per
 * batch; it starts the next batch as soon as a commit returns, and a
 * writer's put counts once `env.flushed` (synced to disk) resolves, which is
 * when Cairn acknowledges. No IPC, no Cairn logic: what LMDB on this disk
 * allows for that write shape.
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

const DBS = ['event-log', 'event-ids', 'issue-events', 'outbox', 'issues', 'issue-comments'] as const
const MAX_WRITES_PER_WRITER = 10_000_000

export async function measureGroupedComments(opts: GroupedOptions): Promise<GroupedResult> {
  const dir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'cairn-bench-lmdb-grouped-'))
  // Cairn's store options (lib/store/open-store.ts).
  const env = open({ path: dir, maxDbs: 32, compression: false, cache: false })
  try {
    const db = Object.fromEntries(DBS.map((name) => [name, env.openDB({ name, useRecords: false, ...(name === 'event-log' || name === 'outbox' ? { keyEncoding: 'uint32' } : {}) } as never)]))
    const meta = env.openDB({ name: 'event-meta' })
    const issues = Array.from({ length: opts.writers }, () => randomBytes(16).toString('hex'))
    const actor = randomBytes(16).toString('hex')
    const counts = new Array<number>(opts.writers).fill(0)
    let seq = 0
    let waiting: { w: number; done: () => void }[] = []
    let running = false
    let batches = 0
    const pump = async (): Promise<void> => {
      if (running) return
      running = true
      while (waiting.length > 0) {
        const batch = waiting
        waiting = []
        await env.transaction(() => {
          for (const { w } of batch) {
            const s = ++seq
            const ts = Date.now()
            const eventId = randomBytes(32).toString('hex')
            const issue = issues[w] as string
            const n = counts[w]!++
            const event = { issueId: issue, actor, tsUnixMs: ts, parent: null, kind: { type: 'CommentAdded', body: `comment ${n}` }, eventId }
            db['event-log']!.put(s, event)
            db['event-ids']!.put(eventId, s)
            db['issue-events']!.put([issue, ts, actor, eventId], s)
            db.outbox!.put(s, eventId)
            db.issues!.put(issue, { id: issue, title: 'target', state: 'open', labels: [], assignees: [], updatedAt: ts, commentCount: n + 1, lastEventId: eventId })
            db['issue-comments']!.put([issue, n], { author: actor, body: `comment ${n}`, tsUnixMs: ts, eventId })
          }
          meta.put('projection', { version: 2, seq })
        })
        batches++
        void env.flushed.then(() => { for (const b of batch) b.done() })
      }
      running = false
    }
    const write = (w: number): Promise<void> => new Promise((done) => { waiting.push({ w, done }); void pump() })
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
