// @ts-check
/**
 * The page: finds the repositories this board shows, follows the chosen one
 * live, and routes by the URL's hash:
 *
 *   #/<repo>/board  #/<repo>/issue/<id>  #/<repo>/graph  #/<repo>/leases  #/<repo>/sync  #/<repo>/runtime
 *
 * The header shows which repository, the views, a filter for the cards,
 * whether this board may write (and as whom) and whether it is live; the
 * strip under it sums the board up.
 */
import { get } from './api.js'
import { boardView } from './board-view.js'
import { ago, fill, h } from './dom.js'
import { graphView } from './graph-view.js'
import { issueView } from './issue-view.js'
import { leasesView } from './leases-view.js'
import { follow } from './live.js'
import { runtimeView } from './runtime-view.js'
import { changed, now, state, watch } from './store.js'
import { syncView } from './sync-view.js'

const VIEWS = /** @type {const} */ ([
  ['board', 'Board', boardView],
  ['graph', 'Graph', graphView],
  ['leases', 'Leases', leasesView],
  ['sync', 'Sync & WAL', syncView],
  ['runtime', 'Runtime', runtimeView],
])

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
const viewRoot = $('view')
const drawer = $('drawer')
const repoSelect = /** @type {HTMLSelectElement} */ ($('repo'))

/** @type {{ key: string, destroy: () => void } | null} */
let mounted = null
/** @type {{ id: string, destroy: () => void } | null} */
let detail = null

function parseHash() {
  const [repo = '', view = 'board', id = ''] = location.hash.replace(/^#\/?/, '').split('/')
  return { repo, view, id }
}

function route() {
  let { repo, view, id } = parseHash()
  if (!state.boards.some((b) => b.id === repo)) {
    const first = state.boards[0]
    if (first) { location.replace(`#/${first.id}/board`); return }
    repo = ''
  }
  if ((repo || null) !== state.repo || state.live === 'closed') follow(repo || null)
  repoSelect.value = repo
  const name = state.boards.find((b) => b.id === repo)?.name
  document.title = name ? `${name} · Cairn board` : 'Cairn board'
  const key = view === 'issue' ? 'board' : VIEWS.some(([k]) => k === view) ? view : 'board'
  if (mounted?.key !== key) {
    mounted?.destroy()
    const make = /** @type {any} */ (VIEWS.find(([k]) => k === key))[2]
    mounted = repo || key === 'runtime' ? { key, destroy: make(viewRoot).destroy } : { key, destroy: () => undefined }
    if (!repo && key !== 'runtime') fill(viewRoot, h('p.empty', null, 'This board shows no repository yet. Run `cairn ui` inside a git repository to add it.'))
  }
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.getAttribute('data-view') === key)
  if (view === 'issue' && id) {
    if (detail?.id !== id) { detail?.destroy(); detail = { id, destroy: issueView(drawer, id).destroy } }
  } else if (detail) { detail.destroy(); detail = null }
}

function drawTabs() {
  const { repo } = parseHash()
  fill($('tabs'), VIEWS.map(([key, label]) => h('a', { href: `#/${repo}/${key}`, dataset: { view: key } }, label)))
}

function drawSummary() {
  const c = state.counts
  const s = state.stats
  const rt = state.runtime
  const failed = rt?.actors?.filter((/** @type {any} */ a) => /fail/.test(a.supervision) || /fail/.test(a.state)).length ?? 0
  const restarting = rt?.actors?.filter((/** @type {any} */ a) => /restart/.test(a.supervision)).length ?? 0
  const syncBad = state.sync?.lastError
  const last = state.activity[state.activity.length - 1]
  const item = (/** @type {string} */ label, /** @type {any} */ value, kind = '') => h(`span.stat${kind ? `.${kind}` : ''}`, null, h('b', null, String(value)), ` ${label}`)
  fill($('summary'), state.repo ? [
    item('ready', c.ready, 'ready'), item('claimed', c.claimed, 'claimed'), item('blocked', c.blocked, 'blocked'), item('closed', c.closed),
    s ? item('in the WAL outbox', s.outbox, s.outbox > 0 ? 'warn' : '') : null,
    item(syncBad ? `sync: ${syncBad.code}` : `sync ${state.sync?.state ?? '…'}`, '', syncBad ? 'bad' : ''),
    item(failed ? 'actors failed' : restarting ? 'actors restarting' : 'actors running', failed || restarting || (rt?.actors?.length ?? '…'), failed ? 'bad' : restarting ? 'warn' : ''),
    !state.health.ok ? h('span.stat.bad', null, `${state.health.code}: ${state.health.message}`) : null,
    last ? h('span.stat.muted', null, `last change ${ago(last.ts, now())}`) : null,
  ] : [])
}

function drawLive() {
  const el = $('live')
  const text = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', closed: 'disconnected' }[state.live]
  el.textContent = text
  el.className = `live-dot ${state.live}`
  const banner = $('banner')
  banner.hidden = state.live !== 'closed'
  if (state.live === 'closed') banner.textContent = 'The board stopped answering (stopped, or its token changed). Open the URL `cairn ui` prints again.'
}

function drawMode() {
  const el = $('mode')
  const s = state.session
  el.textContent = !s ? '' : s.allowWrites ? `writes as ${s.writer}` : 'read-only'
  el.className = `badge ${s?.allowWrites ? 'writes' : 'readonly'}`
}

async function boot() {
  watch(['board', 'stats', 'sync', 'runtime', 'health', 'activity'], drawSummary)
  watch(['live'], drawLive)
  watch(['session'], drawMode)
  setInterval(drawSummary, 5000)
  const filter = /** @type {HTMLInputElement} */ ($('filter'))
  filter.addEventListener('input', () => { state.filter = filter.value.trim().toLowerCase(); changed('filter') })
  // "/" jumps to the filter, as in most boards; Escape in it clears it.
  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement
    if (e.key === '/' && !typing) { e.preventDefault(); filter.focus() }
    if (e.key === 'Escape' && e.target === filter) { filter.value = ''; state.filter = ''; changed('filter'); filter.blur() }
  })
  repoSelect.addEventListener('change', () => { location.hash = `#/${repoSelect.value}/${parseHash().view === 'issue' ? 'board' : parseHash().view}` })
  try {
    state.boards = await get('boards')
  } catch (err) {
    const banner = $('banner')
    banner.hidden = false
    banner.textContent = `Cannot load the board: ${/** @type {Error} */ (err).message}`
    return
  }
  fill(repoSelect, state.boards.map((b) => h('option', { value: b.id, title: b.path }, b.name)))
  window.addEventListener('hashchange', () => { drawTabs(); route() })
  drawTabs()
  route()
}

void boot()
