/**
 * The runtime as the board shows it: threads, actors with mailbox depth and
 * restarts, the process serving them, and the events of note of late
 * (actor failures and restarts, dead or unresponsive threads, full
 * mailboxes, lost and broken leases, failed sync runs and WAL drains), heard
 * on Cairn's diagnostics channels while the board serves.
 *
 * Polled every `everyMs` (1 s) while a page watches, sent only when changed;
 * one poll at a time, so a slow status (a thread that does not answer its
 * ping) delays the next poll instead of piling them up. With the runtime's
 * supervision API, each actor also shows what `runtime.actors()` says
 * (requests handled, last failure with its cause, open since), and the
 * events include what `runtime.watch()` reports beyond the diagnostics
 * channels: repositories closed (by request or idle), moved, given up on.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { CHANNELS } from '../kernel/diagnostics.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import { CairnError } from '../../protocol/errors.ts'
import type { RuntimeStatus } from '../api/create-runtime.ts'
import type { SupervisionApi } from '../api/supervision.ts'
import type { ActorInfo, WatchItem } from '../../protocol/supervision.ts'

export interface SupervisionEvent { at: number; kind: string; actor?: string; thread?: number; repo?: string; detail?: string; count: number }

export interface RuntimeView {
  now: number
  state: string
  threads: RuntimeStatus['threads']
  actors: (RuntimeStatus['actors'][number] & Partial<Pick<ActorInfo, 'handled' | 'lastFailure' | 'openSince'>>)[]
  process: Record<string, unknown>
  events: SupervisionEvent[]
  error?: { code: string; message: string }
}

export type RuntimeListener = (view: RuntimeView) => void

const KEPT_EVENTS = 50
const WATCHED = [
  CHANNELS.actorFailed, CHANNELS.actorRestarted, CHANNELS.threadDied, CHANNELS.threadUnresponsive, CHANNELS.mailboxFull,
  CHANNELS.leaseLost, CHANNELS.leaseBroken, CHANNELS.syncFailed, CHANNELS.walFailed,
] as const
const DETAIL_CHARS = 300
/** Supervision events the diagnostics channels do not carry. */
const WATCHED_TYPES = new Set(['closed', 'moved', 'gave-up'])

/** The part of the runtime's supervision API the board reads. */
export type SupervisionSource = Pick<SupervisionApi, 'actors' | 'watch'>

export class RuntimeFeed {
  readonly #status: () => Promise<RuntimeStatus>
  readonly #process: () => Promise<Record<string, unknown>>
  readonly #clock: Clock
  readonly #everyMs: number
  readonly #listeners = new Set<RuntimeListener>()
  readonly #events: SupervisionEvent[] = []
  readonly #handlers = new Map<string, (m: unknown) => void>()
  #cancel: (() => void) | null = null
  #last: RuntimeView | null = null
  #lastJson = ''
  #gen = 0
  readonly #supervision: SupervisionSource | null
  readonly #stopWatch = new AbortController()

  constructor(status: () => Promise<RuntimeStatus>, processInfo: () => Promise<Record<string, unknown>>, clock: Clock, everyMs = 1000, supervision: SupervisionSource | null = null) {
    this.#status = status
    this.#process = processInfo
    this.#clock = clock
    this.#everyMs = everyMs
    this.#supervision = supervision
    if (supervision !== null) void this.#follow(supervision)
    for (const name of WATCHED) {
      const handler = (m: unknown): void => this.#heard(name, m as Record<string, unknown>)
      this.#handlers.set(name, handler)
      diagnosticsChannel.subscribe(name, handler)
    }
  }

  /** The current view (polled now if nobody watches). */
  async view(): Promise<RuntimeView> {
    return this.#last !== null && this.#listeners.size > 0 ? this.#last : this.#poll()
  }

  async join(listener: RuntimeListener): Promise<{ initial: RuntimeView; leave: () => void }> {
    this.#listeners.add(listener)
    const leave = (): void => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0) { this.#gen++; this.#cancel?.(); this.#cancel = null }
    }
    const initial = this.#last !== null && this.#cancel !== null ? this.#last : await this.#poll()
    if (this.#cancel === null && this.#listeners.has(listener)) this.#arm(++this.#gen)
    return { initial, leave }
  }

  /** Stops listening on the diagnostics channels. */
  close(): void {
    this.#stopWatch.abort()
    this.#gen++
    this.#cancel?.()
    this.#cancel = null
    this.#listeners.clear()
    for (const [name, handler] of this.#handlers) diagnosticsChannel.unsubscribe(name, handler)
    this.#handlers.clear()
  }

  #arm(gen: number): void {
    if (gen !== this.#gen || this.#listeners.size === 0) return
    this.#cancel = this.#clock.at(this.#clock.now() + this.#everyMs, () => {
      void this.#poll().then((view) => {
        if (gen !== this.#gen) return
        const json = JSON.stringify({ ...view, now: 0 })
        if (json !== this.#lastJson) {
          this.#lastJson = json
          for (const l of [...this.#listeners]) { try { l(view) } catch { /* the stream's own bound handles it */ } }
        }
        this.#arm(gen)
      })
    })
  }

  async #poll(): Promise<RuntimeView> {
    let view: RuntimeView
    try {
      const [s, p, infos] = await Promise.all([this.#status(), this.#process(), this.#actors()])
      const actors = s.actors.map((a) => {
        const info = infos.find((i) => i.repo === a.repo && i.kind === a.kind)
        return info === undefined ? a : { ...a, handled: info.handled, lastFailure: info.lastFailure, openSince: info.openSince }
      })
      view = { now: this.#clock.now(), state: s.state, threads: s.threads, actors, process: p, events: [...this.#events] }
    } catch (err) {
      const e = CairnError.from(err)
      view = { now: this.#clock.now(), state: 'unknown', threads: [], actors: [], process: {}, events: [...this.#events], error: { code: e.code, message: e.message } }
    }
    this.#last = view
    return view
  }

  /** What `runtime.actors()` says; none when the runtime has no supervision API or it failed (the status still shows). */
  async #actors(): Promise<ActorInfo[]> {
    if (this.#supervision === null) return []
    try {
      return await this.#supervision.actors()
    } catch {
      return []
    }
  }

  /** Follows `runtime.watch()` until closed, keeping the events the channels do not carry. */
  async #follow(supervision: SupervisionSource): Promise<void> {
    try {
      for await (const e of supervision.watch({ signal: this.#stopWatch.signal })) this.#watched(e)
    } catch {
      // A runtime that stops ends the watch; the board shows what it heard.
    }
  }

  #watched(e: WatchItem): void {
    if (e.type === 'missed') { this.#heard('cairn:supervision:missed', { reason: `${e.count} supervision events missed` }); return }
    if (!WATCHED_TYPES.has(e.type)) return
    const why = e.type === 'moved' ? `thread #${e.from ?? '?'} → #${e.to ?? '?'}` : e.type === 'closed' ? e.reason : e.error?.message
    this.#heard(`cairn:repo:${e.type}`, { repo: e.repo, ...(why !== undefined ? { reason: why } : {}) })
  }

  /** Keeps the latest supervision events; repeats of the newest one (a mailbox full again and again) only count up. */
  #heard(name: string, m: Record<string, unknown>): void {
    const kind = name.replace(/^cairn:/, '')
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined)
    const actor = str(m.actor)
    const thread = typeof m.thread === 'number' ? m.thread : undefined
    const repo = str(m.repo)
    const raw = m.reason ?? m.error
    const why = raw === undefined ? (str(m.code) ? `${m.code as string}: ${str(m.message) ?? ''}` : undefined) : typeof raw === 'string' ? raw : JSON.stringify(raw)
    const parts = [str(m.resource), str(m.remote), why, str(m.by) ? `by ${m.by as string}` : undefined].filter((x) => x !== undefined)
    const detail = parts.length === 0 ? undefined : parts.join(' · ').slice(0, DETAIL_CHARS)
    const top = this.#events[this.#events.length - 1]
    if (top && top.kind === kind && top.actor === actor && top.thread === thread && top.repo === repo && top.detail === detail) {
      top.count++
      top.at = this.#clock.now()
      return
    }
    this.#events.push({ at: this.#clock.now(), kind, ...(actor ? { actor } : {}), ...(thread !== undefined ? { thread } : {}), ...(repo ? { repo } : {}), ...(detail ? { detail } : {}), count: 1 })
    if (this.#events.length > KEPT_EVENTS) this.#events.shift()
  }
}
