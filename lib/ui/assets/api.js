// @ts-check
/**
 * The board's JSON routes, as the page calls them. Every answer is
 * `{ ok, data }` or `{ ok: false, error: { code, message } }`; a failure is
 * thrown as an Error carrying the code, so a view can show it as it is.
 */
import { opId } from './dom.js'

export class ApiError extends Error {
  /** @param {string} code @param {string} message @param {number} status */
  constructor(code, message, status) {
    super(message)
    this.code = code
    this.status = status
  }
}

/** @param {Response} res */
async function answer(res) {
  let body
  try {
    body = await res.json()
  } catch {
    throw new ApiError('INTERNAL', `the board answered ${res.status} without JSON`, res.status)
  }
  if (!body.ok) throw new ApiError(body.error?.code ?? 'INTERNAL', body.error?.message ?? `HTTP ${res.status}`, res.status)
  return body.data
}

/** GET a route under /api. @param {string} path */
export async function get(path) {
  return answer(await fetch(`/api/${path}`, { headers: { accept: 'application/json' } }))
}

/**
 * POSTs a write (with a fresh opId, so a retry of the same click applies once).
 * @param {string} path @param {Record<string, unknown>} body
 */
export async function post(path, body) {
  const res = await fetch(`/api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ ...body, opId: opId() }),
  })
  return answer(res)
}

/** The path segment of a repository's routes. @param {string} repo */
export const boardPath = (repo) => `boards/${encodeURIComponent(repo)}`
