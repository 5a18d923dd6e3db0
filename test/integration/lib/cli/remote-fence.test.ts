/**
 * A remote lease taken through the CLI fences issue writes through the CLI
 * (issue 19): `cairn lock acquire issue:<id> --remote <bare>` keeps the lease
 * as the agent's hold in the daemon, and `--lease <its token>` on a write is
 * checked as that remote lease (valid, on exactly that issue), not refused as
 * an unknown local token. A token on another issue is LEASE_LOST.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { EXIT_CODES } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope, stopDaemonOf } from '../daemon/daemon-helpers.ts'

t.test('a remote lease token from the CLI fences the CLI\'s issue writes', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  const repo = box.repo('a')
  const env = { ...process.env, CAIRN_HOME: box.home }
  const run = (...args: string[]) => cli([...args, '--json', '-C', repo], env)

  const { id } = envelope(await run('issue', 'create', 'fenced remotely')).data as { id: string }
  const { id: other } = envelope(await run('issue', 'create', 'another')).data as { id: string }
  const lease = envelope(await run('lock', 'acquire', `issue:${id}`, '--ttl', '60000', '--remote', remote)).data as { token: number }
  const foreign = envelope(await run('lock', 'acquire', `issue:${other}`, '--ttl', '60000', '--remote', remote)).data as { token: number }
  t.ok(Number.isSafeInteger(lease.token), 'the remote lease is granted with a token')

  const updated = await run('issue', 'update', id, '--title', 'fenced remotely, started', '--lease', String(lease.token))
  t.equal(updated.code, 0, `the write with the remote token is accepted (${updated.stdout})`)
  const commented = await run('issue', 'comment', id.slice(0, 8), 'by prefix', '--lease', String(lease.token))
  t.equal(commented.code, 0, 'naming the issue by a prefix too')
  t.equal((envelope(await run('issue', 'show', id)).data as { title: string }).title, 'fenced remotely, started')

  const closed = await run('issue', 'close', id, '--lease', String(lease.token))
  t.equal(closed.code, 0, 'and the close with it')
  t.equal((envelope(await run('issue', 'show', id)).data as { state: string }).state, 'closed')

  // A remote token held on another issue does not cover this one.
  const { id: third } = envelope(await run('issue', 'create', 'unleased')).data as { id: string }
  const wrong = await run('issue', 'update', third, '--title', 'not under that lease', '--lease', String(foreign.token))
  t.match(envelope(wrong), { ok: false, error: { code: 'LEASE_LOST' } }, 'a remote token of another issue is LEASE_LOST')
  t.equal(wrong.code, EXIT_CODES.LEASE_LOST)
  t.equal((envelope(await run('issue', 'show', third)).data as { title: string }).title, 'unleased', 'and wrote nothing')
})
