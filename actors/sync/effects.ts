/**
 * The Sync actor's shell: parses requests into run specs for the machine,
 * keeps the requests waiting on each run, runs the phases (run.ts) over the
 * git port and the RepoWorker, streams progress to the callers, and arms the
 * backoff's retry on the runtime clock.
 */
import type { RootDatabase } from 'lmdb'
import { CairnError, invalidArgument, type WireError } from '../../protocol/errors.ts'
import { redactUrl } from '../../protocol/redact.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { GitSync } from '../../lib/kernel/ports/git-sync.ts'
import type { ActorContext } from '../../lib/kernel/actor-module.ts'
import { CHANNELS } from '../../lib/kernel/diagnostics.ts'
import type { IngestResult } from '../../protocol/messages.ts'
import type { IdentityReader } from '../../lib/kernel/ports/identity-reader.ts'
import type { RunSpec, SyncContext } from './machine.ts'
import { SyncRun, type SyncProgress, type SyncReport } from './run.ts'
import { openSyncDb, type SyncDb } from './store.ts'

/** Progress frames per caller are spaced at least this far apart (the last one always goes). */
const PROGRESS_EVERY_MS = 50
const STOP_WAIT_MS = 10_000

/** Validates `sync.run` / `sync.import-grite` bodies into a spec the machine can compare. */
export function parseRunRequest(req: Pick<Envelope, 'type' | 'body'>): RunSpec {
  if (req.type === M.syncImportGrite) return { key: 'grite', kind: 'grite', remote: '', pull: true, push: false }
  const b = req.body
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidArgument('body', 'must be an object')
  const { remote, pull = true, push = true } = b as Record<string, unknown>
  if (typeof remote !== 'string' || remote.length === 0 || remote.length > 4096 || /[\0\n\r]/.test(remote)) {
    throw invalidArgument('remote', 'must be a remote name, URL or path (1..4096 characters, no control characters)')
  }
  if (typeof pull !== 'boolean') throw invalidArgument('pull', 'must be a boolean')
  if (typeof push !== 'boolean') throw invalidArgument('push', 'must be a boolean')
  if (!pull && !push) throw invalidArgument('pull', 'pull and push cannot both be false')
  // The spec lives in the machine's context, which is persisted and shown by status: never the credentials.
  const shown = redactUrl(remote)
  return { key: `remote:${pull ? 'p' : ''}${push ? 'P' : ''}:${shown}`, kind: 'remote', remote: shown, pull, push }
}

/** The remote a request names, as given (credentials included), for the transport only. */
function remoteOf(req: Envelope): string | null {
  const remote = (req.body as { remote?: unknown } | null)?.remote
  return typeof remote === 'string' ? remote : null
}

export class SyncShell {
  readonly #ctx: ActorContext
  readonly #db: SyncDb
  readonly #identities: IdentityReader
  readonly #waiters = new Map<string, { req: Envelope; lastProgress: number }[]>()
  /** Per run key, the remote as the caller gave it (it may carry credentials): in memory only, gone when the run settles. */
  readonly #remotes = new Map<string, string>()
  #git: Promise<GitSync> | null = null
  #run: SyncRun | null = null
  /** The coded error of the run that just failed (the machine keeps only code and message). */
  #failure: CairnError | null = null
  #inFlight: Promise<unknown> = Promise.resolve()
  #stopping = false
  #cancelRetry: (() => void) | null = null
  lastRunAt: number | null = null

  constructor(env: RootDatabase, ctx: ActorContext, identities: IdentityReader) {
    this.#ctx = ctx
    this.#db = openSyncDb(env)
    this.#identities = identities
  }

  join(req: Envelope | null, spec: RunSpec): void {
    if (req === null) return
    const key = spec.key
    const remote = spec.kind === 'remote' ? remoteOf(req) : null
    if (remote !== null && !this.#remotes.has(key)) this.#remotes.set(key, remote)
    const list = this.#waiters.get(key)
    const w = { req, lastProgress: 0 }
    if (list) list.push(w)
    else this.#waiters.set(key, [w])
  }

  /** Runs a crashed process left banked, to resume at boot (pull only: the bank knows the URL, not the caller's intent). */
  bankedRuns(): RunSpec[] {
    const out: RunSpec[] = []
    for (const { key, value } of this.#db.getRange({ start: 'run:', end: 'run;' })) {
      const url = (value as { url?: unknown } | undefined)?.url
      if (key === 'run:grite') out.push(parseRunRequest({ type: M.syncImportGrite, body: {} }))
      else if (typeof url === 'string' && url.length > 0) out.push(parseRunRequest({ type: M.syncRun, body: { remote: url, push: false } }))
    }
    return out
  }

  /** A phase, tracked so stop() can wait for it. */
  phase(spec: RunSpec, name: 'fetch' | 'ingest' | 'push'): Promise<void> {
    const run = async (): Promise<void> => {
      if (name === 'fetch') {
        this.#failure = null
        this.#run = new SyncRun(spec, this.#deps(spec.key), this.#remotes.get(spec.key) ?? spec.remote)
      }
      const r = this.#run!
      try {
        await r[name]()
      } catch (err) {
        this.#failure = CairnError.from(err)
        throw this.#failure
      }
    }
    const p = run()
    this.#inFlight = p.catch(() => undefined)
    return p
  }

  #deps(key: string): ConstructorParameters<typeof SyncRun>[1] {
    return {
      git: () => (this.#git ??= this.#ctx.git.openSync(this.#ctx.gitDir)),
      db: this.#db,
      ingest: (events, bank) => this.#ctx.ask('repo-worker', M.eventsIngest, { events, bank }) as Promise<IngestResult>,
      flushWal: () => this.#ctx.ask('repo-worker', M.walFlush, {}),
      ownActors: () => this.#identities.ownActors(),
      now: () => this.#ctx.clock.now(),
      progress: (p) => this.#progress(key, p),
      checkAlive: () => { if (this.#stopping) throw new CairnError('STOPPED', 'the sync actor is stopping; the run resumes from its bank next time') },
    }
  }

  #progress(key: string, p: SyncProgress): void {
    const now = Date.now()
    for (const w of this.#waiters.get(key) ?? []) {
      // Only requests from the supervisor have someone to stream to.
      if (w.req.id < 0 || (now - w.lastProgress < PROGRESS_EVERY_MS && p.done < p.total)) continue
      w.lastProgress = now
      this.#ctx.notify(M.syncProgress, { corr: w.req.id, ...p })
    }
  }

  settle(key: string, error: WireError | null): void {
    this.lastRunAt = this.#ctx.clock.now()
    const waiters = this.#waiters.get(key) ?? []
    this.#waiters.delete(key)
    this.#remotes.delete(key)
    const run = this.#run
    this.#run = null
    // The spec's remote is the shown one: credentials never reach a report.
    const source = { remote: run?.spec.remote ?? null, kind: run?.spec.kind ?? null }
    if (error === null && run) {
      const report: SyncReport = run.finalReport()
      for (const w of waiters) this.#ctx.replyOk(w.req, report)
      this.#ctx.report(CHANNELS.syncRun, {
        ...source, pulled: report.pulled, duplicates: report.duplicates, pushed: report.pushed, resumedFrom: report.resumedFrom, durationMs: report.durationMs,
      })
      return
    }
    const failure = this.#failure ?? new CairnError(error?.code ?? 'INTERNAL', error?.message ?? 'sync failed')
    for (const w of waiters) this.#ctx.replyError(w.req, failure)
    this.#ctx.report(CHANNELS.syncFailed, { ...source, code: failure.code, message: failure.message })
  }

  armRetry(ms: number, retry: () => void): void {
    this.#cancelRetry?.()
    this.#cancelRetry = this.#ctx.clock.at(this.#ctx.clock.now() + ms, () => {
      this.#cancelRetry = null
      retry()
    })
  }

  status(context: SyncContext, state: string): unknown {
    return {
      state,
      runs: context.runs,
      failures: context.failures,
      lastError: context.lastError,
      backoffMs: context.backoffMs,
      current: context.current ? { remote: context.current.remote, kind: context.current.kind } : null,
      queued: context.queue.length,
      lastRunAt: this.lastRunAt,
    }
  }

  /** Ends the run in progress at its next step (its bank stays), answers every waiter STOPPED. */
  async stop(): Promise<void> {
    this.#stopping = true
    this.#cancelRetry?.()
    // A fetch stuck on a dead network cannot hold the runtime's stop forever.
    await Promise.race([this.#inFlight, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())])
    const stopped = new CairnError('STOPPED', 'the runtime is stopping; a sync in progress resumes from its bank next time')
    for (const list of this.#waiters.values()) for (const w of list) this.#ctx.replyError(w.req, stopped)
    this.#waiters.clear()
    this.#remotes.clear()
    const git = await this.#git?.catch(() => null)
    await git?.close()
  }
}
