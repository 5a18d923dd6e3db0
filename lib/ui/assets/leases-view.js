// @ts-check
/**
 * Every lease of the repository with its holder and a live countdown: live
 * ones, then lapsed ones still inside their grace, then stale ones. A stale
 * lease can be broken from here on a board that allows writes (the break is
 * recorded with its reason and moves the fencing token on).
 */
import { ApiError, boardPath, post } from './api.js'
import { leaseClock } from './board-view.js'
import { clockTime, fill, h, pill, shortId } from './dom.js'
import { nameOf, now, state, watch } from './store.js'

/** @param {string} resource */
function resourceCell(resource) {
  if (resource.startsWith('issue:')) {
    const id = resource.slice(6)
    const title = state.cards.get(id)?.title
    return h('td', null, h('a.issue-link', { href: `#/${state.repo}/issue/${id}` }, `issue:${shortId(id)}`), title ? ` ${title}` : '')
  }
  return h('td.mono', null, resource)
}

/** @param {HTMLElement} root */
export function leasesView(root) {
  const table = h('tbody')
  const status = h('p.muted')
  fill(root, h('div.panel', null, h('h2', null, 'Leases'), status,
    h('table.grid', null, h('thead', null, h('tr', null, ['Resource', 'Holder', 'Granted', 'Time left', 'Grace', 'Last heartbeat', ''].map((t) => h('th', null, t)))), table)))
  let error = /** @type {string | null} */ (null)

  /** @param {string} resource */
  const breakButton = (resource) => {
    if (!state.session?.allowWrites) return null
    return h('button.danger.small', {
      onclick: async () => {
        const reason = window.prompt(`Break the lease on ${resource}? Say why (recorded):`)
        if (!reason) return
        try {
          await post(`${boardPath(/** @type {string} */ (state.repo))}/leases/break`, { resource, reason })
          error = null
        } catch (err) {
          error = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)
        }
        draw()
      },
    }, 'Break')
  }

  const draw = () => {
    const t = now()
    const rank = (/** @type {any} */ l) => (l.live ? 0 : l.takeoverAt > t ? 1 : 2)
    const leases = state.leases.slice().sort((a, b) => rank(a) - rank(b) || a.expiresAt - b.expiresAt)
    status.textContent = error ?? `${leases.filter((l) => l.live).length} live, ${leases.filter((l) => !l.live).length} lapsed`
    status.className = error ? 'error' : 'muted'
    fill(table, leases.length === 0
      ? h('tr', null, h('td.muted', { colspan: 7 }, 'No leases.'))
      : leases.map((l) => {
        const c = leaseClock(l)
        return h(`tr.${l.live ? 'held' : 'lapsed'}`, null,
          resourceCell(l.resource),
          h('td', { title: `actor ${l.holder.actor}, session ${l.holder.session}` }, nameOf(l.holder.actor)),
          h('td', null, clockTime(l.grantedAt)),
          h('td', null, h('span.countdown', null, c.text), h('div.bar', null, h(`i.${c.level}`, { style: { width: `${Math.round(c.share * 100)}%` } }))),
          h('td', null, `${Math.round((l.graceMs ?? 5000) / 1000)} s`),
          h('td', null, clockTime(l.heartbeatAt)),
          h('td', null, l.live ? pill('live', 'open') : pill(rank(l) === 1 ? 'in grace' : 'stale', 'closed'), !l.live ? breakButton(l.resource) : null))
      }))
  }
  const stops = [watch(['leases', 'agents', 'session'], draw)]
  const tick = setInterval(draw, 1000)
  draw()
  return { destroy: () => { clearInterval(tick); for (const s of stops) s() } }
}
