// @ts-check
/**
 * The runtime: the process serving the board (pid, uptime, memory,
 * connections), its worker threads and the repositories on each, every
 * actor with its state, mailbox depth against capacity, restarts, requests
 * handled, its last failure with the cause and how long it has been open, and
 * the events of note of late (failures, restarts, dead threads, full
 * mailboxes, lost or broken leases, failed syncs and WAL drains).
 */
import { ago, bytes, clockTime, duration, fill, h, pill } from './dom.js'
import { now, state, watch } from './store.js'

/** @param {string} path */
const repoName = (path) => {
  const parts = path.split('/').filter(Boolean)
  const last = parts[parts.length - 1] ?? path
  return last === '.git' ? parts[parts.length - 2] ?? path : last
}

/** @param {string} s */
const stateKind = (s) => (/fail|gave|dead|died|stopped|lost|broken|unresponsive|full/.test(s) ? 'closed' : /restart|start/.test(s) ? 'warn' : 'open')

/** @param {HTMLElement} root */
export function runtimeView(root) {
  const proc = h('dl.facts')
  const threads = h('div')
  const actors = h('tbody')
  const events = h('ol.events')
  fill(root, h('div.panels', null,
    h('section.panel', null, h('h2', null, 'Process'), proc),
    h('section.panel', null, h('h2', null, 'Threads'), threads),
    h('section.panel.wide', null, h('h2', null, 'Actors'), h('table.grid', null,
      h('thead', null, h('tr', null, ['Actor', 'Repository', 'Thread', 'State', 'Mailbox', 'Handled', 'Restarts', 'Last failure', 'Open since', 'Supervision'].map((t) => h('th', null, t)))), actors)),
    h('section.panel.wide', null, h('h2', null, 'Events of note'), events)))

  const draw = () => {
    const r = state.runtime
    if (!r) { fill(proc, h('p.muted', null, 'Waiting for the runtime…')); return }
    const p = r.process ?? {}
    const facts = [
      ['State', r.state], ['pid', p.pid], ['Up', typeof p.uptimeMs === 'number' ? duration(p.uptimeMs) : null],
      ['Memory (RSS)', typeof p.rssBytes === 'number' ? bytes(p.rssBytes) : null],
      ['Connections', p.connections], ['Requests in flight', p.inflight], ['Requests served', p.requests],
    ].filter(([, v]) => v !== undefined && v !== null)
    fill(proc, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, String(v))]), r.error ? h('p.error', null, `${r.error.code}: ${r.error.message}`) : null)
    fill(threads, r.threads.length === 0 ? h('p.muted', null, 'No repository is open.') : h('ul', null, r.threads.map((/** @type {any} */ t) =>
      h('li', null, h('strong', null, `thread #${t.threadId}`), ': ', t.repos.map(repoName).join(', ')))))
    fill(actors, r.actors.map((/** @type {any} */ a) => {
      const share = a.capacity ? Math.min(1, a.mailbox / a.capacity) : 0
      return h('tr', null,
        h('td', null, a.kind), h('td', { title: a.repo }, repoName(a.repo)), h('td', null, a.thread ?? '–'),
        h('td', null, pill(a.state, stateKind(a.state))),
        h('td', null, `${a.mailbox} / ${a.capacity}`, h('div.bar', null, h(`i.${share > 0.8 ? 'low' : 'ok'}`, { style: { width: `${Math.round(share * 100)}%` } }))),
        h('td', null, typeof a.handled === 'number' ? String(a.handled) : '–'), h('td', null, String(a.restarts)),
        h('td', a.lastFailure ? { title: clockTime(a.lastFailure.at) } : null, a.lastFailure
          ? [ago(a.lastFailure.at, now()), ' ', h('span.muted', null, `${a.lastFailure.cause.code ? `${a.lastFailure.cause.code}: ` : ''}${a.lastFailure.cause.message}`.slice(0, 200))]
          : '–'),
        h('td', typeof a.openSince === 'number' ? { title: clockTime(a.openSince) } : null, typeof a.openSince === 'number' ? ago(a.openSince, now()) : '–'),
        h('td', null, pill(a.supervision, stateKind(a.supervision))))
    }))
    const boardName = (/** @type {string} */ id) => state.boards.find((b) => b.id === id || b.path === id)?.name ?? id
    fill(events, r.events.length === 0 ? h('li.muted', null, 'No failures, restarts, closes, moves or lost leases since the board started.') : r.events.slice().reverse().map((/** @type {any} */ e) =>
      h('li', null, h('time', { title: clockTime(e.at) }, ago(e.at, now())), ' ', pill(e.kind, stateKind(e.kind)), ' ',
        e.actor ?? (e.thread !== undefined ? `thread #${e.thread}` : ''), e.repo ? ` ${boardName(e.repo)}` : '', e.count > 1 ? ` ×${e.count}` : '',
        e.detail ? h('div.muted', null, e.detail) : null)))
  }
  const stop = watch(['runtime'], draw)
  draw()
  return { destroy: stop }
}
