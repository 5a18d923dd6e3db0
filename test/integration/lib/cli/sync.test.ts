/**
 * `cairn sync` end to end through a real bare git remote: progress streams
 * over the socket as frames before the end reply, the CLI pushes from one
 * clone and pulls into another (daemon and embedded), and a bad remote is a
 * coded error with its exit code.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { connect } from '../../../../lib/daemon/client.ts'
import { EXIT_CODES } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope, stopDaemonOf } from '../daemon/daemon-helpers.ts'

t.test('sync pushes, pulls and streams progress', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  const a = box.repo('a')
  const b = box.repo('b')
  for (const r of [a, b]) execFileSync('git', ['-C', r, 'remote', 'add', 'origin', remote])
  const env = { ...process.env, CAIRN_HOME: box.home }

  const created = envelope(await cli(['issue', 'create', 'travels', '--json', '-C', a], env)).data as { id: string }
  const pushed = await cli(['sync', '--json', '-C', a], env)
  t.equal(pushed.code, 0, `sync exits 0 (${pushed.stdout})`)
  t.match(envelope(pushed), { ok: true, data: { remote: 'origin', pushed: Number } })
  t.ok((envelope(pushed).data as { pushed: number }).pushed >= 1, 'A pushed its WAL ref')

  // Over the socket: progress frames, then the reply that ends the stream.
  const c = await connect(box.home)
  t.teardown(() => c.close())
  const frames: string[] = []
  const report = await c.request<{ pulled: number }>('sync', { repo: b, args: { remote: 'origin', push: false } }, {
    onItem: (p) => frames.push(`progress:${(p as { phase: string }).phase}`),
  }).then((r) => { frames.push('end'); return r })
  t.ok(frames.length >= 2 && frames.at(-1) === 'end' && frames.slice(0, -1).every((f) => f.startsWith('progress:')), `progress frames then the end frame: ${frames.join(' ')}`)
  t.ok(report.pulled >= 1, 'B pulled the event')
  t.same((envelope(await cli(['issue', 'list', '--json', '-C', b], env)).data as { id: string }[]).map((i) => i.id), [created.id], 'B sees the issue')

  const refused = await cli(['sync', '--no-daemon', '--no-push', '--json', '-C', b], env)
  t.match(envelope(refused), { ok: false, error: { code: 'BUSY', message: /a daemon serves/ } }, '--no-daemon will not share a home with a running daemon')
  t.equal(refused.code, EXIT_CODES.BUSY)
  c.close()
  t.equal((await cli(['daemon', 'stop', '--home', box.home], env)).code, 0)
  const embedded = await cli(['sync', '--no-daemon', '--no-push', '--json', '-C', b], env)
  t.match(envelope(embedded), { ok: true, data: { pulled: 0 } }, 'embedded sync works too (nothing new)')

  const bad = await cli(['sync', '--remote', join(box.dir, 'nowhere'), '--json', '-C', a], env)
  const e = envelope(bad)
  t.equal(e.ok, false, `an unreachable remote fails (${JSON.stringify(e)})`)
  t.equal(bad.code, EXIT_CODES[e.error!.code as keyof typeof EXIT_CODES], 'with the exit code of its error code')
})

t.test('lock acquire --remote leases on the git remote; the daemon that granted it renews and releases it', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  const a = box.repo('a')
  const env = { ...process.env, CAIRN_HOME: box.home }
  const run = async (args: string[]) => envelope(await cli([...args, '--json', '-C', a], env))
  const lease = (await run(['lock', 'acquire', 'path:src', '--ttl', '60000', '--remote', remote])).data as { token: number }
  t.equal(lease.token, 1, 'the first epoch of a new chain')
  const refs = execFileSync('git', ['--git-dir', remote, 'for-each-ref', '--format=%(refname)', 'refs/cairn/leases/'], { encoding: 'utf8' }).trim()
  t.match(refs, /^refs\/cairn\/leases\/[0-9a-f]{16}$/, 'the lease is a ref on the remote')
  t.match(await run(['lock', 'status', 'path:src', '--remote', remote]), { ok: true, data: { lease: { live: true } } }, 'status reads the remote')
  t.match(await run(['lock', 'renew', 'path:src', '1', '--ttl', '60000']), { ok: true, data: { token: 1 } }, 'renewed through the same daemon')
  t.match(await run(['lock', 'release', 'path:src', '1']), { ok: true, data: { released: true } })
  t.match(await run(['lock', 'status', 'path:src', '--remote', remote]), { ok: true, data: { lease: { live: false } } }, 'released on the remote')
  t.match(await run(['lock', 'acquire', 'path:src', '--ttl', '1000', '--remote', '']), { ok: false, error: { code: 'INVALID_ARGUMENT' } }, 'an empty remote is refused')
})
