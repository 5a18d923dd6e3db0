// @ts-check
/**
 * An issue's detail, in a drawer over the current view: body, labels,
 * assignees, its lease with a countdown, what it waits for and what waits
 * for it, comments, and its history with agent names and times. It is
 * fetched again when the live stream says the issue changed. On a board
 * that allows writes: comment, close, and break its lease once it lapsed.
 */
import { ApiError, boardPath, get, post } from './api.js'
import { leaseClock } from './board-view.js'
import { clockTime, fill, h, pill, shortId } from './dom.js'
import { nameOf, state, watch } from './store.js'

/** Only web links are clickable: a `javascript:` URL an agent wrote stays text. @param {string} url */
function safeLink(url) {
  return /^https?:\/\//i.test(url) ? h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, url) : h('span', null, url)
}

/** @param {any} ref */
const refItem = (ref) => h('li', null,
  h('a.issue-link', { href: `#/${state.repo}/issue/${ref.id}` }, shortId(ref.id)), ' ',
  ref.title ?? '(not in this replica yet)', ' ', pill(ref.state, ref.state))

/** @param {string} title @param {any[]} refs */
const refList = (title, refs) => refs.length === 0 ? null : h('section', null, h('h3', null, title), h('ul.refs', null, refs.map(refItem)))

/**
 * @param {HTMLElement} drawer
 * @param {string} id issue id (or prefix)
 */
export function issueView(drawer, id) {
  let detail = /** @type {any} */ (null)
  let error = /** @type {string | null} */ (null)
  let busy = false
  let gone = false
  const repo = state.repo
  drawer.hidden = false
  const close = () => { location.hash = `#/${state.repo}/board` }

  const load = async () => {
    try {
      detail = await get(`${boardPath(/** @type {string} */ (repo))}/issues/${encodeURIComponent(id)}`)
      error = null
    } catch (err) {
      error = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)
    }
    if (!gone) draw()
  }

  /** @param {() => Promise<unknown>} act */
  const write = async (act) => {
    if (busy) return
    busy = true
    draw()
    try {
      await act()
      error = null
    } catch (err) {
      error = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)
    }
    busy = false
    await load()
  }

  // Built once and kept across redraws, so a comment being typed survives live updates.
  const text = /** @type {HTMLTextAreaElement} */ (h('textarea', { rows: 3, maxlength: 60000 }))
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit' }, 'Comment'))
  const closeButton = /** @type {HTMLButtonElement} */ (h('button.danger', {
    type: 'button',
    onclick: () => void write(() => post(`${boardPath(/** @type {string} */ (repo))}/issues/${detail.issue.id}/close`, {})),
  }, 'Close issue'))
  const form = h('form.write', {
    onsubmit: (/** @type {Event} */ e) => {
      e.preventDefault()
      const body = text.value
      if (body.trim()) void write(async () => { await post(`${boardPath(/** @type {string} */ (repo))}/issues/${detail.issue.id}/comment`, { body }); text.value = '' })
    },
  }, text, h('div.actions', null, submit, closeButton))

  const writes = () => {
    if (!state.session?.allowWrites || !detail) return null
    text.placeholder = `Comment as ${state.session.writer}`
    submit.disabled = busy
    closeButton.disabled = busy
    closeButton.hidden = detail.issue.state !== 'open'
    return form
  }

  const leaseBlock = () => {
    const l = detail.lease
    if (!l) return null
    const c = leaseClock(l)
    const stale = !l.live
    return h('section.lease', null, h('h3', null, 'Lease'),
      h('p', null, h('strong', null, nameOf(l.holder.actor)), ` holds issue:${shortId(detail.issue.id)} since ${clockTime(l.grantedAt)}; `,
        h('span.countdown', null, c.text), '; last heartbeat ', clockTime(l.heartbeatAt)),
      h('div.bar', null, h(`i.${c.level}`, { style: { width: `${Math.round(c.share * 100)}%` } })),
      state.session?.allowWrites && stale ? breakForm(l.resource) : null)
  }

  /** @param {string} resource */
  const breakForm = (resource) => {
    const reason = /** @type {HTMLInputElement} */ (h('input', { placeholder: 'why (recorded)', maxlength: 1000, required: true }))
    return h('form.write.inline', {
      onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); void write(() => post(`${boardPath(/** @type {string} */ (repo))}/leases/break`, { resource, reason: reason.value })) },
    }, reason, h('button.danger', { type: 'submit', disabled: busy }, 'Break stale lease'))
  }

  const draw = () => {
    if (!detail) {
      fill(drawer, h('div.drawer-head', null, h('button.close', { onclick: close, 'aria-label': 'Close' }, '×')), h('p', null, error ?? 'Loading…'))
      return
    }
    const i = detail.issue
    fill(drawer,
      h('div.drawer-head', null, h('span.id', { title: i.id }, shortId(i.id)), pill(i.state, i.state), h('button.close', { onclick: close, 'aria-label': 'Close' }, '×')),
      h('h2', null, i.title || '(untitled)'),
      h('p.byline', null, 'opened by ', h('strong', null, i.createdBy ? nameOf(i.createdBy) : '?'), i.createdAt ? ` at ${clockTime(i.createdAt)}` : '', ` · ${i.eventCount} events`),
      error ? h('p.error', null, error) : null,
      i.labels.length || i.assignees.length ? h('div.chips', null, i.labels.map((/** @type {string} */ l) => pill(l, 'label')), i.assignees.map((/** @type {string} */ a) => pill(`@${a}`, 'assignee'))) : null,
      leaseBlock(),
      i.body ? h('pre.body', null, i.body) : h('p.muted', null, 'No description.'),
      refList('Waits for', detail.blockers),
      refList('Waited for by', detail.dependents),
      refList('Related', detail.related),
      i.links.length ? h('section', null, h('h3', null, 'Links'), h('ul', null, i.links.map((/** @type {any} */ l) => h('li', null, safeLink(l.url), l.note ? ` — ${l.note}` : '')))) : null,
      i.attachments.length ? h('section', null, h('h3', null, 'Attachments'), h('ul', null, i.attachments.map((/** @type {any} */ a) => h('li', null, `${a.name} (${a.mime}, sha256 ${a.sha256.slice(0, 12)}…)`)))) : null,
      h('section', null, h('h3', null, `Comments (${detail.commentCount})`),
        detail.commentCount > i.comments.length ? h('p.muted', null, `showing the newest ${i.comments.length}`) : null,
        i.comments.length === 0 ? h('p.muted', null, 'None yet.') : h('ol.comments', null, i.comments.map((/** @type {any} */ c) => h('li', null,
          h('div.comment-head', null, h('strong', null, nameOf(c.actor)), ' ', h('time', null, clockTime(c.tsUnixMs))),
          h('pre.body', null, c.body))))),
      writes(),
      h('section', null, h('h3', null, `History (${detail.historyCount})`),
        h('ol.history', null, detail.history.slice().reverse().map((/** @type {any} */ e) => h('li', null,
          h('time', null, clockTime(e.ts)), ' ', h('strong', null, nameOf(e.actor)), ' ', e.text,
          e.target ? [' ', h('a.issue-link', { href: `#/${state.repo}/issue/${e.target}` }, shortId(e.target))] : null)))),
    )
  }

  let again = /** @type {number | undefined} */ (undefined)
  const soon = () => { clearTimeout(again); again = setTimeout(load, 250) }
  let seenSeq = state.activity.length ? state.activity[state.activity.length - 1].seq : 0
  let leaseJson = ''
  const stops = [
    watch(['activity'], () => {
      const fresh = state.activity.filter((a) => a.seq > seenSeq)
      if (fresh.length) seenSeq = fresh[fresh.length - 1].seq
      if (detail && fresh.some((a) => a.issueId === detail.issue.id)) soon()
    }),
    watch(['leases'], () => {
      if (!detail) return
      const json = JSON.stringify(state.leases.find((l) => l.resource === `issue:${detail.issue.id}`) ?? null)
      if (json !== leaseJson) { leaseJson = json; soon() }
    }),
    watch(['agents'], () => { if (detail) draw() }),
  ]
  const tick = setInterval(() => {
    const l = detail?.lease
    if (!l) return
    const c = leaseClock(l)
    const cd = drawer.querySelector('.lease .countdown')
    const bar = drawer.querySelector('.lease .bar i')
    if (cd) cd.textContent = c.text
    if (bar instanceof HTMLElement) { bar.style.width = `${Math.round(c.share * 100)}%`; bar.className = c.level }
  }, 1000)
  const onKey = (/** @type {KeyboardEvent} */ e) => { if (e.key === 'Escape') close() }
  document.addEventListener('keydown', onKey)
  draw()
  void load()
  return {
    destroy: () => {
      gone = true
      clearTimeout(again)
      clearInterval(tick)
      for (const s of stops) s()
      document.removeEventListener('keydown', onKey)
      drawer.hidden = true
      drawer.replaceChildren()
    },
  }
}
