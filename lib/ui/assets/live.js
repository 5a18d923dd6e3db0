// @ts-check
/**
 * The live stream: one EventSource on /api/live for the repository shown.
 * The server sends a full snapshot when a stream starts and changes after;
 * the browser reconnects by itself after a drop and gets a fresh snapshot,
 * so a missed message can never leave the page wrong for long.
 */
import { changed, resetRepo, state, syncClock } from './store.js'

/** @type {EventSource | null} */
let source = null
const MAX_ACTIVITY = 200

/** @param {MessageEvent} e */
const data = (e) => JSON.parse(e.data)

/**
 * Follows `repo` (or only the runtime when null), replacing any earlier stream.
 * @param {string | null} repo
 */
export function follow(repo) {
  source?.close()
  if (repo !== state.repo) resetRepo()
  state.repo = repo
  state.live = 'connecting'
  changed('live')
  const es = new EventSource(repo ? `/api/live?repo=${encodeURIComponent(repo)}` : '/api/live')
  source = es
  const on = (/** @type {string} */ name, /** @type {(d: any) => void} */ fn) => es.addEventListener(name, (e) => {
    if (source !== es) return
    fn(data(/** @type {MessageEvent} */ (e)))
  })
  on('hello', (d) => {
    syncClock(d.now)
    state.session = { allowWrites: d.allowWrites, writer: d.writer }
    state.live = 'live'
    changed('live')
    changed('session')
  })
  // Only these two carry a fresh reading of the server's clock (others may be snapshots kept a while).
  on('clock', (d) => syncClock(d.now))
  on('runtime', (d) => { state.runtime = d; changed('runtime') })
  on('board', (d) => {
    if (d.full) state.cards = new Map()
    for (const c of d.cards) {
      state.cards.set(c.id, c)
      if (!d.full) state.changed.add(c.id)
    }
    for (const id of d.removes) state.cards.delete(id)
    state.counts = d.counts
    state.loaded = true
    changed('board')
  })
  on('activity', (d) => {
    state.activity = d.replay ? d.items : [...state.activity, ...d.items].slice(-MAX_ACTIVITY)
    changed('activity')
  })
  on('leases', (d) => { state.leases = d; changed('leases'); changed('board') })
  on('agents', (d) => { state.agents = new Map(d.map((/** @type {any} */ a) => [a.actor, a.agent])); changed('agents'); changed('board') })
  on('stats', (d) => { state.stats = d; changed('stats') })
  on('sync', (d) => { state.sync = d; changed('sync') })
  on('health', (d) => { state.health = d; changed('health') })
  on('failure', (d) => { state.health = { ok: false, code: d.code, message: d.message }; changed('health') })
  es.onerror = () => {
    if (source !== es) return
    // CLOSED: the server refused the stream (the token changed, the board stopped); EventSource gives up then.
    state.live = es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'
    changed('live')
  }
}
