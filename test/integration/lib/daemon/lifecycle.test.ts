/**
 * The daemon as a process: one per home, files and permissions, status by
 * round trip, stale files replaced, graceful SIGTERM, idle shutdown.
 */
import t from 'tap'
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { connect } from '../../../../lib/daemon/client.ts'
import { daemonPaths } from '../../../../lib/daemon/paths.ts'
import { pidAlive } from '../../../../lib/daemon/lock-file.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, daemonProcess, envelope, eventually, stopDaemonOf, within } from './daemon-helpers.ts'

function box(t: { teardown(fn: () => unknown): void }) {
  const b = sandbox()
  t.teardown(async () => { await stopDaemonOf(b.home); b.cleanup() })
  return b
}

t.test('one daemon per home: files, modes, lock record; a second one refuses with BUSY', async (t) => {
  const b = box(t)
  const d = daemonProcess(t, b.home)
  const ready = await d.ready
  t.match(ready, { ok: true, data: { pid: d.pid, replacedStale: false } }, 'the foreground daemon reports itself')
  const paths = daemonPaths(b.home)
  t.equal(statSync(b.home).mode & 0o777, 0o700, 'home is 0700')
  t.ok(statSync(paths.socket).isSocket(), 'the socket lives in the home')
  t.equal(statSync(paths.socket).mode & 0o777, 0o600, 'socket is 0600')
  const lock = JSON.parse(readFileSync(paths.lock, 'utf8'))
  t.same(Object.keys(lock).sort(), ['heartbeatAt', 'pid', 'protocol', 'socket', 'startedAt'], 'lock file fields')
  t.match(lock, { pid: d.pid, protocol: 2, socket: paths.socket })
  t.ok(lock.heartbeatAt >= lock.startedAt, 'heartbeat at or after start')

  const second = daemonProcess(t, b.home)
  const refused = await second.ready
  t.match(refused, { ok: false, error: { code: 'BUSY' } }, 'a second foreground daemon refuses')
  t.match(refused.error?.message, new RegExp(`pid ${d.pid}`), 'naming the running one')
  t.equal((await second.exited).code, 11, 'with BUSY\'s exit code')
  const detached = await cli(['daemon', 'start', '--json', '--home', b.home], process.env)
  t.equal(detached.code, 11, 'a detached start refuses too')
  t.match(envelope(detached), { ok: false, error: { code: 'BUSY' } })

  const status = await cli(['daemon', 'status', '--json', '--home', b.home], process.env)
  t.equal(status.code, 0)
  t.match(envelope(status), { ok: true, data: { pid: d.pid, protocol: 2, home: b.home } }, 'status is the running daemon\'s own answer')
  t.ok(pidAlive(d.pid), 'the first daemon is untouched')
})

t.test('status answers by round trip: a lock file naming a live process is not a daemon', async (t) => {
  const b = box(t)
  mkdirSync(b.home, { recursive: true, mode: 0o700 })
  const paths = daemonPaths(b.home)
  writeFileSync(paths.lock, JSON.stringify({ pid: process.pid, startedAt: Date.now(), protocol: 1, heartbeatAt: Date.now(), socket: paths.socket }))
  writeFileSync(paths.socket, 'not a socket')
  const status = await cli(['daemon', 'status', '--json', '--home', b.home], process.env)
  t.equal(status.code, 10, 'UNAVAILABLE\'s exit code')
  t.match(envelope(status), { ok: false, error: { code: 'UNAVAILABLE', message: /no daemon is running/ } })

  const doctor = await cli(['doctor', '--json', '--home', b.home, '-C', b.dir], process.env)
  t.equal(doctor.code, 30, 'doctor reports the stale files as a problem')
  t.match(envelope(doctor), { ok: true, data: { healthy: false, checks: [{ name: 'home', ok: true }, { name: 'daemon-files', ok: false }] } })
  const fixed = await cli(['doctor', '--fix', '--json', '--home', b.home, '-C', b.dir], process.env)
  t.equal(fixed.code, 0, 'doctor --fix repairs them')
  t.match(envelope(fixed), { ok: true, data: { healthy: true, checks: [{}, { name: 'daemon-files', fixed: true }] } })
  t.notOk(existsSync(paths.lock) || existsSync(paths.socket), 'stale files removed')
})

t.test('stale lock and socket left by a dead daemon are detected and replaced', async (t) => {
  const b = box(t)
  mkdirSync(b.home, { recursive: true, mode: 0o700 })
  const paths = daemonPaths(b.home)
  // A live pid that is not a daemon (this test), and a socket path nobody answers on.
  writeFileSync(paths.lock, JSON.stringify({ pid: process.pid, startedAt: 1, protocol: 1, heartbeatAt: 1, socket: paths.socket }))
  writeFileSync(paths.socket, '')
  const d = daemonProcess(t, b.home)
  t.match(await d.ready, { ok: true, data: { pid: d.pid, replacedStale: true } }, 'the new daemon replaced the stale files')
  t.equal(JSON.parse(readFileSync(paths.lock, 'utf8')).pid, d.pid, 'the lock file is the new daemon\'s')
  const c = await connect(b.home)
  t.equal(c.hello.pid, d.pid, 'and the socket answers for it')
  c.close()
})

t.test('SIGTERM: in-flight requests are answered, acknowledged writes are durable, files removed', async (t) => {
  const b = box(t)
  const repo = b.repo('graceful')
  const d = daemonProcess(t, b.home)
  await d.ready
  const c = await connect(b.home)
  const issue = await c.request<{ id: string }>('issues.create', { repo, args: { title: 'g' } })
  const writes = Array.from({ length: 200 }, (_, i) => c.request('issues.comment', { repo, args: { id: issue.id, body: `c${i}`, opId: `g-${i}` } })
    .then(() => 'ok', (err: { code: string }) => err.code))
  await within(writes[0]!, 5000, null)
  d.kill('SIGTERM')
  const outcomes = await Promise.all(writes)
  const exit = await d.exited
  t.equal(exit.code, 0, 'the daemon exits 0 after SIGTERM')
  const counts = outcomes.reduce<Record<string, number>>((m, o) => ({ ...m, [o]: (m[o] ?? 0) + 1 }), {})
  t.ok(Object.keys(counts).every((k) => k === 'ok' || k === 'STOPPED' || k === 'UNAVAILABLE'), `every request answered ok, STOPPED or cut off by the close: ${JSON.stringify(counts)}`)
  t.ok(counts.ok! > 0, 'writes received before the signal were finished')
  t.notOk(existsSync(daemonPaths(b.home).socket), 'socket removed')
  t.notOk(existsSync(daemonPaths(b.home).lock), 'lock file removed')
  const shown = await cli(['issue', 'show', issue.id, '--json', '--no-daemon', '--home', b.home, '-C', repo], process.env)
  const comments = (envelope(shown).data as { comments: { body: string }[] }).comments.map((x) => x.body)
  const acked = outcomes.flatMap((o, i) => (o === 'ok' ? [`c${i}`] : []))
  t.same(acked.filter((x) => !comments.includes(x)), [], 'every acknowledged comment survived the stop')
})

t.test('idle shutdown from the config file', async (t) => {
  const b = box(t)
  mkdirSync(b.home, { recursive: true, mode: 0o700 })
  writeFileSync(daemonPaths(b.home).config, JSON.stringify({ daemon: { idleTimeoutSec: 1 } }))
  const d = daemonProcess(t, b.home)
  await d.ready
  const c = await connect(b.home)
  t.match(await c.request('daemon.status'), { idleTimeoutSec: 1 }, 'the config file set the timeout')
  c.close()
  const exit = await within(d.exited, 20_000, 'still running')
  t.match(exit, { code: 0 }, 'the daemon stopped by itself once idle')
  t.notOk(existsSync(daemonPaths(b.home).socket), 'and removed its socket')
})

t.test('a bad config file or flag is refused with INVALID_ARGUMENT', async (t) => {
  const b = box(t)
  mkdirSync(b.home, { recursive: true, mode: 0o700 })
  writeFileSync(daemonPaths(b.home).config, JSON.stringify({ daemon: { idleTimeoutSec: 'soon' } }))
  const d = daemonProcess(t, b.home)
  t.match(await d.ready, { ok: false, error: { code: 'INVALID_ARGUMENT', message: /idleTimeoutSec/ } })
  t.equal((await d.exited).code, 2)
  writeFileSync(daemonPaths(b.home).config, '{}')
  const flag = await cli(['daemon', 'start', '--foreground', '--idle-timeout', '-5', '--json', '--home', b.home], process.env)
  t.equal(flag.code, 2)
  t.match(envelope(flag), { ok: false, error: { code: 'INVALID_ARGUMENT', message: /idle-timeout/ } })
  await eventually(() => !existsSync(daemonPaths(b.home).socket), 1000)
})
