/**
 * The board's writes: comment on an issue, close it, and break a stale
 * lease. Off unless the board was started with `--allow-writes` and a human
 * agent name; every write is then made as that agent (its own actor id, so
 * the history says who did it) and carries the page's `opId`, so a retried
 * click applies once.
 *
 * Bodies are JSON of at most MAX_BODY bytes (413 past it) with only the
 * named fields; their values are checked by the daemon's argument schemas
 * (protocol/operations: 400 naming the field, exactly as for the CLI and
 * the MCP tools), and the library answers the rest (404 for an unknown issue).
 */
import type { Context, Hono } from 'hono'
import { parseArgs } from '../../../protocol/operations/index.ts'
import type { BoardRegistry } from '../boards.ts'
import { badRequest, HttpError } from './errors.ts'
import { issueParam, queryParams, repoParam } from './params.ts'

export const MAX_BODY = 64 * 1024

export interface WriteSettings { allowWrites: boolean; writer: string | null }

const tooLarge = (): HttpError => new HttpError(413, 'TOO_LARGE', `a write body is at most ${MAX_BODY} bytes`)

/**
 * The request body, read up to MAX_BODY bytes: a declared length past it is
 * refused before reading, and a chunked body is cut off as soon as it goes
 * past it, so no client makes the daemon buffer more than that.
 */
async function cappedText(c: Context): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > MAX_BODY) throw tooLarge()
  const stream = c.req.raw.body
  if (stream === null) return ''
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY) {
      await reader.cancel().catch(() => undefined)
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function jsonBody(c: Context, allowed: readonly string[]): Promise<Record<string, unknown>> {
  let body: unknown
  const text = await cappedText(c)
  try {
    body = JSON.parse(text)
  } catch {
    throw badRequest('body', 'must be JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body', 'must be a JSON object')
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`field ${JSON.stringify(k.slice(0, 40))}`, `is not known here (known: ${allowed.join(', ')})`)
  return body as Record<string, unknown>
}

const opts = (a: { opId?: string | undefined }): { opId?: string } => (a.opId === undefined ? {} : { opId: a.opId })

export function writeRoutes(app: Hono, boards: BoardRegistry, settings: () => WriteSettings): void {
  /** The writer handle, or 403 on a read-only board. */
  const writer = async (c: Context) => {
    const s = settings()
    if (!s.allowWrites || s.writer === null) {
      throw new HttpError(403, 'FORBIDDEN', 'this board is read-only; start it with `cairn ui --allow-writes --agent <your name>` to write')
    }
    queryParams(c, [])
    return { repo: await boards.writer(repoParam(c), s.writer), agent: s.writer }
  }

  app.post('/api/boards/:repo/issues/:id/comment', async (c) => {
    const { repo, agent } = await writer(c)
    // The daemon's own argument schema checks the values (INVALID_ARGUMENT naming the field, as for the CLI).
    const a = parseArgs('issues.comment', { ...(await jsonBody(c, ['body', 'opId'])), id: issueParam(c) })
    return c.json({ ok: true, agent, data: await repo.issues.comment(a.id, a.body, opts(a)) })
  })

  app.post('/api/boards/:repo/issues/:id/close', async (c) => {
    const { repo, agent } = await writer(c)
    const a = parseArgs('issues.close', { ...(await jsonBody(c, ['opId'])), id: issueParam(c) })
    return c.json({ ok: true, agent, data: await repo.issues.close(a.id, opts(a)) })
  })

  app.post('/api/boards/:repo/leases/break', async (c) => {
    const { repo, agent } = await writer(c)
    const b = await jsonBody(c, ['resource', 'reason', 'opId'])
    if (typeof b.resource !== 'string' || b.resource.length === 0 || b.resource.length > 1024) throw badRequest('resource', 'must be a lease resource such as issue:<id> or path:<path>')
    if (typeof b.reason !== 'string' || b.reason.trim().length === 0 || b.reason.length > 1024) throw badRequest('reason', 'must say why (1..1024 characters): a break is recorded')
    const locks = repo.locks as typeof repo.locks & { break?: (resource: string, opts: { reason: string }) => Promise<unknown> }
    if (typeof locks.break !== 'function') {
      throw new HttpError(501 as never, 'UNKNOWN_MESSAGE', 'this Cairn cannot break leases yet (holder-bound leases and `lock break` come with the lease rework)')
    }
    return c.json({ ok: true, agent, data: await locks.break(b.resource, { reason: b.reason }) })
  })
}
