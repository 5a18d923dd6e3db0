/**
 * `cairn mcp` as agents use it: real server processes driven by the
 * official SDK client over stdio, against a real daemon (auto-started by
 * the first session) on a real repository.
 *
 * - tools/list: every tool, with the JSON Schema of its arguments.
 * - Two sessions as two agents both claim_next: different issues. One
 *   closes its issue (its claim goes with it). The other's claim is kept
 *   alive by its server past several TTLs; then that server is SIGKILLed
 *   and its claim is released after TTL + grace, when a third session (named
 *   after its client) claims it.
 * - A session that ends cleanly releases its leases at once.
 * - A session outlives its daemon (SIGKILLed): the next call starts and reaches a new one.
 */
import t from 'tap'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { probe } from '../../../../lib/daemon/client.ts'
import { daemonPaths } from '../../../../lib/daemon/paths.ts'
import { eventually } from '../daemon/daemon-helpers.ts'
import { mcpSession, stopDaemonAfter, textOf } from './mcp-helpers.ts'

const TOOLS = ['claim_next', 'close', 'comment', 'create', 'depend', 'events_since', 'history', 'label', 'list', 'lock_acquire', 'lock_list',
  'lock_release', 'lock_renew', 'ready', 'show', 'sync', 'update']

type Issue = { id: string; title: string; state: string; assignees: string[] }
type Claim = { issue: Issue | null; lease: { resource: string; token: number; expiresAt: number } | null }
type LeaseRow = { resource: string; expiresAt: number; holder: { actor: string } }

const box = sandbox()
t.teardown(() => box.cleanup())
stopDaemonAfter(t, box.home)
const repo = box.repo('board')

t.test('tools/list: every tool with its argument schema, title, description and hints', async (t) => {
  const s = await mcpSession(t, { home: box.home, repo, agent: 'lister' })
  const { tools } = await s.client.listTools()
  t.same(tools.map((x) => x.name).sort(), TOOLS)
  for (const tool of tools) {
    t.equal(tool.inputSchema.type, 'object', `${tool.name}: an object schema`)
    t.equal((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, false, `${tool.name}: unknown arguments refused`)
    t.ok((tool.description ?? '').length > 40 && tool.title, `${tool.name}: a description and a title`)
    t.type(tool.annotations?.readOnlyHint, 'boolean')
  }
  const byName = Object.fromEntries(tools.map((x) => [x.name, x.inputSchema as { properties: Record<string, Record<string, unknown>>; required?: string[] }]))
  t.same(byName.create!.required, ['title'], 'create needs a title')
  t.match(byName.create!.properties, { title: { type: 'string', maxLength: 1024 }, body: { type: 'string' }, labels: { type: 'array', items: { type: 'string' } }, opId: { type: 'string' } })
  t.same(byName.show!.required, ['id'])
  t.match(byName.show!.properties.id, { type: 'string', pattern: '^[0-9a-fA-F]{4,32}$' })
  t.match(byName.list!.properties.state, { enum: ['open', 'closed', 'all'] })
  t.match(byName.claim_next!.properties, { label: { type: 'string' }, ttlMs: { type: 'integer', minimum: 1, maximum: 86_400_000 } })
  t.equal(byName.claim_next!.required, undefined, 'claim_next needs nothing')
  t.match(byName.depend!.properties.type, { enum: ['blocks', 'depends_on', 'related_to'] })
  t.same(byName.depend!.required?.sort(), ['id', 'target', 'type'])
  t.same(byName.lock_acquire!.required, ['resource'], 'lock_acquire: the session lease TTL is the default')
  t.same(byName.lock_renew!.required, ['resource'], 'lock_renew: the session\'s own hold is found by resource')
  t.ok(byName.lock_renew!.properties && 'token' in byName.lock_renew!.properties, 'lock_renew: a token may still be given')
  t.match(byName.events_since!.properties, { fromSeq: { type: 'integer', minimum: 1 }, limit: { type: 'integer', maximum: 1000 } })
  t.match(s.client.getInstructions(), /claim_next/, 'instructions tell a model how to work')
  t.match(s.client.getServerVersion(), { name: 'cairn' })
})

t.test('two agents claim different issues; a killed session\'s claim goes to a third after grace', async (t) => {
  const TTL = 1_500
  const alice = await mcpSession(t, { home: box.home, repo, agent: 'alice', leaseTtlMs: TTL })
  const bob = await mcpSession(t, { home: box.home, repo, agent: 'bob', leaseTtlMs: TTL })
  const one = await alice.ok<Issue>('create', { title: 'write the parser', labels: ['mcp-race'] })
  const two = await alice.ok<Issue>('create', { title: 'write the printer', labels: ['mcp-race'] })

  const [a, b] = await Promise.all([alice.ok<Claim>('claim_next', { label: 'mcp-race' }), bob.ok<Claim>('claim_next', { label: 'mcp-race' })])
  t.ok(a.issue && b.issue, 'both got an issue')
  t.not(a.issue!.id, b.issue!.id, 'different issues')
  t.same([a.issue!.id, b.issue!.id].sort(), [one.id, two.id].sort())
  t.same(a.issue!.assignees, ['alice'], 'assigned to the session\'s agent')
  t.same(b.issue!.assignees, ['bob'])
  t.equal(a.lease!.resource, `issue:${a.issue!.id}`)

  // Alice finishes: closing the issue ends her claim.
  const closed = await alice.call('close', { id: a.issue!.id })
  t.notOk(closed.isError, 'alice closes her issue')
  t.match(textOf(closed), /claim released/)
  const rows = async () => (await alice.ok<{ leases: LeaseRow[] }>('lock_list')).leases
  t.same((await rows()).map((l) => l.resource), [`issue:${b.issue!.id}`], 'only bob\'s claim is left')

  // Bob's server keeps his claim alive well past its TTL: nobody can take it.
  const first = (await rows())[0]!.expiresAt
  await new Promise((r) => setTimeout(r, 3 * TTL))
  t.ok((await rows())[0]!.expiresAt > first, 'bob\'s lease was renewed by his server')
  t.same(await alice.ok('claim_next', { label: 'mcp-race' }), { issue: null, lease: null }, 'nothing to claim while bob\'s session lives')

  // Bob's server dies without a word: nothing renews his claim any more. (Carol's session starts
  // first: starting a process can take longer than TTL + grace on a loaded machine.)
  const carol = await mcpSession(t, { home: box.home, repo, clientName: 'carol-client' })
  process.kill(bob.pid, 'SIGKILL')
  const killedAt = Date.now()
  t.same(await carol.ok('claim_next', { label: 'mcp-race' }), { issue: null, lease: null }, 'not before the claim lapsed')
  let got: Claim = { issue: null, lease: null }
  await eventually(async () => {
    got = await carol.ok<Claim>('claim_next', { label: 'mcp-race' })
    return got.issue !== null
  }, 30_000, 200)
  const after = Date.now() - killedAt
  t.equal(got.issue!.id, b.issue!.id, 'the third session claims bob\'s issue')
  t.ok(after >= TTL, `after the TTL at least (${after} ms after the kill)`)
  t.ok(got.issue!.assignees.includes('carol-client'), 'a session without --agent acts as its client\'s name')
  t.ok(got.lease!.token > b.lease!.token, 'under a newer fencing token')
})

t.test('a session that ends cleanly releases its leases at once', async (t) => {
  const dave = await mcpSession(t, { home: box.home, repo, agent: 'dave', leaseTtlMs: 600_000 })
  const lease = await dave.ok<{ resource: string; token: number }>('lock_acquire', { resource: 'path:src/parser' })
  t.equal(lease.resource, 'path:src/parser')
  const erin = await mcpSession(t, { home: box.home, repo, agent: 'erin' })
  const held = await erin.call('lock_acquire', { resource: 'path:src' })
  t.match(held, { isError: true, structuredContent: { error: { code: 'LEASE_HELD' } } }, 'a conflicting lease is refused while dave holds it')
  await dave.close()
  await eventually(async () => !(await erin.call('lock_acquire', { resource: 'path:src' })).isError, 10_000, 100)
  t.pass('released when dave\'s client went away, long before its 10-minute TTL')
})

t.test('a session outlives its daemon: after a crash the next call reaches a new one', async (t) => {
  const s = await mcpSession(t, { home: box.home, repo, agent: 'survivor' })
  const before = await s.ok<{ id: string }>('create', { title: 'before the crash' })
  const old = await probe(daemonPaths(box.home).socket, 2000)
  t.ok(old, 'a daemon serves the session')
  process.kill(old!.pid, 'SIGKILL')
  await eventually(() => { try { process.kill(old!.pid, 0); return false } catch { return true } }, 10_000, 20)
  const shown = await s.call('show', { id: before.id })
  t.notOk(shown.isError, `the call after the crash is answered (${textOf(shown).slice(0, 80)})`)
  t.match(shown.structuredContent, { id: before.id, title: 'before the crash' }, 'by a daemon the session started again')
  const now = await probe(daemonPaths(box.home).socket, 2000)
  t.ok(now && now.pid !== old!.pid, 'a new daemon serves the home')
})
