/**
 * The Supervisor through the daemon's socket and the CLI (`runtime.*`,
 * `cairn runtime ...`), against a real daemon with two threads: actors,
 * watch, close, move and restart do their job and answer the same shapes as
 * the API; bad input on each call is a coded error (with the CLI's exit code
 * for it), and the daemon keeps serving.
 */
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../../../lib/daemon/client.ts'
import { EXIT_CODES } from '../../../../lib/cli/exit-codes.ts'
import type { ActorInfo, HandOff, WatchItem } from '../../../../lib/index.ts'
import { assertCoded } from '../../../helpers/coded-error.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope, eventually, inProcessDaemon } from './daemon-helpers.ts'

async function setup(t: { teardown(fn: () => unknown): void }) {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const d = await inProcessDaemon(t, { home: box.home, idleTimeoutSec: 0, threads: 2 })
  const client = await connect(d.paths.home)
  t.teardown(() => client.close())
  const environment = { ...process.env, CAIRN_HOME: box.home }
  return { box, d, client, environment }
}

t.test('through the socket and the CLI: actors, watch, close, move, restart', async (t) => {
  const { box, client, environment } = await setup(t)
  const a = box.repo('a')
  const b = box.repo('b')
  const watched: WatchItem[] = []
  const stopWatch = new AbortController()
  const watching = client.request<{ count: number }>('runtime.watch', { args: {} }, { signal: stopWatch.signal, onItem: (e) => watched.push(e as WatchItem) })
  const issue = await client.request<{ id: string }>('issues.create', { repo: a, args: { title: 'kept' } })
  await client.request('issues.create', { repo: b, args: { title: 'other' } })

  const actors = await client.request<ActorInfo[]>('runtime.actors', {})
  t.equal(actors.length, 6, 'three actors for each of the two repositories')
  t.same([...new Set(actors.map((x) => x.thread))].length, 2, 'placed on both threads (placement by load)')
  t.match(actors.find((x) => x.repo === `${a}/.git` && x.kind === 'repo-worker'), { state: 'running', handled: Number, restarts: 0, lastFailure: null, openSince: Number })
  const text = await cli(['runtime', 'actors'], environment)
  t.equal(text.code, 0)
  t.match(text.stdout, `${a}/.git  repo-worker  thread `, 'the CLI lists them, one line each')
  t.same((envelope(await cli(['runtime', 'actors', '--json'], environment)).data as ActorInfo[]).length, 6, 'and as JSON')

  const from = actors.find((x) => x.repo === `${a}/.git`)!.thread!
  const to = actors.find((x) => x.repo === `${b}/.git`)!.thread!
  const moved = envelope(await cli(['runtime', 'move', a, '--to', String(to), '--json'], environment))
  t.match(moved, { ok: true, data: { repo: `${a}/.git`, from, to, ms: Number } }, 'cairn runtime move')
  t.ok((await client.request<ActorInfo[]>('runtime.actors', {})).filter((x) => x.repo === `${a}/.git`).every((x) => x.thread === to), 'the actors run on the target thread')

  const closed = await cli(['runtime', 'close', '-C', a], environment)
  t.equal(closed.code, 0, 'cairn runtime close, the repository from -C')
  t.match(closed.stdout, `closed ${a}/.git in `)
  t.same((await client.request<ActorInfo[]>('runtime.actors', {})).map((x) => x.repo).filter((r) => r === `${a}/.git`), [], 'closed: no actors')
  t.match(await client.request('issues.show', { repo: a, args: { id: issue.id } }), { title: 'kept' }, 'its next request opens it again')

  const restarted = await client.request<HandOff>('runtime.restart', { args: { path: b } })
  t.match(restarted, { repo: `${b}/.git`, from: to, to, ms: Number }, 'runtime.restart over the socket')

  await eventually(() => watched.some((e) => e.type === 'restarted'))
  stopWatch.abort()
  t.match(await watching, { count: watched.length }, 'the watch ends with its count when cancelled')
  const types = watched.map((e) => e.type)
  for (const type of ['placed', 'started', 'moved', 'closed', 'restarted']) t.ok(types.includes(type as never), `watch saw ${type}`)
  t.match(watched.find((e) => e.type === 'moved'), { repo: `${a}/.git`, from, to })
  t.match(watched.find((e) => e.type === 'closed'), { repo: `${a}/.git`, reason: 'request' })

  // cairn runtime watch: opening repositories until it has its two events (it subscribes when its request arrives).
  let finished = false
  const cliWatch = cli(['runtime', 'watch', '--limit', '2', '--json'], environment).finally(() => { finished = true })
  for (let i = 0; i < 50 && !finished; i++) {
    await client.request('issues.create', { repo: box.repo(`c${i}`), args: { title: 'x' } })
    await new Promise((r) => setTimeout(r, 100))
  }
  const r = await cliWatch
  t.equal(r.code, 0)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)
  t.equal(lines.length, 3, 'two events and the end')
  const [first, second, end] = lines as { ok: boolean; data: { type?: string; seq?: number; repo?: string; end?: boolean; count?: number } }[]
  for (const e of [first!, second!]) t.match(e, { ok: true, data: { type: /^(placed|started)$/, seq: Number, repo: /\/c\d+\/\.git$/ } }, 'each event a JSON envelope')
  t.equal(second!.data.seq, first!.data.seq! + 1, 'in sequence')
  t.same(end, { ok: true, data: { end: true, count: 2 } }, 'then the end with its count')
})

t.test('bad input on each call: coded errors over the socket, and exit codes through the CLI', async (t) => {
  const { box, client, environment } = await setup(t)
  const open = box.repo('open')
  const never = box.repo('never')
  const plain = join(box.dir, 'plain')
  mkdirSync(plain)
  await client.request('issues.create', { repo: open, args: { title: 'still here' } })
  const threads = (await client.request<{ threads: { threadId: number }[] }>('daemon.status', {})).threads.map((x) => x.threadId)
  const unknownThread = Math.max(...threads) + 100

  const refuse = async (what: string, method: string, args: unknown, code: string, field: string | null) => {
    const err = await client.request(method, { args } as never).then(() => null, (e: unknown) => e)
    return assertCoded(t, err, args, code, field, `${what}: ${code}${field ? ` (${field})` : ''}`)?.details
  }
  for (const method of ['runtime.close', 'runtime.restart', 'runtime.move']) {
    const thread = method === 'runtime.move' ? { thread: threads[0] } : {}
    await refuse(`${method} without a path`, method, { ...thread }, 'INVALID_ARGUMENT', 'path')
    await refuse(`${method} relative path`, method, { path: 'a/b', ...thread }, 'INVALID_ARGUMENT', 'path')
    await refuse(`${method} unknown field`, method, { path: open, ...thread, force: true }, 'INVALID_ARGUMENT', 'force')
    await refuse(`${method} missing directory`, method, { path: join(box.dir, 'nope'), ...thread }, 'NOT_FOUND', null)
    await refuse(`${method} not a repository`, method, { path: plain, ...thread }, 'NOT_FOUND', null)
    t.match(await refuse(`${method} never opened`, method, { path: never, ...thread }, 'NOT_FOUND', null), { state: 'unknown' })
  }
  await refuse('move without a thread', 'runtime.move', { path: open }, 'INVALID_ARGUMENT', 'thread')
  await refuse('move to thread -1', 'runtime.move', { path: open, thread: -1 }, 'INVALID_ARGUMENT', 'thread')
  t.match(await refuse('move to an unknown thread', 'runtime.move', { path: open, thread: unknownThread }, 'NOT_FOUND', 'thread'), { thread: unknownThread })
  await refuse('actors with an argument', 'runtime.actors', { all: true }, 'INVALID_ARGUMENT', 'all')
  await refuse('watch buffer 0', 'runtime.watch', { buffer: 0 }, 'INVALID_ARGUMENT', 'buffer')

  await client.request('runtime.close', { args: { path: open } })
  t.match(await refuse('close twice', 'runtime.close', { path: open }, 'NOT_FOUND', null), { state: 'closed' })
  t.match(await refuse('move a closed repository', 'runtime.move', { path: open, thread: threads[0] }, 'NOT_FOUND', null), { state: 'closed' })

  // The same through the CLI: the code in the JSON envelope, and its exit code.
  for (const [what, args, code] of [
    ['close twice', ['runtime', 'close', open], 'NOT_FOUND'],
    ['move a closed repository', ['runtime', 'move', open, '--to', String(threads[0])], 'NOT_FOUND'],
    ['restart one never opened', ['runtime', 'restart', never], 'NOT_FOUND'],
    ['move to an unknown thread', ['runtime', 'move', never, '--to', String(unknownThread)], 'NOT_FOUND'],
    ['close a directory that is no repository', ['runtime', 'close', plain], 'NOT_FOUND'],
  ] as const) {
    const r = await cli([...args, '--json'], environment)
    t.equal(r.code, EXIT_CODES[code], `cairn ${what}: exit ${EXIT_CODES[code]}`)
    t.match(envelope(r), { ok: false, error: { code } })
    const text = await cli([...args], environment)
    t.match(text.stderr, new RegExp(`^cairn: ${code}: `), 'and the code on stderr as text')
  }

  t.match(await client.request('issues.list', { repo: open, args: {} }), [{ title: 'still here' }], 'the daemon still serves, and the closed repository reopens on use')
})
