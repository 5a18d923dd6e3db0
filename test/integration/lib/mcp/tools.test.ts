/**
 * Every tool of `cairn mcp` doing its job through the official SDK client,
 * against a real daemon and a real git remote: structured content is what
 * the daemon (the library) answers for the same call, the text form names
 * what happened, opId makes a retried write apply once, the log pages by
 * cursor, leases are taken, renewed and given back, and sync reports
 * progress to a client that asks for it.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { connect } from '../../../../lib/daemon/client.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { mcpSession, stopDaemonAfter, textOf } from './mcp-helpers.ts'

type Issue = { id: string; title: string; body: string; state: string; labels: string[]; dependencies: { target: string; depType: string }[] }
type Write = { issueId: string; seq: number; eventIds: string[]; duplicate: boolean }
type Logged = { seq: number; event: { issueId: string; kind: { type: string } } }

const box = sandbox()
t.teardown(() => box.cleanup())
stopDaemonAfter(t, box.home)
const repo = box.repo('tools')

t.test('the board: create, show, update, label, depend, ready, list, comment, history, close', async (t) => {
  const s = await mcpSession(t, { home: box.home, repo, agent: 'toolsmith' })
  const design = await s.ok<Issue>('create', { title: 'Design', body: 'the API', labels: ['api'] })
  const build = await s.ok<Issue>('create', { title: 'Build' })
  t.match(design, { title: 'Design', body: 'the API', state: 'open', labels: ['api'] })

  const raw = await connect(box.home)
  t.teardown(() => raw.close())
  const viaDaemon = await raw.request('issues.show', { repo, agent: 'toolsmith', args: { id: design.id } })
  t.same(await s.ok('show', { id: design.id.slice(0, 6) }), viaDaemon, 'show by prefix: the structured content is what the daemon answers')
  t.match(textOf(await s.call('show', { id: design.id })), new RegExp(`^${design.id}  open  Design \\[api\\]\\n\\nthe API`), 'and a text form')

  t.match(await s.ok<Write>('update', { id: design.id, title: 'Design the API' }), { issueId: design.id, duplicate: false })
  t.match(await s.ok<Write>('label', { id: build.id, add: ['impl'] }), { issueId: build.id })
  t.match(await s.ok<Write>('depend', { id: build.id, target: design.id, type: 'depends_on' }), { issueId: build.id })
  t.match(await s.call('depend', { id: design.id, target: build.id, type: 'depends_on' }),
    { isError: true, structuredContent: { error: { code: 'CYCLE' } } }, 'a cycle is refused with its code')
  t.same((await s.ok<{ issues: Issue[] }>('ready')).issues.map((i) => i.title), ['Design the API'], 'ready: the build waits for the design')
  t.same((await s.ok<{ issues: Issue[] }>('list', { label: 'impl' })).issues.map((i) => i.id), [build.id], 'list filters by label')
  t.same((await s.ok<{ issues: Issue[] }>('list', { state: 'closed' })).issues, [])

  const first = await s.ok<Write>('comment', { id: design.id, body: 'drafted', opId: 'c-1' })
  const again = await s.ok<Write>('comment', { id: design.id, body: 'drafted', opId: 'c-1' })
  t.same([again.duplicate, again.seq], [true, first.seq], 'a retried comment with its opId applies once')
  t.match(textOf(await s.call('comment', { id: design.id, body: 'drafted', opId: 'c-1' })), /already applied/)

  const history = (await s.ok<{ events: Logged[] }>('history', { id: design.id })).events
  t.same(history.map((e) => e.event.kind.type), ['IssueCreated', 'IssueUpdated', 'CommentAdded'])
  t.match(await s.ok<Write>('close', { id: design.id }), { issueId: design.id })
  t.same((await s.ok<{ issues: Issue[] }>('ready')).issues.map((i) => i.title), ['Build'], 'closing the design readies the build')
})

t.test('events_since pages the log by cursor', async (t) => {
  const s = await mcpSession(t, { home: box.home, repo, agent: 'reader' })
  const all: Logged[] = []
  let from = 1
  for (let page = 0; page < 20; page++) {
    const r = await s.ok<{ events: Logged[]; nextSeq: number }>('events_since', { fromSeq: from, limit: 2 })
    t.ok(r.events.length <= 2)
    all.push(...r.events)
    if (r.events.length === 0) {
      t.equal(r.nextSeq, from, 'an empty page keeps the cursor')
      break
    }
    t.equal(r.nextSeq, r.events.at(-1)!.seq + 1, 'nextSeq follows the page')
    from = r.nextSeq
  }
  t.same(all.map((e) => e.seq), Array.from({ length: all.length }, (_, i) => i + 1), 'every event once, in order')
  t.equal(all.length, 7, 'the seven events the board test wrote (the retried comment wrote none)')
  await s.ok('create', { title: 'later' })
  const news = await s.ok<{ events: Logged[] }>('events_since', { fromSeq: from })
  t.same(news.events.map((e) => e.event.kind.type), ['IssueCreated'], 'the next read from the cursor is only what came since')
})

t.test('leases: acquire, list, renew, release', async (t) => {
  const s = await mcpSession(t, { home: box.home, repo, agent: 'locksmith' })
  const lease = await s.ok<{ resource: string; token: number; expiresAt: number }>('lock_acquire', { resource: 'path:src/api', ttlMs: 60_000 })
  t.match(lease, { resource: 'path:src/api', token: Number })
  t.match((await s.ok<{ leases: { resource: string }[] }>('lock_list')).leases, [{ resource: 'path:src/api' }])
  const renewed = await s.ok<{ expiresAt: number }>('lock_renew', { resource: 'path:src/api', token: lease.token, ttlMs: 120_000 })
  t.ok(renewed.expiresAt > lease.expiresAt, 'renewed further')
  t.match(await s.ok('lock_release', { resource: 'path:src/api', token: lease.token }), { resource: 'path:src/api', released: true })
  t.same((await s.ok<{ leases: unknown[] }>('lock_list')).leases, [], 'given back')
})

t.test('sync with a git remote, reporting progress to a client that asks', async (t) => {
  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', remote])
  const s = await mcpSession(t, { home: box.home, repo, agent: 'syncer' })
  const progress: { progress: number; total?: number; message?: string }[] = []
  const r = await s.client.callTool({ name: 'sync', arguments: {} }, undefined, { onprogress: (p) => { progress.push(p) } }) as CallToolResult
  t.notOk(r.isError, textOf(r))
  t.match(r.structuredContent, { remote: 'origin', pushed: Number, pulled: 0 })
  t.ok((r.structuredContent as { pushed: number }).pushed > 0, 'the board went to the remote')
  t.ok(progress.length > 0, `${progress.length} progress notifications`)
  t.match(progress.at(-1), { message: /fetching|ingesting|pushing/ })
  const refs = execFileSync('git', ['-C', remote, 'for-each-ref', '--format=%(refname)', 'refs/cairn/'], { encoding: 'utf8' })
  t.match(refs, /refs\/cairn\/wal\//, 'plain git sees the WAL refs on the remote')
})
