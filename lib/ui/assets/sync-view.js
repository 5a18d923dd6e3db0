// @ts-check
/**
 * Sync and the git WAL of the repository: the last sync run, failures and
 * backoff with the last error, what runs or waits now; the event log's size
 * and the outbox of events not yet written to `refs/cairn/wal/<actor>`,
 * with the drain's own state (pending, commits, last error, next retry).
 */
import { ago, clockTime, duration, fill, h, pill } from './dom.js'
import { now, state, watch } from './store.js'

/** @param {[string, any][]} rows */
const facts = (rows) => h('dl.facts', null, rows.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', null, k), h('dd', null, v instanceof Node ? v : String(v))]))

/** @param {HTMLElement} root */
export function syncView(root) {
  const sync = h('div')
  const wal = h('div')
  fill(root, h('div.panels', null, h('section.panel', null, h('h2', null, 'Sync'), sync), h('section.panel', null, h('h2', null, 'Event log and git WAL'), wal)))

  const draw = () => {
    const t = now()
    const s = state.sync
    fill(sync, !s ? h('p.muted', null, 'Waiting…') : [
      facts([
        ['State', pill(s.state, s.lastError ? 'closed' : 'open')],
        ['Last run', s.lastRunAt ? `${ago(s.lastRunAt, t)} (${clockTime(s.lastRunAt)})` : 'never'],
        ['Runs', s.runs], ['Failures', s.failures],
        ['Backoff', s.backoffMs ? duration(s.backoffMs) : 'none'],
        ['Running', s.current ? `${s.current.kind} ${s.current.remote}` : 'nothing'],
        ['Queued', s.queued],
      ]),
      s.lastError ? h('p.error', null, `${s.lastError.code}: ${s.lastError.message}`) : null,
      h('p.muted', null, 'Run one with `cairn sync` (pulled/pushed counts are in its report).'),
    ])
    const st = state.stats
    const w = st?.wal
    fill(wal, !st ? h('p.muted', null, 'Waiting…') : [
      facts([
        ['Events', st.events], ['Issues', st.issues], ['Last seq', st.lastSeq],
        ['Outbox (not yet in git)', h('strong', { class: st.outbox > 0 ? 'warn' : '' }, String(st.outbox))],
        ['Drain pending', w?.pending], ['Drained events', w?.drainedEvents], ['WAL commits', w?.commits],
        ['Next retry', w?.retryAt ? `${duration(Math.max(0, w.retryAt - t))}` : undefined],
      ]),
      w?.lastError ? h('p.error', null, `Last WAL error: ${w.lastError}`) : null,
    ])
  }
  const stop = watch(['sync', 'stats'], draw)
  draw()
  return { destroy: stop }
}
