/**
 * Claims and leases of agents that reach Cairn through short CLI calls, on
 * a real daemon (started by the first command) and real time:
 *
 * - an agent that keeps working keeps its claim past the claim's TTL:
 *   every command renews what the agent holds;
 * - one that goes silent loses it after TTL + grace, and its next command
 *   says so: a CLAIM_LAPSED warning and exit 32;
 * - a claim tied to a process (`--pid`) stays held while the process lives
 *   and lapses once it is gone;
 * - `--op-id` makes a retried claim answer the same issue; "nothing to
 *   claim" exits 31; `ready` leaves claimed issues out; `close --reason`
 *   ends the claim;
 * - leases belong to their holders: another agent's release or renew is
 *   LEASE_NOT_HELD (exit 27); `lock break` is recorded and the holder's
 *   next renewal is LEASE_LOST naming it;
 * - people see agent names and expiry as ISO time and time left.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime } from '../../../../lib/index.ts'
import { EXIT_CODES, EXIT_CLAIM_LAPSED, EXIT_NOTHING_TO_CLAIM } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope, stopDaemonOf } from '../daemon/daemon-helpers.ts'

const TTL = 3_000
const GRACE = 300
/** Past a claim's TTL and grace, with room for a loaded machine. */
const LAPSE_MS = TTL + GRACE + 1_200
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('claims of CLI agents: liveness, retries, ready, close, holders, breaks, output', async (t) => {
  const box = sandbox()
  const repo = box.repo('board')
  const environment = { ...process.env, CAIRN_HOME: box.home }
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const run = (agent: string, ...args: string[]) => cli([...args, '--agent', agent, '-C', repo], environment)
  const json = async (agent: string, ...args: string[]) => {
    const r = await run(agent, ...args, '--json')
    return { ...r, env: envelope(r) as { ok: boolean; data: any; error?: { code: string; message: string }; warnings?: any[] } }
  }

  const ids: string[] = []
  for (const title of ['X', 'Y', 'Z', 'W', 'V']) ids.push((await json('setup', 'issue', 'create', title)).env.data.id)
  const [X, Y, Z, W] = ids as [string, string, string, string]
  // A short grace, set through another runtime (its own home) on the same repository: one lease table.
  const other = await createRuntime({ home: join(box.dir, 'other-home'), threads: 1 })
  await (await other.repo(repo)).locks.setGrace(GRACE)
  await other.stop()

  // An agent that keeps working keeps its claim.
  const a = await json('agent-a', 'issue', 'claim', '--ttl', String(TTL))
  t.match(a.env.data, { issue: { id: X }, lease: { resource: `issue:${X}`, issueId: X, leaseId: /^[0-9a-f]{32}$/ }, duplicate: false })
  for (let i = 0; i < 4; i++) {
    await sleep(1_000)
    t.equal((await run('agent-a', 'issue', 'comment', X, `step ${i}`)).code, 0, `agent-a works on (command ${i})`)
  }
  const b = await json('agent-b', 'issue', 'claim', '--ttl', String(TTL))
  t.equal(b.env.data.issue.id, Y, 'past its TTL, agent-a still holds its claim: agent-b gets the next issue')
  t.equal((await json('agent-b', 'lock', 'status', `issue:${X}`)).env.data.lease.holder.agent, 'agent-a')

  // An agent that goes silent loses its claims and is told on its next command.
  const z = await json('agent-c', 'issue', 'claim', '--ttl', String(TTL))
  t.equal(z.env.data.issue.id, Z)
  await sleep(LAPSE_MS)
  const ready = await json('agent-d', 'issue', 'ready')
  t.ok(ready.env.data.some((i: { id: string }) => i.id === Z), 'its issue is ready again for others')
  const told = await run('agent-c', 'issue', 'list')
  t.equal(told.code, EXIT_CLAIM_LAPSED, 'the silent agent\'s next command exits 32')
  t.match(told.stderr, new RegExp(`cairn: warning: CLAIM_LAPSED: the claim on issue ${Z}`), 'with a coded warning on stderr')
  t.match(told.stdout, /X/, 'and still does its work')
  const again = await json('agent-c', 'issue', 'list')
  t.equal(again.code, 0, 'a lapse is told once')
  t.equal(again.env.warnings, undefined)

  // A claim tied to a process is kept while it lives.
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.teardown(() => { sleeper.kill('SIGKILL') })
  const w = await json('agent-e', 'issue', 'claim', '--ttl', String(TTL), '--pid', String(sleeper.pid))
  const E = w.env.data.issue.id as string
  t.equal(E, X, 'agent-e takes the first lapsed issue (agent-a went silent too)')
  await sleep(LAPSE_MS)
  const held = (await json('agent-d', 'lock', 'status', `issue:${E}`)).env.data.lease
  t.match(held, { holder: { agent: 'agent-e' }, live: true }, 'past its TTL, the daemon kept it for the living process')
  sleeper.kill('SIGKILL')
  await sleep(LAPSE_MS + 600)
  t.equal((await json('agent-d', 'lock', 'status', `issue:${E}`)).env.data.lease?.live ?? false, false, 'the process gone, the claim lapsed')
  const eTold = await json('agent-e', 'issue', 'list')
  t.equal(eTold.code, EXIT_CLAIM_LAPSED)
  t.match(eTold.env, { ok: true, warnings: [{ code: 'CLAIM_LAPSED', issueId: E }] }, 'JSON: the envelope carries the warning')
  t.match((await json('agent-e', 'issue', 'claim', '--pid', '999999999')).env.error, { code: 'INVALID_ARGUMENT' }, 'no such process: refused')

  // Retries, ready, close.
  const k1 = await json('agent-f', 'issue', 'claim', '--ttl', '60000', '--op-id', 'k1')
  const k1again = await json('agent-f', 'issue', 'claim', '--ttl', '60000', '--op-id', 'k1')
  t.equal(k1again.env.data.issue.id, k1.env.data.issue.id, 'a retried claim answers the same issue')
  t.equal(k1again.env.data.duplicate, true)
  const readyNow = (await json('agent-d', 'issue', 'ready')).env.data.map((i: { id: string }) => i.id)
  t.notOk(readyNow.includes(k1.env.data.issue.id), 'ready leaves the claimed issue out')
  const withClaimed = await run('agent-d', 'issue', 'ready', '--include-claimed')
  t.match(withClaimed.stdout, new RegExp(`claimed by agent-f until \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z \\(in [0-9dhms ]+\\)`), 'or shows who holds it, until when and how long is left')
  const closed = await json('agent-f', 'issue', 'close', k1.env.data.issue.id.slice(0, 8), '--reason', 'shipped')
  t.match(closed.env.data, { released: true }, 'closing ends the claim')
  t.notOk((await json('agent-d', 'lock', 'list')).env.data.some((l: { resource: string }) => l.resource === `issue:${k1.env.data.issue.id}`), 'its lease is gone')
  const history = (await json('agent-d', 'issue', 'history', k1.env.data.issue.id)).env.data
  t.match(history.at(-2).event.kind, { type: 'CommentAdded', body: 'shipped' }, 'the reason is recorded')
  // Claim everything left, then one more.
  for (let i = 0; i < 10 && (await json('agent-g', 'issue', 'claim', '--ttl', '60000')).env.data !== null; i++) { /* claimed one */ }
  const none = await json('agent-i', 'issue', 'claim')
  t.same({ code: none.code, env: none.env }, { code: EXIT_NOTHING_TO_CLAIM, env: { ok: true, data: null } }, 'nothing to claim: exit 31, data null')
  t.equal((await run('agent-i', 'issue', 'claim')).stdout, 'nothing to claim\n')

  // Leases belong to their holders.
  const lease = (await json('alice', 'lock', 'acquire', 'path:src/api.ts', '--ttl', '60000')).env.data
  const bob = await json('bob', 'lock', 'release', 'path:src/api.ts', String(lease.token))
  t.same({ code: bob.code, err: bob.env.error?.code }, { code: EXIT_CODES.LEASE_NOT_HELD, err: 'LEASE_NOT_HELD' }, 'bob cannot release alice\'s lease (exit 27)')
  const mallory = await json('mallory', 'lock', 'renew', 'path:src/api.ts', String(lease.token), '--ttl', '600000')
  t.equal(mallory.env.error?.code, 'LEASE_NOT_HELD', 'nor extend it')
  t.equal((await json('bob', 'lock', 'release', 'path:src/api.ts')).env.error?.code, 'LEASE_NOT_HELD', 'not even by resource alone')
  const renewed = await json('alice', 'lock', 'renew', 'path:src/api.ts', '--ttl', '120000')
  t.ok(renewed.env.data.expiresAt > lease.expiresAt, 'alice renews by resource alone')
  const list = await run('carol', 'lock', 'list')
  t.match(list.stdout, /path:src\/api\.ts {2}token \d+ {2}held by alice {2}expires \d{4}-\d\d-\d\dT[0-9:.]+Z \(in (1m \d+s|2m)\)/, 'people see the agent, the ISO expiry and the time left')
  const broke = await json('ops', 'lock', 'break', 'path:src/api.ts', '--reason', 'alice went home')
  t.match(broke.env.data, { token: lease.token, by: { agent: 'ops' }, reason: 'alice went home' })
  const after = await json('alice', 'lock', 'renew', 'path:src/api.ts')
  t.same({ code: after.code, err: after.env.error?.code }, { code: EXIT_CODES.LEASE_LOST, err: 'LEASE_LOST' })
  t.match(after.env.error?.message, /broken by ops/, 'naming the break')

  // People's output names agents, not actor ids.
  const shown = await run('carol', 'issue', 'show', X)
  t.match(shown.stdout, /author: {4}setup/)
  t.match(shown.stdout, /--- agent-a\nstep 0/, 'comment authors by name')
  const hist = await run('carol', 'issue', 'history', X)
  t.match(hist.stdout, /CommentAdded {2}by agent-a/)
  t.notMatch(hist.stdout, /by [0-9a-f]{8}\b/, 'no actor hex where a name is known')

  const hb = await json('agent-g', 'heartbeat')
  t.match(hb.env.data, { holds: [{ resource: /^issue:/ }], lapsed: [], failed: [] }, 'heartbeat renews and lists what the agent holds')
  t.equal(W.length, 32, 'five issues made the board')
})

t.test('an embedded CLI keeps holds between its processes too; --pid needs the daemon', async (t) => {
  const box = sandbox()
  const repo = box.repo('solo')
  const environment = { ...process.env, CAIRN_HOME: box.home }
  t.teardown(() => box.cleanup())
  const json = async (...args: string[]) => envelope(await cli([...args, '--agent', 'solo', '-C', repo, '--json', '--no-daemon'], environment)) as { ok: boolean; data: any; error?: { code: string } }
  const id = (await json('issue', 'create', 'only')).data.id
  t.match((await json('issue', 'claim', '--pid', String(process.pid))).error, { code: 'INVALID_ARGUMENT' }, '--pid without a daemon: refused, naming it')
  t.equal((await json('issue', 'claim', '--ttl', '60000')).data.issue.id, id)
  const closed = await json('issue', 'close', id)
  t.match(closed.data, { released: true }, 'a later process released the claim by its hold')
  t.equal((await json('lock', 'list')).data.length, 0)
})
