/**
 * A repository whose `.git/cairn` is on a read-only file system (a real
 * read-only bind mount) can still be read: list, ready, show, history and the
 * event log answer through the CLI, embedded and through the daemon.
 * Writes are refused with STORE_READ_ONLY; nothing fails INTERNAL and no
 * actor restarts.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime } from '../../lib/index.ts'
import { EXIT_CODES } from '../../lib/cli/exit-codes.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { cli, cliProcess, stopDaemonOf } from '../integration/lib/daemon/daemon-helpers.ts'

t.test('a read-only store reads, embedded and through the daemon, and refuses writes with STORE_READ_ONLY', async (t) => {
  const box = sandbox()
  const repo = box.repo('ro')
  const store = join(repo, '.git', 'cairn')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  const r = await rt.repo(repo, { agent: 'a' })
  const { id } = await r.issues.create({ title: 'readable', body: 'from a read-only disk' })
  await r.issues.comment(id, 'still here')
  await r.wal.flush()
  await rt.stop()

  execFileSync('mount', ['--bind', store, store])
  let mounted = true
  const unmount = (): void => { if (mounted) { execFileSync('umount', [store]); mounted = false } }
  t.teardown(async () => { await stopDaemonOf(box.home); unmount(); box.cleanup() })
  execFileSync('mount', ['-o', 'remount,bind,ro', store])

  for (const mode of ['embedded', 'daemon'] as const) {
    // Embedded in its own process: lmdb-js never unmaps a read-only environment that has no lock file, so the mount would stay busy.
    const cairn = (...args: string[]) => mode === 'embedded'
      ? cliProcess(['--no-daemon', '--json', '--home', box.home, '-C', repo, ...args], { cwd: repo, env: { ...process.env, CAIRN_AGENT: 'a' }, timeoutMs: 120_000 })
      : cli(['--json', '--home', box.home, '-C', repo, ...args], { ...process.env, CAIRN_AGENT: 'a' })
    const list = await cairn('issue', 'list')
    t.match(JSON.parse(list.stdout), { ok: true, data: [{ id, title: 'readable' }] }, `${mode}: issue list reads (${list.stdout.trim()} ${list.stderr.slice(-200)})`)
    const ready = await cairn('issue', 'ready')
    t.match(JSON.parse(ready.stdout), { ok: true, data: [{ id }] }, `${mode}: issue ready reads, claims included (${ready.stdout.trim()} ${ready.stderr.slice(-200)})`)
    const show = await cairn('issue', 'show', id.slice(0, 8))
    t.match(JSON.parse(show.stdout), { ok: true, data: { body: 'from a read-only disk', comments: [{ body: 'still here' }] } }, `${mode}: issue show reads`)
    const write = await cairn('issue', 'comment', id.slice(0, 8), 'refused')
    t.match(JSON.parse(write.stdout), { ok: false, error: { code: 'STORE_READ_ONLY' } }, `${mode}: a write is refused STORE_READ_ONLY (${write.stdout.trim()})`)
    t.equal(write.code, EXIT_CODES.STORE_READ_ONLY, `${mode}: with its exit code`)
    if (mode === 'daemon') {
      const events = await cairn('events', '--limit', '10')
      t.equal(JSON.parse(events.stdout).ok, true, `${mode}: the event log reads, after the refusal too`)
    }
  }
  await stopDaemonOf(box.home)
  unmount()
  const rw = await createRuntime({ home: box.home, threads: 1 })
  const back = await rw.repo(repo, { agent: 'a' })
  await back.issues.comment(id, 'writable again')
  t.equal((await back.issues.show(id)).comments.length, 2, 'once writable again, writes land')
  await rw.stop()
})
