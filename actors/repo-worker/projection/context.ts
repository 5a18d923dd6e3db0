/**
 * The repository context view: what agents know about files (ContextUpdated,
 * keyed by path) and about the project (ProjectContextUpdated, keyed by key).
 * These events carry derived issue ids and are not issue fields.
 *
 * Each key is a last-writer-wins register on `(tsUnixMs, actor, eventId)`.
 * Such a register commutes: keeping the larger of two entries gives the same
 * result in any order. So, unlike the issue fold, {@link applyContextEvent}
 * accepts events in any order and never needs a re-projection, and
 * duplicates are no-ops because an entry never beats itself.
 */
import type { CairnEvent, SymbolInfo } from '../../../protocol/events/types.ts'
import { invalidArgument } from '../../../protocol/errors.ts'
import type { EntryOrigin } from './issue.ts'
import { compareEvents } from './order.ts'

export interface FileContext extends EntryOrigin {
  path: string
  language: string
  symbols: SymbolInfo[]
  summary: string
  contentHash: string
}

export interface ProjectContextEntry extends EntryOrigin {
  key: string
  value: string
}

/**
 * Maps rather than records: paths and keys are arbitrary strings (a key named
 * `__proto__` must not touch a prototype). Use {@link listFileContexts} and
 * {@link listProjectContext} for a canonical, sorted form.
 */
export interface ContextView {
  files: ReadonlyMap<string, FileContext>
  project: ReadonlyMap<string, ProjectContextEntry>
}

/**
 * A view with no context yet.
 * @example let view = emptyContext()
 */
export function emptyContext(): ContextView {
  return { files: new Map(), project: new Map() }
}

/**
 * True for the two context kinds.
 * @example if (isContextEvent(e)) view = applyContextEvent(view, e)
 */
export function isContextEvent(e: CairnEvent): boolean {
  return e.kind.type === 'ContextUpdated' || e.kind.type === 'ProjectContextUpdated'
}

/**
 * Builds the view from events in any order; issue events are skipped, so the
 * whole repository's event set can be passed.
 * @example const view = projectContext(allEvents)
 */
export function projectContext(events: readonly CairnEvent[]): ContextView {
  return applyContextEvents(emptyContext(), events)
}

/**
 * Applies a batch of events in any order, copying each map at most once.
 * Issue events are skipped. The input view is not modified.
 * @example view = applyContextEvents(view, fetchedEvents)
 */
export function applyContextEvents(view: ContextView, events: readonly CairnEvent[]): ContextView {
  let files: Map<string, FileContext> | null = null
  let project: Map<string, ProjectContextEntry> | null = null
  for (const e of events) {
    const k = e.kind
    if (k.type === 'ContextUpdated') {
      checkTs(e)
      const current = (files ?? view.files).get(k.path)
      if (current !== undefined && compareEvents(e, current) <= 0) continue
      files ??= new Map(view.files)
      files.set(k.path, {
        eventId: e.eventId,
        actor: e.actor,
        tsUnixMs: e.tsUnixMs,
        path: k.path,
        language: k.language,
        symbols: k.symbols.map((s) => ({ ...s })),
        summary: k.summary,
        contentHash: k.contentHash,
      })
    } else if (k.type === 'ProjectContextUpdated') {
      checkTs(e)
      const current = (project ?? view.project).get(k.key)
      if (current !== undefined && compareEvents(e, current) <= 0) continue
      project ??= new Map(view.project)
      project.set(k.key, { eventId: e.eventId, actor: e.actor, tsUnixMs: e.tsUnixMs, key: k.key, value: k.value })
    }
  }
  if (files === null && project === null) return view
  return { files: files ?? view.files, project: project ?? view.project }
}

/**
 * Applies one event; valid in any order (see the header). Returns the same
 * view object when the event changes nothing, so callers can skip a write.
 * @example const next = applyContextEvent(view, e); if (next !== view) persist(next)
 */
export function applyContextEvent(view: ContextView, event: CairnEvent): ContextView {
  return applyContextEvents(view, [event])
}

/**
 * File contexts sorted by path (code-unit order, locale-independent).
 * @example listFileContexts(view).map((f) => f.path)
 */
export function listFileContexts(view: ContextView): FileContext[] {
  return [...view.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/**
 * Project context entries sorted by key (code-unit order, locale-independent).
 * @example Object.fromEntries(listProjectContext(view).map((e) => [e.key, e.value]))
 */
export function listProjectContext(view: ContextView): ProjectContextEntry[] {
  return [...view.project.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

function checkTs(e: CairnEvent): void {
  if (!Number.isSafeInteger(e.tsUnixMs) || e.tsUnixMs < 0) {
    throw invalidArgument('event.tsUnixMs', 'must be a non-negative safe integer')
  }
}
