/**
 * What every request passes before a route sees it, in this order:
 *
 * 1. size: a request target over MAX_TARGET bytes is 414 (Node itself answers
 *    431 to headers over its 16 KiB limit and closes the connection);
 * 2. Host: only `127.0.0.1:<port>` or `localhost:<port>` (a page on another
 *    site that rebinds its DNS name to 127.0.0.1 reaches the port, but its
 *    requests name its own host) → else 403;
 * 3. the token, from the `token` query parameter (the URL `cairn ui`
 *    prints), this home's cookie, or `Authorization: Bearer` → else 401.
 *    A page opened with `?token=` gets the cookie (HttpOnly, SameSite=Strict)
 *    and is redirected to the same URL without it, so the token leaves the
 *    address bar and the history;
 * 4. writes (POST) only with a JSON body, and from a page of this board
 *    (Origin) unless authenticated by header (a script) → else 403/415.
 *
 * Every response gets a Content-Security-Policy that allows nothing but this
 * origin (the page can make no request elsewhere, even if a title tried to
 * inject one), no referrer, no framing, and no caching of API answers.
 */
import type { MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { tokenMatches } from '../token.ts'
import { HttpError, errorResponse } from './errors.ts'

export const MAX_TARGET = 2048

export interface GuardOptions {
  token(): string
  cookie: string
  port(): number
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

const UNAUTHORIZED_TEXT = 'Unauthorized: open the board with the URL `cairn ui` prints (it carries this home\'s token).\n'

function rawTarget(env: unknown): string {
  const incoming = (env as { incoming?: { url?: string } } | undefined)?.incoming
  return incoming?.url ?? '/'
}

export function guard(opts: GuardOptions): MiddlewareHandler {
  return async (c, next) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v)
    const api = c.req.path.startsWith('/api/')
    const fail = (e: HttpError): Response => {
      if (api || c.req.method === 'POST') return errorResponse(c, e)
      return c.text(e.status === 401 ? UNAUTHORIZED_TEXT : `${e.message}\n`, e.status)
    }
    if (Buffer.byteLength(rawTarget(c.env)) > MAX_TARGET) return fail(new HttpError(414, 'TOO_LARGE', `the request target is longer than ${MAX_TARGET} bytes`))
    const port = opts.port()
    const host = (c.req.header('host') ?? '').toLowerCase()
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return fail(new HttpError(403, 'FORBIDDEN', `this board answers only as 127.0.0.1:${port} or localhost:${port}`))
    }
    if (!['GET', 'HEAD', 'POST'].includes(c.req.method)) {
      c.header('Allow', 'GET, HEAD, POST')
      return fail(new HttpError(405 as never, 'INVALID_ARGUMENT', `method ${c.req.method.slice(0, 20)} is not served`))
    }
    const token = opts.token()
    const fromQuery = c.req.query('token')
    const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1]
    const byHeader = bearer !== undefined && tokenMatches(token, bearer)
    const byQuery = fromQuery !== undefined && tokenMatches(token, fromQuery)
    const byCookie = tokenMatches(token, getCookie(c, opts.cookie))
    if (!byHeader && !byQuery && !byCookie) return fail(new HttpError(401, 'UNAUTHORIZED', 'a valid board token is required (the URL `cairn ui` prints carries it)'))
    if (byQuery && !api && c.req.method === 'GET') {
      const url = new URL(c.req.url)
      url.searchParams.delete('token')
      c.header('Set-Cookie', `${opts.cookie}=${token}; Path=/; HttpOnly; SameSite=Strict`)
      c.header('Cache-Control', 'no-store')
      return c.redirect(`${url.pathname}${url.search}`, 303)
    }
    if (c.req.method === 'POST') {
      const origin = c.req.header('origin')
      const ours = origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`
      if (!(ours || (origin === undefined && byHeader))) return fail(new HttpError(403, 'FORBIDDEN', 'writes are accepted only from this board\'s own page'))
      if (!/^application\/json(;|$)/i.test(c.req.header('content-type') ?? '')) return fail(new HttpError(415 as never, 'INVALID_ARGUMENT', 'a write takes a JSON body (Content-Type: application/json)'))
    }
    if (api) c.header('Cache-Control', 'no-store')
    await next()
  }
}
