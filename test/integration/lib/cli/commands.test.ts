/**
 * The `cairn` command suite, run twice: through the daemon (auto-started,
 * a real process) and on an embedded runtime (--no-daemon). Every JSON
 * envelope is checked field by field, every error by code and exit code,
 * and the two modes must produce the same transcript.
 */
import t from 'tap'
import { EXIT_CODES } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope, stopDaemonOf, type CliResult } from '../daemon/daemon-helpers.ts'

type Env = { ok: boolean; data?: any; error?: { code: string; message: string } }
const HEX32 = /^[0-9a-f]{32}$/
const transcripts: Record<string, unknown[]> = {}

/** The shape of a value: what must match between modes (ids and times differ). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]).sort())
  if (typeof v === 'string') return /^[0-9a-f-]{36}$/.test(v) ? '<uuid>' : HEX32.test(v) || /^[0-9a-f]{16,64}$/.test(v) ? '<hex>' : v.replace(/[0-9a-f]{8,}/g, '<hex>').replace(/\/tmp\/cairn-test-\w+/g, '<tmp>')
  if (typeof v === 'number') return v > 1e12 ? '<time>' : v
  return v
}

for (const mode of ['daemon', 'embedded'] as const) {
  t.test(`commands through the ${mode}`, async (t) => {
    const box = sandbox()
    t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
    const repo = box.repo('board')
    const transcript: unknown[] = (transcripts[mode] = [])
    const environment = { ...process.env, CAIRN_HOME: box.home, CAIRN_AGENT: 'tester' }
    const extra = mode === 'embedded' ? ['--no-daemon'] : []
    const run = async (args: string[], want: 'ok' | string = 'ok'): Promise<Env> => {
      const r: CliResult = await cli([...args, '--json', '-C', repo, ...extra], environment)
      const e = envelope(r)
      t.same(Object.keys(e).sort(), e.ok ? ['data', 'ok'] : ['error', 'ok'], `${args.join(' ')}: envelope has exactly its two fields`)
      if (want === 'ok') {
        t.equal(e.ok, true, `${args.join(' ')} succeeds (${JSON.stringify(e.error)})`)
        t.equal(r.code, 0, 'exit 0')
      } else {
        t.same({ ok: e.ok, code: e.error?.code, exit: r.code }, { ok: false, code: want, exit: EXIT_CODES[want as keyof typeof EXIT_CODES] }, `${args.join(' ')} fails ${want} with its exit code`)
        t.same(Object.keys(e.error ?? {}).sort(), ['code', 'message'], 'error has exactly code and message')
        t.ok((e.error?.message.length ?? 0) > 0, 'and a message')
      }
      // doctor's daemon check differs by mode on purpose: compare check names and verdicts only.
      const comparable = args[0] === 'doctor' ? (e.data as { checks: { name: string; ok: boolean }[] }).checks.map((c) => [c.name === 'daemon' ? 'daemon' : c.name, c.ok]) : shape(e)
      transcript.push([args[0] === 'issue' || args[0] === 'lock' ? `${args[0]} ${args[1]}` : args[0], r.code, comparable])
      return e
    }

    const init = await run(['init'])
    t.same(Object.keys(init.data).sort(), ['actor', 'agent', 'events', 'issues', 'path', 'repoId'])
    t.match(init.data, { agent: 'tester', actor: HEX32, path: `${repo}/.git`, events: 0, issues: 0 })

    const design = (await run(['issue', 'create', 'Design the API', '-l', 'api', '-b', 'first draft'])).data
    t.match(design, { id: HEX32, title: 'Design the API', body: 'first draft', state: 'open', labels: ['api'], assignees: [], comments: [], createdBy: init.data.actor })
    const build = (await run(['issue', 'create', 'Build it', '--op-id', 'build-1'])).data
    const again = (await run(['issue', 'create', 'Build it', '--op-id', 'build-1'])).data
    t.equal(again.id, build.id, 'a repeated --op-id creates nothing new')
    t.same((await run(['issue', 'list'])).data.map((i: { title: string }) => i.title), ['Design the API', 'Build it'])
    t.equal((await run(['issue', 'show', design.id.slice(0, 6)])).data.id, design.id, 'show by prefix')

    const w = (await run(['issue', 'comment', design.id, 'looks good'])).data
    t.same(Object.keys(w).sort(), ['duplicate', 'eventIds', 'issueId', 'seq'], 'write result fields')
    t.match(w, { issueId: design.id, duplicate: false, eventIds: [/^[0-9a-f]{64}$/] })
    await run(['issue', 'update', design.id, '--title', 'Design the public API'])
    await run(['issue', 'label', design.id, '--add', 'p1', '--remove', 'api'])
    await run(['issue', 'assign', design.id, '--add', 'alice'])
    await run(['issue', 'link', design.id, 'https://example.com/spec', '--note', 'spec'])
    await run(['issue', 'dep', build.id, design.id, '--type', 'depends_on'])
    await run(['issue', 'dep', design.id, build.id, '--type', 'depends_on'], 'CYCLE')
    t.same((await run(['issue', 'ready'])).data.map((i: { id: string }) => i.id), [design.id], 'only the unblocked issue is ready')
    const shown = (await run(['issue', 'show', design.id])).data
    t.match(shown, { title: 'Design the public API', labels: ['p1'], assignees: ['alice'], comments: [{ body: 'looks good' }], links: [{ url: 'https://example.com/spec', note: 'spec' }] })
    await run(['issue', 'close', design.id])
    t.equal((await run(['issue', 'show', design.id])).data.state, 'closed')
    await run(['issue', 'reopen', design.id])
    const history = (await run(['issue', 'history', design.id])).data
    t.same(history.map((h: { event: { kind: { type: string } } }) => h.event.kind.type),
      ['IssueCreated', 'CommentAdded', 'IssueUpdated', 'LabelAdded', 'LabelRemoved', 'AssigneeAdded', 'LinkAdded', 'StateChanged', 'StateChanged'])

    const claimed = (await run(['issue', 'claim', '--ttl', '60000'])).data
    t.same(Object.keys(claimed).sort(), ['duplicate', 'issue', 'lease'])
    t.match(claimed, { issue: { id: design.id }, lease: { resource: `issue:${design.id}`, token: Number } })
    const other = await cli(['lock', 'acquire', `issue:${design.id}`, '--ttl', '1000', '--agent', 'someone-else', '--json', '-C', repo, ...extra], environment)
    t.match(envelope(other), { ok: false, error: { code: 'LEASE_HELD' } }, 'another agent cannot take the claimed issue')
    t.equal(other.code, EXIT_CODES.LEASE_HELD)

    const lease = (await run(['lock', 'acquire', 'path:src/api.ts', '--ttl', '30000'])).data
    t.same(Object.keys(lease).sort(), ['expiresAt', 'leaseId', 'resource', 'token', 'ttlMs'])
    t.match(lease, { resource: 'path:src/api.ts', token: Number })
    const renewed = (await run(['lock', 'renew', 'path:src/api.ts', String(lease.token), '--ttl', '60000'])).data
    t.ok(renewed.expiresAt > lease.expiresAt, 'renew extends the lease')
    t.same((await run(['lock', 'list'])).data.map((l: { resource: string }) => l.resource).sort(), [`issue:${design.id}`, 'path:src/api.ts'])
    t.same((await run(['lock', 'release', 'path:src/api.ts', String(lease.token)])).data, { resource: 'path:src/api.ts', token: lease.token, released: true })
    await run(['lock', 'renew', 'path:src/api.ts', String(lease.token)], 'LEASE_LOST')

    const page = (await run(['events', '--since-seq', '2', '--limit', '3'])).data
    t.same(page.map((e: { seq: number }) => e.seq), [2, 3, 4], 'a page of the log')
    const follow = await cli(['events', '--follow', '--since-seq', '1', '--limit', '2', '--json', '-C', repo, ...extra], environment)
    const lines = follow.stdout.trim().split('\n').map((l) => JSON.parse(l))
    t.equal(follow.code, 0)
    t.same(lines.map((l) => [l.ok, l.data.seq ?? l.data.end]), [[true, 1], [true, 2], [true, true]], 'follow: one envelope per event, then the end')
    t.same(lines[2].data, { end: true, count: 2, nextSeq: 3 })

    await run(['issue', 'show', 'ffff0000'], 'NOT_FOUND')
    await run(['issue', 'show', 'zz'], 'INVALID_ARGUMENT')
    await run(['issue', 'comment', design.id, ''], 'INVALID_ARGUMENT')
    const doctor = (await run(['doctor'])).data
    t.match(doctor, { healthy: true, mode: mode === 'daemon' ? 'daemon' : 'embedded' })
  })
}

t.test('both modes gave the same transcript (commands, exit codes, envelope shapes)', async (t) => {
  t.same(transcripts.embedded, transcripts.daemon)
  t.equal((transcripts.daemon ?? []).length, 30, 'every step of the suite is in the transcript')
})
