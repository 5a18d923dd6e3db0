/**
 * Reports made on a repository's thread (the WAL drain, sync runs, durable
 * timers) reach subscribers of the main thread's diagnostics channels, with
 * the repository and the reporting actor named: the actors run on worker
 * threads, where nobody subscribes.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime, CHANNELS } from '../../../../lib/index.ts'
import { repoHooks } from '../../../../lib/testing/index.ts'
import { captureChannel, eventually, sandbox } from '../../../helpers/tmp-repos.ts'

type Report = Record<string, unknown>

t.test('WAL rounds, sync runs and timers are published on the main thread', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const drained = captureChannel(CHANNELS.walDrained, (fn) => t.teardown(fn)) as Report[]
  const walFailed = captureChannel(CHANNELS.walFailed, (fn) => t.teardown(fn)) as Report[]
  const runs = captureChannel(CHANNELS.syncRun, (fn) => t.teardown(fn)) as Report[]
  const syncFailed = captureChannel(CHANNELS.syncFailed, (fn) => t.teardown(fn)) as Report[]
  const timers = captureChannel(CHANNELS.timerFired, (fn) => t.teardown(fn)) as Report[]
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  const path = box.repo('r')
  const repo = await rt.repo(path)

  await repo.issues.create({ title: 'drained' })
  await repo.wal.flush()
  await eventually(() => drained.length > 0)
  t.match(drained[0], { repo: repo.id, actor: `repo-worker:${repo.id}`, events: 1, commits: 1 }, 'a drained round names repository, actor and counts')

  // A held ref lock makes the next round fail; its events stay in the outbox.
  const lock = join(path, '.git', 'refs', 'cairn', 'wal', `${repo.actor}.lock`)
  writeFileSync(lock, '')
  await repo.issues.create({ title: 'waits' })
  await t.rejects(repo.wal.flush())
  await eventually(() => walFailed.length > 0)
  t.match(walFailed[0], { repo: repo.id, actor: `repo-worker:${repo.id}`, code: String, message: String, retryAt: Number, pending: 1 })
  rmSync(lock)
  await repo.wal.flush()
  t.equal((await repo.events.stats()).outbox, 0, 'the failed round\'s events reached git later')

  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  await repo.sync({ remote })
  await eventually(() => runs.length > 0)
  t.match(runs[0], { repo: repo.id, actor: `sync:${repo.id}`, remote, kind: 'remote', pushed: 1, pulled: 0 })
  await t.rejects(repo.sync({ remote: join(box.dir, 'no-such-remote') }), { code: 'UNREACHABLE' })
  await eventually(() => syncFailed.length > 0)
  t.match(syncFailed[0], { repo: repo.id, actor: `sync:${repo.id}`, code: 'UNREACHABLE', message: String })

  await repoHooks(repo).timers.schedule('soon', Date.now() + 50, null)
  await eventually(() => timers.length > 0)
  t.match(timers[0], { repo: repo.id, actor: `repo-worker:${repo.id}`, timer: 'soon', deadline: Number })
})

t.test('a sync run\'s report never carries the credentials of its remote', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const failed = captureChannel(CHANNELS.syncFailed, (fn) => t.teardown(fn)) as Report[]
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(box.repo('r'))
  // Nothing listens on port 1 of localhost: the run fails at once.
  await t.rejects(repo.sync({ remote: 'http://agent:s3cret-token@127.0.0.1:1/r.git' }))
  await eventually(() => failed.length > 0)
  t.notMatch(JSON.stringify(failed), /s3cret-token/, 'the token is in no report')
  t.match(failed[0], { code: String })
})
