/**
 * Scenario 1 of `npm run bench:issues`: acknowledged events per second with
 * `writers` concurrent writers on one repository.
 *
 * Cairn: `writers` repo handles with distinct agents on ONE repository in one
 * runtime; each writer loops, awaiting every call, over the mix of mix.ts
 * (create an issue, then comment on it, label it, assign it, then the next
 * issue of its own). An event counts when its call resolved, i.e. when it is
 * durable. Per-call latency is from the call to its resolution.
 *
 * Raw: lmdb-js alone (bench/baselines/lmdb-put.ts), the same number of
 * writers in this process, each awaiting one put of an event-shaped msgpack
 * value (a CommentAdded event with the same body length) and the flush. One
 * raw put stands for one event; a Cairn event also writes its id index, its
 * per-issue index, the outbox, the issue's whole projection and the
 * checkpoint, and crosses a thread both ways.
 */
import { randomBytes } from 'node:crypto'
import { pack } from 'msgpackr'
import { createRuntime } from '../../lib/index.ts'
import { measureDurableWriters } from '../baselines/lmdb-put.ts'
import type { BenchResult } from '../lib/report.ts'
import { LatencyRecorder, ratePerSecond, summarize } from '../lib/stats.ts'
import type { BenchDirs } from './fixture.ts'
import { makeCall, paddedText } from './mix.ts'
import type { IssuesParams } from './params.ts'

/** Result names of this scenario. */
export const WRITER_RESULTS = {
  rawRate: 'raw.lmdb.event-put',
  rawLatency: 'raw.lmdb.event-put.latency',
  rate: 'cairn.issues.acked-events',
  latency: 'cairn.issues.write-latency',
} as const

const GROUP = 'writes'

/** A stored CommentAdded event as the RepoWorker logs it (protocol/events/types.ts). */
function eventLike(i: number, commentChars: number): Record<string, unknown> {
  return {
    issueId: randomBytes(16).toString('hex'),
    actor: randomBytes(16).toString('hex'),
    tsUnixMs: Date.now(),
    parent: randomBytes(32).toString('hex'),
    kind: { type: 'CommentAdded', body: paddedText(`c${i}`, commentChars) },
    eventId: randomBytes(32).toString('hex'),
  }
}

/** The raw side: event-shaped durable puts, `writers` in flight. */
export async function runRawEventPuts(p: IssuesParams): Promise<BenchResult[]> {
  const bytes = pack(eventLike(0, p.commentChars)).byteLength
  const r = await measureDurableWriters({
    writers: p.writers, durationMs: p.writeDurationMs, warmupMs: p.writeWarmupMs, maxPutsPerWriter: p.maxCallsPerWriter,
    dbName: 'event-log', keyEncoding: 'uint32', record: (i) => [i + 1, eventLike(i, p.commentChars)],
  })
  const tmpfs = r.onTmpfs ? '; WARNING: temp dir is on tmpfs, syncs are free' : ''
  const how = `raw lmdb-js, ${p.writers} writers each awaiting put then env.flushed, ${bytes} B msgpack event-shaped values`
  return [
    { name: WRITER_RESULTS.rawRate, group: GROUP, unit: 'events/s', value: r.rate,
      note: `${how}; ${r.count} puts in ${r.elapsedMs.toFixed(0)} ms after ${p.writeWarmupMs} ms warm-up${tmpfs}` },
    { name: WRITER_RESULTS.rawLatency, group: GROUP, unit: 'ms', value: r.latencyMs.p50, p50: r.latencyMs.p50, p99: r.latencyMs.p99,
      note: `per put incl. flush; ${how}; n=${r.latencyMs.count} max=${r.latencyMs.max.toFixed(1)} ms` },
  ]
}

interface WriterState { k: number; issueId: string | null }

/** The Cairn side, in a runtime of its own on a fresh repository. */
export async function runCairnWriters(p: IssuesParams, dirs: BenchDirs): Promise<BenchResult[]> {
  const rt = await createRuntime({ home: dirs.home('writers'), threads: p.threads })
  try {
    const path = dirs.repo('writers')
    const handles = await Promise.all(Array.from({ length: p.writers }, (_, i) => rt.repo(path, { agent: `writer-${i}` })))
    const states: WriterState[] = handles.map(() => ({ k: 0, issueId: null }))
    let serial = 0
    let ackedTotal = 0
    const phase = async (durationMs: number, rec?: LatencyRecorder) => {
      let events = 0
      let calls = 0
      const start = performance.now()
      const deadline = start + durationMs
      await Promise.all(handles.map(async (repo, w) => {
        const s = states[w] as WriterState
        for (let c = 0; c < p.maxCallsPerWriter && performance.now() < deadline; c++) {
          const t0 = performance.now()
          const done = await makeCall(repo, s.k, s.issueId, serial++, p.commentChars)
          rec?.record(performance.now() - t0)
          s.issueId = done.issueId
          s.k = (s.k + 1) % p.eventsPerIssue
          events += done.events
          calls++
        }
      }))
      ackedTotal += events
      return { events, calls, elapsedMs: performance.now() - start }
    }
    await phase(p.writeWarmupMs)
    const rec = new LatencyRecorder(65_536)
    const m = await phase(p.writeDurationMs, rec)
    const lat = summarize(rec.samples())
    // Every acknowledged event must be in the log: a cheap check that the figure counts real writes.
    const stats = await handles[0]!.events.stats()
    const check = stats.events === ackedTotal ? `log holds all ${stats.events} acked events`
      : `WARNING: ${ackedTotal} events acked, log holds ${stats.events}`
    const how = `${p.writers} handles (distinct agents) on one repository, each awaiting every call; per issue 1 create + ` +
      `${p.eventsPerIssue - 1} comment/label/assign calls, 1 event per call, ${p.commentChars}-char comments`
    return [
      { name: WRITER_RESULTS.rate, group: GROUP, unit: 'events/s', value: ratePerSecond(m.events, m.elapsedMs), baseline: WRITER_RESULTS.rawRate,
        note: `${how}; ${m.events} events (${m.calls} calls) in ${m.elapsedMs.toFixed(0)} ms after ${p.writeWarmupMs} ms warm-up; ${check}` },
      { name: WRITER_RESULTS.latency, group: GROUP, unit: 'ms', value: lat.p50, p50: lat.p50, p99: lat.p99, baseline: WRITER_RESULTS.rawLatency,
        note: `per call until acknowledged; n=${lat.count} p95=${lat.p95.toFixed(1)} max=${lat.max.toFixed(1)} ms` },
    ]
  } finally {
    await rt.stop()
  }
}
