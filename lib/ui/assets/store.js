// @ts-check
/**
 * The page's state, fed by the live stream (live.js) and read by the views.
 * Views subscribe to named topics; a change notifies them once per frame at
 * most, however many messages arrived, so a busy board costs the browser a
 * bounded amount of drawing.
 *
 * Times: lease expiries are on the server's clock. The offset between it and
 * this browser's clock is taken from the stream's `hello` and `clock`
 * messages, so countdowns are right even when the two clocks differ.
 */
import { shortId } from './dom.js'

export const state = {
  /** @type {{ allowWrites: boolean, writer: string | null } | null} */
  session: null,
  /** @type {{ id: string, name: string, path: string }[]} */
  boards: [],
  /** @type {string | null} */
  repo: null,
  /** @type {Map<string, any>} card id -> card */
  cards: new Map(),
  /** @type {Set<string>} ids of cards changed by the last update (for a short highlight) */
  changed: new Set(),
  /** @type {Record<string, number>} */
  counts: { ready: 0, claimed: 0, blocked: 0, closed: 0, open: 0, total: 0 },
  /** @type {any[]} */
  leases: [],
  /** @type {Map<string, string>} actor id -> agent name */
  agents: new Map(),
  /** @type {any} */
  stats: null,
  /** @type {any} */
  sync: null,
  /** @type {{ ok: boolean, code?: string, message?: string }} */
  health: { ok: true },
  /** @type {any} */
  runtime: null,
  /** @type {any[]} newest last */
  activity: [],
  /** @type {'connecting' | 'live' | 'reconnecting' | 'closed'} */
  live: 'connecting',
  /** Server clock minus this browser's clock, in ms. */
  offset: 0,
  /** Cards were received at least once for the current repository. */
  loaded: false,
  filter: '',
}

/** Now, on the server's clock. */
export const now = () => Date.now() + state.offset

/** The server says its clock reads `serverNow`. @param {unknown} serverNow */
export function syncClock(serverNow) {
  if (typeof serverNow === 'number' && Number.isFinite(serverNow)) state.offset = serverNow - Date.now()
}

/** The agent name of an actor id, or its short hex. @param {string} actor */
export function nameOf(actor) {
  if (/^0{32}$/.test(actor)) return 'board'
  return state.agents.get(actor) ?? shortId(actor)
}

/** Whether `actor` has a known agent name. @param {string} actor */
export const named = (actor) => state.agents.has(actor)

/** @type {Map<string, Set<() => void>>} */
const listeners = new Map()
/** @type {Set<string>} */
const pending = new Set()
let scheduled = false

/**
 * Calls `fn` (once per frame at most) whenever one of `topics` changes.
 * @param {string[]} topics
 * @param {() => void} fn
 * @returns {() => void} unsubscribe
 */
export function watch(topics, fn) {
  for (const t of topics) {
    let set = listeners.get(t)
    if (!set) listeners.set(t, (set = new Set()))
    set.add(fn)
  }
  return () => { for (const t of topics) listeners.get(t)?.delete(fn) }
}

/** Marks `topic` changed. @param {string} topic */
export function changed(topic) {
  pending.add(topic)
  if (scheduled) return
  scheduled = true
  requestAnimationFrame(() => {
    scheduled = false
    const fns = new Set()
    for (const t of pending) for (const fn of listeners.get(t) ?? []) fns.add(fn)
    pending.clear()
    for (const fn of fns) {
      try { fn() } catch (err) { console.error(err) }
    }
    state.changed = new Set()
  })
}

/** Forgets the current repository's data (switching repositories). */
export function resetRepo() {
  state.cards = new Map()
  state.changed = new Set()
  state.counts = { ready: 0, claimed: 0, blocked: 0, closed: 0, open: 0, total: 0 }
  state.leases = []
  state.agents = new Map()
  state.stats = null
  state.sync = null
  state.activity = []
  state.loaded = false
  state.health = { ok: true }
  for (const t of ['board', 'leases', 'agents', 'stats', 'sync', 'activity', 'health']) changed(t)
}
