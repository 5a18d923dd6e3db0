// @ts-check
/**
 * The dependency graph of the open issues, drawn as layers: an issue sits
 * one column right of its deepest open prerequisite, so reading left to
 * right is the order work can happen in. Hovering an issue lights up the
 * chain of everything it waits for; the longest chain and any cycles merged
 * from replicas are listed under the drawing. Redrawn (at most every 2 s)
 * while the board changes.
 */
import { boardPath, get } from './api.js'
import { fill, h, shortId } from './dom.js'
import { nameOf, state, watch } from './store.js'

const NS = 'http://www.w3.org/2000/svg'
const W = 210
const H = 40
const GAP_X = 70
const GAP_Y = 12

/** @param {string} tag @param {Record<string, any>} attrs @param {...(Node | string)} children */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  for (const c of children) el.append(c)
  return el
}

/** @param {string} text @param {number} max */
const cut = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** @param {any} g */
function layout(g) {
  /** @type {Map<number, any[]>} */
  const levels = new Map()
  for (const n of g.nodes) {
    const l = levels.get(n.level) ?? []
    l.push(n)
    levels.set(n.level, l)
  }
  /** @type {Map<string, string[]>} */
  const prev = new Map()
  /** @type {Map<string, number>} */
  const fanOut = new Map()
  for (const [b, a] of g.edges) {
    prev.set(a, [...(prev.get(a) ?? []), b])
    fanOut.set(b, (fanOut.get(b) ?? 0) + 1)
  }
  /** @type {Map<string, { x: number, y: number, row: number }>} */
  const pos = new Map()
  const keys = [...levels.keys()].sort((a, b) => a - b)
  for (const level of keys) {
    const nodes = /** @type {any[]} */ (levels.get(level))
    // Barycenter: place each issue near the rows of what it waits for, to cross fewer edges.
    const bary = (/** @type {any} */ n) => {
      const rows = (prev.get(n.id) ?? []).map((p) => pos.get(p)?.row).filter((r) => r !== undefined)
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER
    }
    // The first layer: what others wait for goes on top, so edges stay short; then the rest in order.
    if (level === 0) nodes.sort((a, b) => (fanOut.get(b.id) ?? 0) - (fanOut.get(a.id) ?? 0))
    else nodes.sort((a, b) => bary(a) - bary(b))
    nodes.forEach((n, row) => pos.set(n.id, { x: 16 + level * (W + GAP_X), y: 16 + row * (H + GAP_Y), row }))
  }
  const width = 32 + (keys.length ? keys[keys.length - 1] + 1 : 1) * (W + GAP_X)
  const height = 32 + Math.max(1, ...[...levels.values()].map((l) => l.length)) * (H + GAP_Y)
  return { pos, prev, width, height }
}

/** @param {HTMLElement} root */
export function graphView(root) {
  const holder = h('div.graph-scroll')
  const notes = h('div.graph-notes')
  const legend = h('p.legend', null, h('span.key.ready', null, 'ready'), h('span.key.claimed', null, 'claimed'), h('span.key.blocked', null, 'blocked'), h('span.key.ghost', null, 'not in this replica'), ' Hover an issue to see what it waits for; click to open it.')
  fill(root, h('div.graph', null, legend, holder, notes))
  let gone = false
  let timer = /** @type {number | undefined} */ (undefined)
  let last = 0

  const draw = (/** @type {any} */ g) => {
    if (g.nodes.length === 0) { fill(holder, h('p.empty', null, 'No open issues.')); fill(notes); return }
    const { pos, prev, width, height } = layout(g)
    const chain = new Set(g.longestChain)
    const edges = g.edges.map((/** @type {[string, string]} */ [b, a]) => {
      const p = pos.get(b); const q = pos.get(a)
      if (!p || !q) return null
      const x1 = p.x + W; const y1 = p.y + H / 2; const x2 = q.x; const y2 = q.y + H / 2
      const mid = (x1 + x2) / 2
      return s('path', { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: `edge${chain.has(a) && chain.has(b) ? ' chain' : ''}`, 'data-from': b, 'data-to': a })
    }).filter(Boolean)
    const nodes = g.nodes.map((/** @type {any} */ n) => {
      const p = /** @type {{ x: number, y: number }} */ (pos.get(n.id))
      const kind = !n.known ? 'ghost' : n.holder ? 'claimed' : n.ready ? 'ready' : 'blocked'
      const sub = n.holder ? `held by ${nameOf(n.holder.actor)}` : shortId(n.id)
      const node = s('g', { class: `node ${kind}${chain.has(n.id) ? ' chain' : ''}`, transform: `translate(${p.x},${p.y})`, 'data-id': n.id, tabindex: 0 },
        s('title', {}, `${n.id}\n${n.title}`),
        s('rect', { width: W, height: H, rx: 6 }),
        s('text', { x: 8, y: 16, class: 'node-title' }, cut(n.title, 30)),
        s('text', { x: 8, y: 32, class: 'node-sub' }, sub))
      node.addEventListener('click', () => { if (n.known) location.hash = `#/${state.repo}/issue/${n.id}` })
      node.addEventListener('mouseenter', () => light(n.id, true))
      node.addEventListener('mouseleave', () => light(n.id, false))
      return node
    })
    const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Dependency graph' }, s('g', {}, ...edges), s('g', {}, ...nodes))
    const light = (/** @type {string} */ id, /** @type {boolean} */ on) => {
      const up = new Set([id])
      const stack = [id]
      while (stack.length) for (const p of prev.get(/** @type {string} */ (stack.pop())) ?? []) if (!up.has(p)) { up.add(p); stack.push(p) }
      svg.classList.toggle('lit', on)
      for (const el of svg.querySelectorAll('.node')) el.classList.toggle('up', on && up.has(el.getAttribute('data-id') ?? ''))
      for (const el of svg.querySelectorAll('.edge')) el.classList.toggle('up', on && up.has(el.getAttribute('data-to') ?? '') && up.has(el.getAttribute('data-from') ?? ''))
    }
    fill(holder, svg)
    fill(notes,
      h('p', null, `${g.nodes.length} open issues in ${new Set(g.nodes.map((/** @type {any} */ n) => n.level)).size} layers`, g.truncated ? ' (the first 2000 drawn)' : ''),
      g.longestChain.length > 1 ? h('p', null, h('strong', null, 'Longest chain: '), g.longestChain.slice().reverse().map((/** @type {string} */ id, /** @type {number} */ i) => [i ? ' → ' : '', h('a.issue-link', { href: `#/${state.repo}/issue/${id}` }, shortId(id))])) : null,
      g.cycles.length ? h('div.error', null, h('strong', null, 'Cycles (merged from replicas; their issues are never ready): '),
        g.cycles.map((/** @type {string[]} */ c) => h('div', null, c.map(shortId).join(' → ')))) : null)
  }

  const load = async () => {
    if (!state.repo) return
    last = Date.now()
    try {
      const g = await get(`${boardPath(state.repo)}/graph`)
      if (!gone) draw(g)
    } catch (err) {
      if (!gone) fill(holder, h('p.error', null, String(/** @type {Error} */ (err).message)))
    }
  }
  const stop = watch(['board'], () => {
    if (timer !== undefined) return
    timer = setTimeout(() => { timer = undefined; void load() }, Math.max(0, 2000 - (Date.now() - last)))
  })
  void load()
  return { destroy: () => { gone = true; clearTimeout(timer); stop() } }
}
