/**
 * The board's route parameters, checked before anything reaches the runtime:
 * each route names the query parameters it takes, and anything else (an
 * unknown or repeated parameter, a value too long or of the wrong form) is a
 * 400 that names it. Path parameters are checked by shape here; whether the
 * repository or issue exists is the registry's and the library's answer (404).
 */
import type { Context } from 'hono'
import { badRequest } from './errors.ts'

export const MAX_QUERY_VALUE = 200
const REPO_ID = /^[0-9a-f]{16}$/
const ISSUE_REF = /^[0-9a-fA-F]{4,32}$/

/** The repository id of the path, by shape. */
export function repoParam(c: Context): string {
  const id = c.req.param('repo') ?? ''
  if (!REPO_ID.test(id)) throw badRequest('repo', 'must be a repository id (16 hex characters, as /api/boards lists them)')
  return id
}

/** An issue id or unique prefix of at least 4 hex characters, lowercased. */
export function issueParam(c: Context, name = 'id'): string {
  const id = c.req.param(name) ?? ''
  if (!ISSUE_REF.test(id)) throw badRequest(name, 'must be an issue id or a prefix of 4 to 32 hex characters')
  return id.toLowerCase()
}

/**
 * The route's query parameters, each at most once and only those `allowed`
 * names; values are strings of at most MAX_QUERY_VALUE characters.
 */
export function queryParams(c: Context, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  const url = new URL(c.req.url)
  for (const [k, v] of url.searchParams) {
    // `token` authenticates (guard.ts) and is never a route's parameter.
    if (k === 'token') continue
    if (!allowed.includes(k)) throw badRequest(`query parameter ${JSON.stringify(k.slice(0, 40))}`, `is not known here${allowed.length ? ` (known: ${allowed.join(', ')})` : ''}`)
    if (out.has(k)) throw badRequest(k, 'is given twice')
    if (v.length > MAX_QUERY_VALUE) throw badRequest(k, `is longer than ${MAX_QUERY_VALUE} characters`)
    out.set(k, v)
  }
  return out
}

/** An optional integer query value in [min, max]. */
export function intQuery(q: Map<string, string>, name: string, min: number, max: number): number | undefined {
  const v = q.get(name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw badRequest(name, `must be an integer from ${min} to ${max}`)
  return n
}
