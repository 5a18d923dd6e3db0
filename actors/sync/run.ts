/**
 * One sync run, phase by phase (the machine invokes each): fetch pins the
 * targets, ingest reads each actor ref from its banked checkpoint to its
 * pinned tip and hands the events to the RepoWorker, push sends this
 * replica's refs that the remote lacks.
 *
 * Resumable: every ingest request banks the run's progress in the same
 * transaction as its events; a run killed at any point leaves a bank, and
 * the next run against that source starts each ref where the bank says,
 * reporting what it reused as `resumedFrom`. The anchor moves only when a
 * run's ingest completes.
 *
 * Divergence: a remote ref that no longer contains what was ingested from it
 * (someone rewrote it) is read again from its root (ingesting is idempotent,
 * so nothing is lost and nothing doubles), its local mirror is left alone,
 * and the report names it. Our own refs are never rewritten; if the remote's
 * copy of one diverged the push is refused and the run fails PUSH_REJECTED.
 */
import { CairnError } from '../../protocol/errors.ts'
import { decodeChunkInSlices } from '../../protocol/events/chunk.ts'
import type { CairnEvent } from '../../protocol/events/types.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { GitSync, WalReader } from '../../lib/kernel/ports/git-sync.ts'
import type { IngestResult } from '../../protocol/messages.ts'
import type { RunSpec } from './machine.ts'
import { sourceKey, type RunDeps } from './run-deps.ts'
import { WalPages, type ReadItem } from './wal-pages.ts'
import { afterRace } from './push-race.ts'
import { anchorKey, bankedEvents, completeRun, readAnchor, readBank, runKey, type RunBank, type SyncDb } from './store.ts'
import type { RefReport, SyncProgress, SyncReport } from '../../protocol/results.ts'
export type { RefReport, SyncProgress, SyncReport }
export type { RunDeps }

/** Events per ingest request (one RepoWorker commit, one bank). */
export const INGEST_BATCH = 2_000
/** WAL commits read per page (three git processes per page; a WAL commit's two blobs are ~1 KiB). */
const PAGE_COMMITS = 1_024
/** Refuse to walk absurd histories in one run. */
const MAX_CHAIN = 2_000_000
const WAL_PREFIX = 'refs/cairn/wal/'
const GRITE_PREFIX = 'refs/grite/'

/** Push rounds when refs lost a race to another pusher (a second runtime on this clone): bounded, each re-reads the remote. */
const PUSH_ROUNDS = 4

export class SyncRun {
  readonly spec: RunSpec
  readonly #deps: RunDeps
  readonly #started: number
  /** What the transport is given: the caller's remote name, URL (credentials included) or path. Never stored or shown. */
  readonly #remote: string
  #url = ''
  #key = ''
  #targets = new Map<string, string>()
  #bank!: RunBank
  #refs = new Map<string, RefReport>()
  /** The remote's reasons for refusals, redacted, for the PUSH_REJECTED message. */
  #rejections: string[] = []
  #git!: GitSync
  /** Where the run's time went (report.phasesMs), on the runtime clock. */
  #phases = { fetch: 0, ingest: 0, flush: 0, push: 0 }
  report!: SyncReport

  /** `remote` is what to connect to (may carry credentials); `spec.remote` is its redacted form. */
  constructor(spec: RunSpec, deps: RunDeps, remote: string = spec.remote) {
    this.spec = spec
    this.#remote = remote
    this.#deps = deps
    this.#started = deps.now()
  }

  async fetch(): Promise<void> {
    const deps = this.#deps
    const t0 = deps.now()
    deps.progress({ phase: 'fetching', done: 0, total: 1 })
    this.#git = await deps.git()
    const git = this.#git
    if (this.spec.kind === 'grite') {
      this.#url = 'grite'
      this.#key = 'grite'
      for (const [name, tip] of await git.listRefs(GRITE_PREFIX)) {
        if (name === 'refs/grite/wal' || name.startsWith('refs/grite/wal/')) this.#targets.set(name, tip)
      }
    } else {
      // The URL as shown (credentials redacted) is what reports, banks and the tracking key use.
      this.#url = (await git.resolveRemote(this.#remote)).url
      this.#key = sourceKey(this.#url)
      const track = `refs/cairn-sync/${this.#key}/wal/`
      await git.fetch(this.#remote, [`+${WAL_PREFIX}*:${track}*`])
      for (const [name, tip] of await git.listRefs(track)) this.#targets.set(`wal/${name.slice(track.length)}`, tip)
    }
    const banked = readBank(deps.db, this.#key)
    const resumed = banked !== null && banked.url === this.#url ? banked : null
    this.#bank = { version: 1, url: this.#url, startedAt: deps.now(), targets: Object.fromEntries(this.#targets), progress: { ...resumed?.progress } }
    // Only a pulling run has progress to bank; a push-only one leaves any earlier bank alone.
    if (this.spec.pull) await deps.db.put(runKey(this.#key), this.#bank)
    this.report = {
      remote: this.spec.remote, url: this.#url, pulled: 0, duplicates: 0, pushed: 0, refs: [],
      resumedFrom: bankedEvents(resumed), diverged: [], quarantined: [], durationMs: 0, phasesMs: this.#phases,
    }
    this.#phases.fetch = deps.now() - t0
    deps.progress({ phase: 'fetching', done: 1, total: 1 })
  }

  ingest(): Promise<void> { return this.#timed('ingest', () => this.#ingest()) }

  async #ingest(): Promise<void> {
    const deps = this.#deps
    const git = this.#git
    // A push-only run leaves the ingest bank and the anchor as they are.
    if (!this.spec.pull) return
    const anchor = readAnchor(deps.db, this.#key)
    const plan: { ref: string; target: string; start: string | null }[] = []
    for (const [ref, target] of [...this.#targets].sort(([a], [b]) => (a < b ? -1 : 1))) {
      let start = this.#bank.progress[ref]?.commit ?? anchor?.refs[ref] ?? null
      const entry: RefReport = { ref, from: start, to: target, events: 0, status: 'unchanged' }
      this.#refs.set(ref, entry)
      if (start === target) continue
      try {
        if (start !== null && !(await git.isAncestor(start, target))) {
          entry.status = 'diverged'
          this.report.diverged.push(ref)
          start = null
          // Banked progress on a chain that is gone is not reused: the ref is read again from its root.
          const stale = this.#bank.progress[ref]
          if (stale) {
            this.report.resumedFrom -= stale.events
            delete this.#bank.progress[ref]
          }
        }
      } catch (err) {
        // Its history cannot even be walked (a commit missing, or not a commit): set the ref aside.
        if (!(err instanceof CairnError) || !['INVALID_FORMAT', 'NOT_FOUND', 'INTERNAL'].includes(err.code)) throw err
        this.#quarantine(entry, target, err)
        continue
      }
      plan.push({ ref, target, start })
    }
    const reader = git.walReader()
    try {
      await this.#ingestPlan(plan, reader)
    } finally {
      await reader.close()
    }
    if (this.spec.kind === 'remote') await this.#mirror()
    return this.#finish()
  }

  /**
   * Reads every ref's new commits (all refs listed at once, then pages across
   * refs) and ingests their events, banking per ref. A commit that cannot be
   * read sets aside its ref from there on (wal-pages.ts); the rest goes on.
   */
  async #ingestPlan(plan: { ref: string; target: string; start: string | null }[], reader: WalReader): Promise<void> {
    const deps = this.#deps
    const chains = await reader.chains(plan.map((p) => ({ tip: p.target, stopAt: p.start })), MAX_CHAIN)
    const items = chains.flatMap((chain, i) => chain.map((link) => ({ i, link })))
    const total = items.length
    let done = 0
    deps.progress({ phase: 'ingesting', done, total })
    const pages = new WalPages(reader, items, PAGE_COMMITS, (i, commit, err) => this.#quarantine(this.#refs.get(plan[i]!.ref)!, commit, err))
    // Events of several refs go in one ingest (one commit): a team's refs each hold a few commits, and a commit per ref cost most of a run.
    let pending: CairnEvent[] = []
    /**
     * Per ref (plan index) in `pending`: how many of its events are there,
     * and its last commit whose events are all in `pending` or ingested (the
     * one a bank may name), with how many of them precede that commit's end
     * (`whole`). `owners` names each pending event's ref (pages may mix refs).
     * Requests are cut between commits; only a commit larger than one request
     * goes in several, its head counted (`carried`) once it is whole.
     */
    let marks = new Map<number, { commit: string | null; count: number; whole: number }>()
    let owners: number[] = []
    const carried = new Map<number, number>()
    const flush = async (): Promise<void> => {
      if (marks.size === 0) return
      const progress = { ...this.#bank.progress }
      for (const [i, m] of marks) {
        const carry = carried.get(i) ?? 0
        if (m.commit === null) {
          carried.set(i, carry + m.count)
          continue
        }
        const ref = plan[i]!.ref
        progress[ref] = { commit: m.commit, events: (progress[ref]?.events ?? 0) + carry + m.whole }
        carried.set(i, m.count - m.whole)
      }
      const value: RunBank = { ...this.#bank, progress }
      const r = await deps.ingest(pending, { key: runKey(this.#key), value })
      this.#bank = value
      this.report.pulled += r.ingested
      this.report.duplicates += r.duplicates
      const duplicates = new Map<number, number>()
      for (const d of r.duplicateAt ?? []) duplicates.set(owners[d]!, (duplicates.get(owners[d]!) ?? 0) + 1)
      for (const [i, m] of marks) this.#refs.get(plan[i]!.ref)!.events += m.count - (duplicates.get(i) ?? 0)
      pending = []
      owners = []
      marks = new Map()
    }
    let finished = 0
    /** Refs before `next` are read to their targets: their status is final. */
    const finishUntil = (next: number): void => {
      for (; finished < next; finished++) {
        const entry = this.#refs.get(plan[finished]!.ref)!
        if (entry.status === 'unchanged') entry.status = 'ingested'
      }
    }
    // The next page is read (by git, in other processes) while this one is ingested.
    let next: Promise<ReadItem[]> | null = total > 0 ? pages.read(0) : null
    for (let from = 0; from < total; from += PAGE_COMMITS) {
      deps.checkAlive()
      const entries = await (next as Promise<ReadItem[]>)
      next = from + PAGE_COMMITS < total ? pages.read(from + PAGE_COMMITS) : null
      next?.catch(() => undefined) // its failure is seen when its turn comes
      for (const { i, pos, entry: e } of entries) {
        if (pages.skips(i, pos)) continue
        let events: CairnEvent[]
        try {
          // In slices: a chunk of many thousand events must not hold the thread past its watchdog.
          events = await decodeChunkInSlices(e.chunk)
        } catch (err) {
          pages.quarantine(i, pos, e.commit, new CairnError('INVALID_FORMAT', `WAL commit ${e.commit} on ${plan[i]!.ref}: ${(err as Error).message}`, { ref: plan[i]!.ref, commit: e.commit }))
          continue
        }
        // Cut between commits: a resumed run starts after the banked commit, so a commit split over two requests would be read twice.
        if (pending.length > 0 && pending.length + events.length > INGEST_BATCH) {
          await flush()
          deps.progress({ phase: 'ingesting', done, total })
        }
        const mark = (): { commit: string | null; count: number; whole: number } => {
          let m = marks.get(i)
          if (!m) marks.set(i, m = { commit: null, count: 0, whole: 0 })
          return m
        }
        for (let at = 0; at < events.length;) {
          const room = INGEST_BATCH - pending.length
          const slice = events.slice(at, at + room)
          for (const ev of slice) {
            pending.push(ev)
            owners.push(i)
          }
          at += slice.length
          mark().count += slice.length
          // A commit larger than one request: its slices go one request each.
          if (at < events.length) {
            await flush()
            deps.progress({ phase: 'ingesting', done, total })
          }
        }
        const m = mark()
        m.commit = e.commit
        m.whole = m.count
        done++
      }
      done = Math.min(total, from + PAGE_COMMITS)
      if (entries.length > 0) finishUntil(entries[entries.length - 1]!.i)
      deps.progress({ phase: 'ingesting', done, total })
    }
    await flush()
    finishUntil(plan.length)
    deps.progress({ phase: 'ingesting', done, total })
  }

  #quarantine(entry: RefReport, commit: string, err: unknown): void {
    const e = CairnError.from(err)
    entry.status = 'quarantined'
    this.report.quarantined.push({ ref: entry.ref, commit, code: e.code === 'CHUNK_TOO_LARGE' ? 'CHUNK_TOO_LARGE' : 'INVALID_FORMAT', message: e.message })
  }

  /** Local refs/cairn/wal/<actor> follow the remote when that is a fast-forward (relaying to other remotes). */
  async #mirror(): Promise<void> {
    const git = this.#git
    for (const [ref, target] of this.#targets) {
      const entry = this.#refs.get(ref)
      // Nothing unread is relayed: a quarantined ref's commits stay out of our refs.
      if (entry?.status === 'diverged' || entry?.status === 'quarantined') continue
      const local = `refs/cairn/${ref}`
      const tip = await git.readRef(local)
      if (tip === target) continue
      if (tip === null || await git.isAncestor(tip, target)) await git.moveRef(local, target, tip)
    }
  }

  async #finish(): Promise<void> {
    const anchor = readAnchor(this.#deps.db, this.#key)
    const refs = { ...(anchor?.refs ?? {}), ...Object.fromEntries(this.#targets) }
    // A quarantined ref is read again from its last whole commit next time (and reported again, until it changes).
    for (const q of this.report.quarantined) {
      const kept = this.#bank.progress[q.ref]?.commit ?? anchor?.refs[q.ref]
      if (kept) refs[q.ref] = kept
      else delete refs[q.ref]
    }
    await completeRun(this.#deps.db, this.#key, { version: 1, url: this.#url, completedAt: this.#deps.now(), refs })
  }

  async #advanceAnchor(tips: Record<string, string>): Promise<void> {
    const anchor = readAnchor(this.#deps.db, this.#key)
    const refs = { ...(anchor?.refs ?? {}), ...tips }
    await this.#deps.db.put(anchorKey(this.#key), { version: 1, url: this.#url, completedAt: anchor?.completedAt ?? this.#deps.now(), refs })
  }

  /** Its time without the flush's, which #push records apart. */
  push(): Promise<void> { return this.#timed('push', () => this.#push()) }

  async #timed(phase: 'ingest' | 'push', fn: () => Promise<void>): Promise<void> {
    const t0 = this.#deps.now()
    try {
      await fn()
    } finally {
      this.#phases[phase] = this.#deps.now() - t0 - (phase === 'push' ? this.#phases.flush : 0)
    }
  }

  async #push(): Promise<void> {
    const deps = this.#deps
    const git = this.#git
    deps.checkAlive()
    const f0 = deps.now()
    await deps.flushWal()
    this.#phases.flush = deps.now() - f0
    const own = await deps.ownActors()
    const specs: string[] = []
    const refused: string[] = []
    const locals = await git.listRefs(WAL_PREFIX)
    deps.progress({ phase: 'pushing', done: 0, total: locals.size })
    for (const [name, tip] of locals) {
      const ref = name.slice('refs/cairn/'.length)
      const remote = this.#targets.get(ref) ?? null
      if (remote === tip) continue
      const entry = this.#refs.get(ref) ?? { ref, from: remote, to: tip, events: 0, status: 'unchanged' as const }
      this.#refs.set(ref, entry)
      if (remote === null || await git.isAncestor(remote, tip)) {
        // The commit itself, not the ref: the drain may move the ref meanwhile, and the anchor must name what was sent.
        specs.push(`${tip}:${name}`)
        entry.status = 'pushed'
      } else if (await git.isAncestor(tip, remote)) {
        entry.status = 'behind'
      } else if (own.has(ref.slice('wal/'.length))) {
        entry.status = 'rejected'
        refused.push(ref)
      }
    }
    const pushed: Record<string, string> = {}
    let pending = specs
    for (let round = 1; pending.length > 0; round++) {
      const sent = new Map(pending.map((spec) => [spec.slice(spec.indexOf(':') + 1), spec.slice(0, spec.indexOf(':'))]))
      const outcomes = await git.push(this.#remote, pending)
      pending = []
      const raced: string[] = []
      for (const o of outcomes) {
        const ref = o.ref.slice('refs/cairn/'.length)
        const entry = this.#refs.get(ref)
        if (o.ok) {
          this.report.pushed++
          pushed[ref] = sent.get(o.ref)!
        } else if (o.raced && round < PUSH_ROUNDS) {
          raced.push(o.ref)
        } else if (entry) {
          entry.status = 'rejected'
          refused.push(ref)
          if (o.message) this.#rejections.push(`${ref}: ${o.message}`)
        }
      }
      // Someone pushed the ref meanwhile (another runtime on this clone pushes the same refs): compare again.
      if (raced.length > 0) pending = await afterRace(git, this.#remote, raced, this.#refs, refused)
    }
    // What we pushed came from our own store: reading it back next time would only find duplicates.
    if (Object.keys(pushed).length > 0) await this.#advanceAnchor(pushed)
    deps.progress({ phase: 'pushing', done: locals.size, total: locals.size })
    if (refused.length > 0) {
      const why = this.#rejections.length > 0 ? ` (${this.#rejections.join('; ')})` : ''
      throw new CairnError('PUSH_REJECTED', `the remote refused ${refused.join(', ')}: its copy is not an ancestor of ours (rewritten, or the same actor id writes from another clone)${why}`,
        { refs: refused, report: this.finalReport() })
    }
  }

  finalReport(): SyncReport {
    this.report.refs = [...this.#refs.values()].sort((a, b) => (a.ref < b.ref ? -1 : 1))
    this.report.durationMs = Math.max(0, this.#deps.now() - this.#started)
    return this.report
  }
}
