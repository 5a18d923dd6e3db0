// @ts-check
/**
 * The board: ready / claimed / blocked / closed columns of cards, and the
 * activity of the agents beside them. Cards are kept by id and rebuilt only
 * when their data changed (a changed card flashes once), columns are
 * re-ordered in place, and lease countdowns tick once a second without
 * redrawing anything else.
 */
import { ago, duration, fill, h, pill, shortId } from './dom.js'
import { changed, nameOf, now, state, watch } from './store.js'

const COLUMNS = [
  { key: 'ready', title: 'Ready', hint: 'open, nothing open before them, nobody holds them' },
  { key: 'claimed', title: 'Claimed', hint: 'an agent holds a lease on the issue' },
  { key: 'blocked', title: 'Blocked', hint: 'waiting for open prerequisites' },
  { key: 'closed', title: 'Closed', hint: 'most recently closed first' },
]
/** Cards drawn per column; the count says how many there are. */
const MAX_DRAWN = 150

/** @param {any} c */
const order = {
  /** @param {any} a @param {any} b */
  ready: (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1),
  /** @param {any} a @param {any} b */
  claimed: (a, b) => (a.holder?.expiresAt ?? 0) - (b.holder?.expiresAt ?? 0) || (a.id < b.id ? -1 : 1),
  /** @param {any} a @param {any} b */
  blocked: (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1),
  /** @param {any} a @param {any} b */
  closed: (a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : 1),
}

/** The title of an issue the board knows, for links. @param {string} id */
export function titleOf(id) {
  return state.cards.get(id)?.title ?? null
}

/** A link to an issue (opens its detail). @param {string} id @param {boolean} [withTitle] */
export function issueLink(id, withTitle = true) {
  const title = withTitle ? titleOf(id) : null
  return h('a.issue-link', { href: `#/${state.repo}/issue/${id}`, title: title ?? id }, shortId(id), title ? ` ${title}` : '')
}

/** Time left on a lease, as text and as a share of its TTL. @param {any} holder */
export function leaseClock(holder) {
  const t = now()
  const left = holder.expiresAt - t
  const ttl = Math.max(1, holder.expiresAt - holder.grantedAt)
  if (left > 0) return { text: `${duration(left)} left`, share: Math.min(1, left / ttl), level: left / ttl < 0.2 ? 'low' : 'ok' }
  const takeover = holder.takeoverAt - t
  return takeover > 0
    ? { text: `expired; grace ${duration(takeover)}`, share: 0, level: 'grace' }
    : { text: `expired ${duration(-left)} ago`, share: 0, level: 'lapsed' }
}

/** @param {any} card */
function matches(card) {
  const f = state.filter
  if (!f) return true
  const hay = [card.id, card.title, ...card.labels, ...card.assignees, card.holder ? nameOf(card.holder.actor) : '', nameOf(card.createdBy)]
  return hay.some((s) => s.toLowerCase().includes(f))
}

/** @param {any} c */
function cardElement(c) {
  const t = now()
  const meta = [c.comments ? `${c.comments} comment${c.comments === 1 ? '' : 's'}` : null, ago(c.updatedAt, t)].filter(Boolean).join(' · ')
  const body = [
    h('div.card-top', null, h('span.id', null, shortId(c.id)), h('span.meta', null, meta)),
    h('div.title', null, c.title || '(untitled)'),
  ]
  if (c.labels.length) body.push(h('div.chips', null, c.labels.map((/** @type {string} */ l) => pill(l, 'label'))))
  if (c.holder) {
    const clock = leaseClock(c.holder)
    body.push(h('div.holder', null,
      h('span.who', { title: `actor ${c.holder.actor}, session ${c.holder.session}` }, nameOf(c.holder.actor)),
      h('span.countdown', { dataset: { expires: c.holder.expiresAt } }, clock.text),
      h('div.bar', null, h(`i.${clock.level}`, { style: { width: `${Math.round(clock.share * 100)}%` } }))))
  } else if (c.assignees.length && c.column !== 'closed') {
    body.push(h('div.assignees', null, 'assigned ', c.assignees.join(', ')))
  }
  if (c.blockers.length) {
    body.push(h('div.blockers', null, 'waits for ', c.blockers.slice(0, 2).map((/** @type {string} */ id, /** @type {number} */ i) => [i ? ', ' : '', issueLink(id, false)]),
      c.blockers.length > 2 ? ` +${c.blockers.length - 2}` : ''))
  }
  if (c.blocking.length && c.column !== 'blocked') body.push(h('div.blocking', null, `unblocks ${c.blocking.length}`))
  const el = h(`article.card.${c.column}`, { tabindex: 0, dataset: { id: c.id, column: c.column }, title: c.title }, body)
  el.addEventListener('click', (e) => {
    if (/** @type {Element} */ (e.target).closest('a')) return
    location.hash = `#/${state.repo}/issue/${c.id}`
  })
  el.addEventListener('keydown', (e) => { if (e.key === 'Enter') location.hash = `#/${state.repo}/issue/${c.id}` })
  return el
}

/** @param {HTMLElement} root */
export function boardView(root) {
  /** @type {Map<string, { card: any, el: HTMLElement, names: number }>} */
  const drawn = new Map()
  let namesVersion = 0
  const lists = new Map()
  const counts = new Map()
  const board = h('div.board', null, COLUMNS.map((col) => {
    const list = h('div.cards', { dataset: { column: col.key } })
    const count = h('span.count', null, '0')
    lists.set(col.key, list)
    counts.set(col.key, count)
    return h(`section.column.${col.key}`, { 'aria-label': col.title },
      h('header', { title: col.hint }, h('h2', null, col.title), count), list)
  }))
  const feed = h('ol.activity-list')
  const empty = h('p.empty', null, 'Loading the board…')
  fill(root, h('div.board-layout', null, h('div.board-main', null, empty, board), h('aside.activity', null, h('h2', null, 'Activity'), feed)))

  const draw = () => {
    // Marks the first complete draw (what a page-load measurement waits for).
    board.toggleAttribute('data-loaded', state.loaded)
    empty.hidden = state.loaded && state.cards.size > 0
    if (state.loaded && state.cards.size === 0) { empty.hidden = false; empty.textContent = 'No issues yet. Create one: cairn issue create "Title"' }
    /** @type {Record<string, any[]>} */
    const by = { ready: [], claimed: [], blocked: [], closed: [] }
    for (const c of state.cards.values()) if (matches(c)) by[c.column]?.push(c)
    for (const col of COLUMNS) {
      const cards = by[col.key].sort(order[/** @type {keyof typeof order} */ (col.key)])
      const total = state.filter ? cards.length : state.counts[col.key] ?? cards.length
      counts.get(col.key).textContent = String(total)
      const els = cards.slice(0, MAX_DRAWN).map((c) => {
        let d = drawn.get(c.id)
        if (!d || d.card !== c || d.names !== namesVersion) {
          const el = cardElement(c)
          // Flash what people notice (moved, edited, commented, taken by someone else), not a renewed lease.
          const noticed = d && (d.card.column !== c.column || d.card.updatedAt !== c.updatedAt || d.card.holder?.actor !== c.holder?.actor)
          if (noticed && state.changed.has(c.id)) el.classList.add('flash')
          d = { card: c, el, names: namesVersion }
          drawn.set(c.id, d)
        }
        return d.el
      })
      if (total > MAX_DRAWN) els.push(h('p.more', null, `${total - MAX_DRAWN} more: filter to find them`))
      lists.get(col.key).replaceChildren(...els)
    }
    for (const id of drawn.keys()) if (!state.cards.has(id)) drawn.delete(id)
  }

  const drawActivity = () => {
    const items = state.activity.slice(-60).reverse()
    fill(feed, items.map((a) => h('li', null,
      h('span.when', { title: new Date(a.ts).toLocaleString() }, ago(a.ts, now())),
      h('div', null, h('span.who', null, nameOf(a.actor)), ' · ', issueLink(a.issueId)),
      h('div.what', null, a.text, a.target ? [' ', issueLink(a.target)] : null))))
    if (items.length === 0) feed.append(h('li.empty', null, 'Nothing yet.'))
  }

  const tick = setInterval(() => {
    for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('.card .holder'))) {
      const card = state.cards.get(el.closest('.card')?.getAttribute('data-id') ?? '')
      if (!card?.holder) continue
      const c = leaseClock(card.holder)
      const cd = el.querySelector('.countdown')
      const bar = el.querySelector('.bar i')
      if (cd) cd.textContent = c.text
      if (bar instanceof HTMLElement) { bar.style.width = `${Math.round(c.share * 100)}%`; bar.className = c.level }
    }
  }, 1000)

  const stops = [
    watch(['board', 'filter'], draw),
    watch(['agents'], () => { namesVersion++; draw(); drawActivity() }),
    watch(['activity'], drawActivity),
  ]
  draw()
  drawActivity()
  changed('board')
  return { destroy: () => { clearInterval(tick); for (const s of stops) s() } }
}
