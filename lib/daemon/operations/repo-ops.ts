/**
 * Repository-wide operations: init, the event log (paged and followed),
 * the WAL, the store check behind `doctor`, sync and grite import.
 *
 * `sync` and `import-grite` stream their progress (`{ phase, done, total }`)
 * before the reply that carries the report.
 */
import type { RepoMethod } from '../../../protocol/operations/index.ts'
import type { Repo } from '../../api/repo.ts'
import { MESSAGE_TYPES as M } from '../../../protocol/messages.ts'
import { readEncoded, type Impls } from './types.ts'

export interface DoctorCheck {
  name: string
  ok: boolean
  detail: string
  fixed?: boolean
  /** The error code behind a failed check, when there is one (STORE_CORRUPT makes `--fix` rebuild the store). */
  code?: string
  /** What a repair did, in full (the store rebuild's report). */
  report?: unknown
}

/** The store's own view of itself: readable, outbox and WAL agreeing, no stuck drain. */
async function storeChecks(repo: Repo, fix: boolean): Promise<DoctorCheck[]> {
  let stats = await repo.events.stats()
  const checks: DoctorCheck[] = [{ name: 'store', ok: true, detail: `${stats.events} events, ${stats.issues} issues, last seq ${stats.lastSeq}` }]
  const consistent = (s: typeof stats): boolean => s.wal === undefined || s.wal.pending === s.outbox
  // Events waiting for the next drain round (at most DRAIN_PACE_MS apart under load) are normal; a drain that fails is not.
  const draining = (s: typeof stats): boolean => (s.wal?.lastError ?? null) === null
  let fixed = false
  if (fix && (!consistent(stats) || !draining(stats))) {
    await repo.wal.flush()
    stats = await repo.events.stats()
    fixed = true
  }
  checks.push({
    name: 'outbox-vs-wal',
    ok: consistent(stats),
    detail: `outbox ${stats.outbox}, WAL drain pending ${stats.wal?.pending ?? 'n/a'}`,
    ...(fixed ? { fixed: consistent(stats) } : {}),
  })
  checks.push({
    name: 'wal-drain',
    ok: draining(stats),
    detail: stats.wal?.lastError ? `last WAL error: ${stats.wal.lastError}`
      : stats.outbox === 0 ? 'every event is in the git WAL' : `${stats.outbox} events wait for the next drain round`,
    ...(fixed ? { fixed: draining(stats) } : {}),
  })
  return checks
}

export const repoOperations: Impls<RepoMethod> = {
  'repo.init': async (ctx) => {
    const repo = await ctx.repo()
    const stats = await repo.events.stats()
    return { repoId: repo.id, path: repo.path, actor: repo.actor, agent: repo.agent, events: stats.events, issues: stats.issues }
  },
  'events.read': (ctx, a) => readEncoded(ctx, M.eventsRead, { fromSeq: a.fromSeq, limit: a.limit }),
  'events.stats': async (ctx) => (await ctx.repo()).events.stats(),
  /** Streams `{ seq, event }` from `fromSeq`; ends after `limit` events, on cancel, or when the daemon stops. */
  'events.follow': async (ctx, a) => {
    const repo = await ctx.repo()
    const fromSeq = a.fromSeq ?? 1
    let count = 0
    let last = fromSeq - 1
    for await (const e of repo.events.subscribe({ fromSeq, signal: ctx.signal })) {
      await ctx.emit(e)
      count++
      last = e.seq
      if (a.limit !== undefined && count >= a.limit) break
    }
    return { count, nextSeq: last + 1 }
  },
  'wal.flush': async (ctx) => (await ctx.repo()).wal.flush(),
  'repo.doctor': async (ctx, a) => ({ checks: await storeChecks(await ctx.repo(), a.fix === true) }),
  /** Streams `{ phase, done, total }` progress frames, then replies with the sync report. */
  sync: async (ctx, a) => {
    const repo = await ctx.repo()
    const progress = streamProgress(ctx)
    const report = await repo.sync({
      remote: a.remote ?? 'origin',
      signal: ctx.signal,
      onProgress: progress.emit,
      ...(a.pull === undefined ? {} : { pull: a.pull }),
      ...(a.push === undefined ? {} : { push: a.push }),
    })
    await progress.flushed()
    return report
  },
  /** Ingests the repository's grite WAL; streams progress like sync. */
  'import-grite': async (ctx) => {
    const repo = await ctx.repo()
    const progress = streamProgress(ctx)
    const report = await repo.importGrite({ signal: ctx.signal, onProgress: progress.emit })
    await progress.flushed()
    return report
  },
}

/**
 * Progress callbacks are synchronous; frames go out in order through one
 * promise chain, and the reply waits for the last of them, so the end frame
 * always follows every progress frame.
 */
function streamProgress(ctx: { emit(item: unknown): Promise<void> }): { emit(p: unknown): void; flushed(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve()
  return {
    emit: (p) => { chain = chain.then(() => ctx.emit(p)).catch(() => undefined) },
    flushed: () => chain,
  }
}
