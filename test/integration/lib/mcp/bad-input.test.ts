/**
 * Bad input to `cairn mcp`, which must answer and keep serving:
 * - every tool with bad arguments (and with an unknown one) → a tool error
 *   whose structured content names the field, with Cairn's code;
 * - what the daemon refuses (an unknown issue) → a tool error with its code;
 * - an unknown tool → a JSON-RPC error (-32602), not a tool result;
 * - garbage on stdin (not JSON, not JSON-RPC, unknown methods, malformed
 *   params, an 8 MiB line) → JSON-RPC errors; the process lives on and
 *   still serves a proper session afterwards.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { CAIRN_COMMAND, eventually } from '../daemon/daemon-helpers.ts'
import { mcpSession, stopDaemonAfter, textOf } from './mcp-helpers.ts'

const box = sandbox()
t.teardown(() => box.cleanup())
stopDaemonAfter(t, box.home)
const repo = box.repo('bad')

/** [tool, arguments, field the error must name]: at least one per tool. */
const CASES: [string, Record<string, unknown>, string][] = [
  ['create', { title: '' }, 'title'],
  ['create', { title: 'x', labels: ['ok', 7] }, 'labels[1]'],
  ['show', { id: 'not-hex' }, 'id'],
  ['show', {}, 'id'],
  ['list', { state: 'later' }, 'state'],
  ['ready', { label: '' }, 'label'],
  ['claim_next', { ttlMs: 0 }, 'ttlMs'],
  ['comment', { id: 'abcd' }, 'body'],
  ['comment', { id: 'abcd', body: 'x', lease: -1 }, 'lease'],
  ['close', { id: 12 }, 'id'],
  ['update', { id: 'abcd', title: ' ' }, 'title'],
  ['label', { id: 'abcd', add: 'bug' }, 'add'],
  ['depend', { id: 'abcd', target: 'ef01', type: 'likes' }, 'type'],
  ['history', { id: 'xyz' }, 'id'],
  ['lock_acquire', { resource: 'file:x' }, 'resource'],
  ['lock_acquire', { resource: 'path:x', waitMs: -5 }, 'waitMs'],
  ['lock_renew', { resource: 'path:x', token: 0 }, 'token'],
  ['lock_release', { resource: 'path:x', token: '1' }, 'token'],
  ['lock_list', { all: true }, 'all'],
  ['sync', { pull: 'yes' }, 'pull'],
  ['events_since', { limit: 0 }, 'limit'],
  ['events_since', { fromSeq: 1.5 }, 'fromSeq'],
]

t.test('every tool with bad arguments: a tool error naming the field', async (t) => {
  const s = await mcpSession(t, { home: box.home, repo, agent: 'fuzzy' })
  const { tools } = await s.client.listTools()
  t.same(new Set(CASES.map((c) => c[0])), new Set(tools.map((x) => x.name)), 'every tool is covered')
  const cases = [...CASES, ...tools.map((x): [string, Record<string, unknown>, string] => [x.name, { bogusArgument: 1 }, 'bogusArgument'])]
  for (const [tool, args, field] of cases) {
    const r = await s.call(tool, args)
    t.match(r, { isError: true, structuredContent: { error: { code: 'INVALID_ARGUMENT', details: { field } } } }, `${tool} ${JSON.stringify(args)} → ${field}`)
    t.match(textOf(r), new RegExp(`^INVALID_ARGUMENT: ${field.replace(/[[\]]/g, '\\$&')} `), 'the text names it too')
  }
  const missing = await s.call('show', { id: 'abcdef01' })
  t.match(missing, { isError: true, structuredContent: { error: { code: 'NOT_FOUND' } } }, 'a daemon error keeps its code')
  const created = await s.ok<{ id: string }>('create', { title: 'still serving' })
  t.match(await s.ok('show', { id: created.id.slice(0, 6) }), { id: created.id, title: 'still serving' }, 'and the session still works')
})

t.test('an unknown tool is a protocol error, and the session goes on', async (t) => {
  const s = await mcpSession(t, { home: box.home, repo, agent: 'fuzzy' })
  const err = await s.client.callTool({ name: 'delete_everything', arguments: {} }).then(() => null, (e: unknown) => e)
  t.ok(err instanceof McpError, 'the client gets a JSON-RPC error, not a result')
  t.equal((err as McpError).code, -32602)
  t.match((err as McpError).message, /unknown tool "delete_everything"/)
  t.match(await s.ok('list'), { issues: Array }, 'still serving')
})

/** A raw `cairn mcp` process: lines in, parsed lines out. */
function rawServer() {
  const child = spawn(process.execPath, [...CAIRN_COMMAND, 'mcp', '--home', box.home, '-C', repo, '--agent', 'raw'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_V8_COVERAGE: '' } })
  const replies: Record<string, unknown>[] = []
  let buf = ''
  let exited: number | null | undefined
  child.on('exit', (code) => { exited = code })
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    buf += s
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      replies.push(JSON.parse(buf.slice(0, nl)))
      buf = buf.slice(nl + 1)
    }
  })
  child.stderr.resume()
  return { child, replies, alive: () => exited === undefined, send: (line: string) => child.stdin.write(`${line}\n`) }
}

t.test('garbage on stdin: JSON-RPC errors, never an exit', async (t) => {
  const r = rawServer()
  t.teardown(() => { r.child.kill('SIGKILL') })
  const lines = [
    'not json at all',
    '{"jsonrpc": "2.0", "id": 1, "method": }',
    '[]',
    '{"jsonrpc":"2.0","id":2}',
    '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"show","arguments":{"id":"abcd"}}}',
    '{"jsonrpc":"2.0","id":4,"method":"no/such/method","params":{}}',
    '{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}',
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{}}',
    '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"show","arguments":"abcd"}}',
    '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"show","arguments":{"id":null}}}',
    `${'x'.repeat(9 * 1024 * 1024)}`,
    '{"jsonrpc":"2.0","id":9,"method":"tools/list"}',
    '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"create","arguments":{"title":"after the garbage"}}}',
  ]
  for (const l of lines) r.send(l)
  await eventually(() => r.replies.some((x) => x.id === 10), 60_000, 50)
  const byId = (id: unknown) => r.replies.filter((x) => x.id === id)
  const nulls = byId(null) as { error: { code: number } }[]
  t.same(nulls.map((x) => x.error.code).sort(), [-32700, -32700, -32600, -32600].sort(), 'unparsable lines, a batch and an 8 MiB line answered with id null')
  t.match(byId(2), [{ error: { code: -32600 } }], 'a message with neither method nor result')
  t.equal(byId(3).length, 1, 'a call before initialize is answered')
  t.match(byId(4), [{ error: { code: -32601 } }], 'an unknown method')
  t.match(byId(5), [{ result: { serverInfo: { name: 'cairn' } } }], 'initialize still works after the garbage')
  t.match(byId(6), [{ error: { code: -32602 } }], 'tools/call without a name')
  t.match(byId(7), [{ error: { code: -32602 } }], 'arguments that are not an object')
  t.match(byId(8), [{ result: { isError: true, structuredContent: { error: { code: 'INVALID_ARGUMENT', details: { field: 'id' } } } } }], 'a null required argument')
  t.match(byId(9), [{ result: { tools: [{ name: 'create' }] } }])
  t.match(byId(10), [{ result: { structuredContent: { title: 'after the garbage' } } }], 'and it still writes')
  t.ok(r.alive(), 'the server never exited')
  r.child.stdin.end()
  await eventually(() => !r.alive(), 15_000, 50)
  t.pass('the end of stdin ends the session')
})
