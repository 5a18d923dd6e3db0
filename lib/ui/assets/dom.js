// @ts-check
/**
 * The page's small toolkit: building DOM nodes (text always goes in as
 * text, never as markup: titles and comments are written by agents), and
 * formatting ids, times and durations the same way in every view.
 */

/**
 * Builds an element: `h('div.card.open', { title: 'x', onclick }, child, 'text')`.
 * Attributes starting with `on` are listeners; `dataset` sets data-*; a
 * child that is null, undefined or false is skipped.
 * @param {string} spec tag with optional .classes
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.')
  const el = document.createElement(tag || 'div')
  if (classes.length) el.className = classes.join(' ')
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else if (k === 'class') el.className += ` ${v}`
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  append(el, children)
  return el
}

/** @param {Node} el @param {any[]} children */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)))
  }
}

/** Replaces an element's children. @param {Element} el @param {...any} children */
export function fill(el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

/** The first 8 hex of an id, as the CLI shows it. @param {string} id */
export const shortId = (id) => id.slice(0, 8)

/** @param {number} ms */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  const hr = Math.floor(m / 60)
  if (hr < 48) return `${hr}h ${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(hr / 24)}d`
}

/** "3m ago" for a past time, relative to `now`. @param {number} ts @param {number} now */
export function ago(ts, now) {
  const d = now - ts
  return d < 1500 ? 'just now' : `${duration(d)} ago`
}

/** Local date and time, to the second. @param {number} ts */
export function clockTime(ts) {
  const d = new Date(ts)
  const today = new Date()
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
  return d.toDateString() === today.toDateString() ? time : `${d.toLocaleDateString()} ${time}`
}

/** Bytes as KiB/MiB. @param {number} n */
export function bytes(n) {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1048576).toFixed(1)} MiB`
}

/** A pill for a label, state or kind. @param {string} text @param {string} [kind] */
export function pill(text, kind = '') {
  return h(`span.pill${kind ? `.${kind}` : ''}`, null, text)
}

/** A random id for a write, so a retried click applies once (opId). */
export function opId() {
  return `ui-${crypto.randomUUID()}`
}
