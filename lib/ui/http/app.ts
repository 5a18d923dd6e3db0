/**
 * The board's HTTP surface (Hono): the page and its assets, read routes
 * under `/api/`, the live stream, and the writes (writes.ts). Every answer is
 * `{ ok: true, data }` or `{ ok: false, error: { code, message } }` (see
 * errors.ts); everything passes the guard first (guard.ts).
 *
 *   GET  /                                   the page
 *   GET  /assets/<file>                      its scripts, styles and icon
 *   GET  /api/session                        what this board allows, its clock
 *   GET  /api/boards                         the repositories it shows
 *   GET  /api/boards/:repo                   cards by column, counts
 *   GET  /api/boards/:repo/issues/:id        one issue: body, comments, history, lease, neighbours
 *   GET  /api/boards/:repo/graph             open issues layered by dependency depth
 *   GET  /api/boards/:repo/leases            leases with holders (agent names)
 *   GET  /api/boards/:repo/sync              sync status and the WAL outbox
 *   GET  /api/boards/:repo/events?from&limit the event log as activity lines
 *   GET  /api/boards/:repo/search?q&limit    issues whose title, id or label matches
 *   GET  /api/runtime                        threads, actors, mailboxes, restarts, failures
 *   GET  /api/live[?repo]                    server-sent events (live.ts)
 *   POST /api/boards/:repo/issues/:id/comment|close, /api/boards/:repo/leases/break
 */
import { Hono, type Context } from 'hono'
import type { Clock } from '../../kernel/ports/clock.ts'
import type { BoardRegistry } from '../boards.ts'
import { activityOf } from '../board/activity.ts'
import { buildBoard } from '../board/model.ts'
import { graphView, issueDetail } from '../board/views.ts'
import type { RuntimeFeed } from '../runtime-feed.ts'
import type { Asset } from './assets.ts'
import { errorResponse, httpErrorOf, HttpError } from './errors.ts'
import { guard, type GuardOptions } from './guard.ts'
import type { LiveStreams } from './live.ts'
import { intQuery, issueParam, queryParams, repoParam } from './params.ts'
import { writeRoutes, type WriteSettings } from './writes.ts'

export interface AppOptions extends GuardOptions {
  boards: BoardRegistry
  runtime: RuntimeFeed
  live: LiveStreams
  assets: Map<string, Asset>
  clock: Clock
  settings(): WriteSettings
  session(): Record<string, unknown>
  /** Where unexpected failures are written (the daemon log); never with the token. */
  log(line: string): void
}

export function buildApp(opts: AppOptions): Hono {
  const app = new Hono()
  const { boards } = opts
  const ok = (c: Context, data: unknown): Response => c.json({ ok: true, data })
  const entry = (c: Context) => boards.get(repoParam(c))

  app.use('*', guard(opts))

  const sendAsset = (c: Context, name: string): Response => {
    const a = opts.assets.get(name)
    if (a === undefined) throw new HttpError(404, 'NOT_FOUND', 'no such file')
    c.header('ETag', a.etag)
    c.header('Cache-Control', 'no-cache')
    if (c.req.header('if-none-match') === a.etag) return c.body(null, 304)
    c.header('Content-Type', a.type)
    return c.body(a.body as Uint8Array<ArrayBuffer>)
  }
  app.get('/', (c) => { queryParams(c, []); return sendAsset(c, 'index.html') })
  app.get('/assets/:name', (c) => { queryParams(c, []); return sendAsset(c, c.req.param('name')) })

  app.get('/api/session', (c) => { queryParams(c, []); return ok(c, { ...opts.session(), ...opts.settings(), now: opts.clock.now() }) })

  app.get('/api/boards', async (c) => {
    queryParams(c, [])
    await boards.refresh()
    return ok(c, boards.list().map((b) => ({ id: b.id, name: b.name, path: b.path })))
  })

  app.get('/api/boards/:repo', async (c) => {
    queryParams(c, [])
    const { reader } = entry(c)
    const [issues, leases] = await Promise.all([reader.issues.list({}), reader.locks.list()])
    return ok(c, { now: opts.clock.now(), ...buildBoard({ issues, leases }) })
  })

  app.get('/api/boards/:repo/issues/:id', async (c) => {
    queryParams(c, [])
    const { reader } = entry(c)
    return ok(c, { now: opts.clock.now(), ...(await issueDetail(reader, issueParam(c))) })
  })

  app.get('/api/boards/:repo/graph', async (c) => {
    queryParams(c, [])
    return ok(c, await graphView(entry(c).reader))
  })

  app.get('/api/boards/:repo/leases', async (c) => {
    queryParams(c, [])
    const { reader } = entry(c)
    const [leases, agents] = await Promise.all([reader.locks.list(), reader.agents()])
    return ok(c, { now: opts.clock.now(), leases, agents })
  })

  app.get('/api/boards/:repo/sync', async (c) => {
    queryParams(c, [])
    const { reader } = entry(c)
    const [sync, stats] = await Promise.all([reader.syncStatus(), reader.events.stats()])
    return ok(c, { now: opts.clock.now(), sync, stats })
  })

  app.get('/api/boards/:repo/events', async (c) => {
    const q = queryParams(c, ['from', 'limit'])
    const from = intQuery(q, 'from', 1, Number.MAX_SAFE_INTEGER) ?? 1
    const limit = intQuery(q, 'limit', 1, 1000) ?? 100
    const page = await entry(c).reader.events.read({ fromSeq: from, limit })
    return ok(c, { items: page.map(activityOf), next: page.length > 0 ? page[page.length - 1]!.seq + 1 : from })
  })

  app.get('/api/boards/:repo/search', async (c) => {
    const q = queryParams(c, ['q', 'limit'])
    const text = (q.get('q') ?? '').trim().toLowerCase()
    if (text.length === 0) throw new HttpError(400, 'INVALID_ARGUMENT', 'q must be a non-empty search text')
    const limit = intQuery(q, 'limit', 1, 500) ?? 50
    const issues = await entry(c).reader.issues.list({})
    const hits = issues.filter((i) => i.id.startsWith(text) || i.title.toLowerCase().includes(text) || i.labels.some((l) => l.toLowerCase() === text))
    return ok(c, { total: hits.length, issues: hits.slice(0, limit) })
  })

  app.get('/api/boards/:repo/agents', async (c) => {
    queryParams(c, [])
    return ok(c, await entry(c).reader.agents())
  })

  app.get('/api/runtime', async (c) => {
    queryParams(c, [])
    return ok(c, await opts.runtime.view())
  })

  app.get('/api/live', (c) => opts.live.handle(c))

  writeRoutes(app, boards, opts.settings)

  app.notFound((c) => errorResponse(c, new HttpError(404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path.slice(0, 200)}`)))
  app.onError((err, c) => {
    const e = httpErrorOf(err)
    if (e.status >= 500 && e.code === 'INTERNAL') opts.log(`board: ${c.req.method} ${c.req.path.slice(0, 200)} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    return errorResponse(c, err)
  })
  return app
}
