/**
 * Every way a remote can go wrong is an outcome, never a crash and never a
 * lost event: no cairn refs, unreachable, authentication, a rejected push,
 * a ref rewritten by someone else, a corrupt commit (quarantined: the run
 * goes on, quarantine.test.ts has more); failures back off on
 * the runtime clock and keep their reason for status.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { createRuntime, type Repo, type Runtime } from '../../../../lib/index.ts'
import { ManualClock } from '../../../../lib/testing/index.ts'
import { sandbox, type Sandbox } from '../../../helpers/tmp-repos.ts'
import { assertCoded } from '../../../helpers/coded-error.ts'
import { freePort } from '../../../helpers/git-daemon.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
const T0 = 1_800_000_000_000

async function open(t: Test, box: Sandbox, name: string, opts: { actor?: string; clock?: ManualClock } = {}): Promise<{ rt: Runtime; repo: Repo; path: string }> {
  const path = box.repo(name)
  const rt = await createRuntime({ threads: 1, home: join(box.dir, `home-${name}`), ...(opts.clock ? { clock: opts.clock, watchdog: false } : {}) })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(path, opts.actor ? { actor: opts.actor } : { agent: name })
  return { rt, repo, path }
}

function bare(box: Sandbox, name: string): string {
  const path = join(box.dir, name)
  execFileSync('git', ['init', '-q', '--bare', path])
  return path
}

t.test('a remote with no cairn refs: nothing to pull, our refs are pushed, its branches untouched', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const remote = bare(box, 'plain.git')
  const work = box.repo('work')
  git(work, '-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-q', '--allow-empty', '-m', 'init')
  git(work, 'push', '-q', remote, 'HEAD:refs/heads/main')
  const main = git(remote, 'rev-parse', 'refs/heads/main')
  const { repo } = await open(t, box, 'a')
  await repo.issues.create({ title: 'x' })
  const r = await repo.sync({ remote })
  t.match(r, { pulled: 0, pushed: 1, diverged: [] })
  t.equal(git(remote, 'rev-parse', 'refs/heads/main'), main, 'the branch is untouched')
  t.equal(git(remote, 'for-each-ref', '--format=%(refname)', 'refs/cairn/'), `refs/cairn/wal/${repo.actor}`)
})

t.test('unreachable remotes fail UNREACHABLE, back off on the runtime clock, and recover', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const clock = new ManualClock(T0)
  const { repo } = await open(t, box, 'a', { clock })
  await repo.issues.create({ title: 'kept' })
  const missing = join(box.dir, 'not-yet.git')
  assertCoded(t, await repo.sync({ remote: `file://${missing}` }).catch((e) => e), missing, 'UNREACHABLE', null, 'a path that is no repository')
  let status = await repo.syncStatus()
  t.match(status, { state: 'backoff', failures: 1, backoffMs: 100, lastError: { code: 'UNREACHABLE' } }, 'status keeps the reason')

  let settled = false
  const waiting = repo.sync({ remote: `file://${missing}` }).catch((e) => e).finally(() => { settled = true })
  await repo.syncStatus() // a round trip through the actor: the request is queued by now
  await clock.advance(99)
  await repo.syncStatus()
  t.equal(settled, false, 'a request during backoff waits for it')
  await clock.advance(1)
  assertCoded(t, await waiting, missing, 'UNREACHABLE', null, 'then runs, and fails again')
  status = await repo.syncStatus()
  t.match(status, { state: 'backoff', failures: 2, backoffMs: 200 }, 'the wait doubles')

  const port = await freePort() // nothing listens there
  await clock.advance(200)
  assertCoded(t, await repo.sync({ remote: `git://127.0.0.1:${port}/x.git` }).catch((e) => e), port, 'UNREACHABLE', null, 'a closed git:// port')
  t.equal((await repo.syncStatus()).backoffMs, 400)

  execFileSync('git', ['init', '-q', '--bare', missing])
  await clock.advance(400)
  const ok = await repo.sync({ remote: `file://${missing}` })
  t.equal(ok.pushed, 1, 'once the remote exists the sync succeeds')
  t.match(await repo.syncStatus(), { state: 'idle', failures: 0, lastError: null, backoffMs: null }, 'and the backoff resets')
  t.equal((await repo.events.stats()).events, 1, 'nothing was lost along the way')
})

t.test('a remote that asks for credentials fails AUTH_FAILED at once', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  let requests = 0
  const srv = createServer((_req, res) => {
    requests++
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cairn-test"' })
    res.end('no')
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise((r) => srv.close(r)))
  const { repo } = await open(t, box, 'a')
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/repo.git`
  assertCoded(t, await repo.sync({ remote: url }).catch((e) => e), url, 'AUTH_FAILED', null, 'a 401 is AUTH_FAILED')
  t.ok(requests >= 1 && requests <= 3, `libgit2 did not replay the request (${requests} requests)`)
})

t.test('our own ref rewritten on the remote: its events are kept, the push is PUSH_REJECTED', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const remote = bare(box, 'r.git')
  const a = await open(t, box, 'a')
  await a.repo.issues.create({ title: 'a1' })
  await a.repo.sync({ remote })
  // A second clone writing under the same actor id (grite #27's failure) force-pushes over the remote's copy.
  const twin = await open(t, box, 'twin', { actor: a.repo.actor })
  const foreign = await twin.repo.issues.create({ title: 'from the twin' })
  await twin.repo.wal.flush()
  git(twin.path, 'push', '-q', '--force', remote, `refs/cairn/wal/${a.repo.actor}:refs/cairn/wal/${a.repo.actor}`)
  const mine = await a.repo.issues.create({ title: 'a2' })
  const localTip = (): string => git(a.path, 'rev-parse', `refs/cairn/wal/${a.repo.actor}`)
  await a.repo.wal.flush()
  const before = localTip()
  const err = await a.repo.sync({ remote }).catch((e) => e)
  const e = assertCoded(t, err, remote, 'PUSH_REJECTED', null, 'the push is refused, not forced')
  t.same(e?.details?.refs, [`wal/${a.repo.actor}`], 'the error names the ref')
  t.match(e?.details?.report, { pulled: 1, diverged: [`wal/${a.repo.actor}`] }, 'the report rides along: the twin\'s event was ingested')
  t.equal((await a.repo.issues.show(foreign.id)).title, 'from the twin', 'nothing from the remote is lost')
  t.equal((await a.repo.issues.show(mine.id)).title, 'a2', 'nothing of ours is lost')
  t.equal(localTip(), before, 'our ref was not moved')
  t.equal(git(remote, 'rev-parse', `refs/cairn/wal/${a.repo.actor}`), git(twin.path, 'rev-parse', `refs/cairn/wal/${a.repo.actor}`), 'nor the remote\'s')
})

t.test('another actor\'s ref rewritten on the remote: reported as diverged, re-read, nothing lost', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const remote = bare(box, 'r.git')
  const a = await open(t, box, 'a')
  const b = await open(t, box, 'b')
  const first = await a.repo.issues.create({ title: 'a1' })
  await a.repo.sync({ remote })
  await b.repo.sync({ remote })
  const twin = await open(t, box, 'twin', { actor: a.repo.actor })
  const rewritten = await twin.repo.issues.create({ title: 'rewritten history' })
  await twin.repo.wal.flush()
  git(twin.path, 'push', '-q', '--force', remote, `refs/cairn/wal/${a.repo.actor}:refs/cairn/wal/${a.repo.actor}`)
  const mirror = git(b.path, 'rev-parse', `refs/cairn/wal/${a.repo.actor}`)
  const r = await b.repo.sync({ remote })
  t.same(r.diverged, [`wal/${a.repo.actor}`], 'the run succeeds and names the rewritten ref')
  t.equal(r.pulled, 1, 'the new chain is read from its root; only its new event counts')
  t.equal((await b.repo.issues.show(first.id)).title, 'a1', 'the event the rewrite dropped is kept')
  t.equal((await b.repo.issues.show(rewritten.id)).title, 'rewritten history')
  t.equal(git(b.path, 'rev-parse', `refs/cairn/wal/${a.repo.actor}`), mirror, 'the local mirror is not rewound')
})

t.test('a corrupt commit on a remote ref is quarantined as INVALID_FORMAT, nothing of it ingested, and the run goes on', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const remote = bare(box, 'r.git')
  const tree = execFileSync('git', ['--git-dir', remote, 'mktree'], { input: '', encoding: 'utf8' }).trim()
  const commit = execFileSync('git', ['--git-dir', remote, 'commit-tree', tree, '-m', 'junk'],
    { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' } }).trim()
  git(remote, 'update-ref', `refs/cairn/wal/${'ab'.repeat(16)}`, commit)
  const { repo } = await open(t, box, 'a')
  await repo.issues.create({ title: 'mine' })
  const report = await repo.sync({ remote })
  t.match(report.quarantined, [{ ref: `wal/${'ab'.repeat(16)}`, commit, code: 'INVALID_FORMAT' }], 'the malformed commit is named, by ref and commit id')
  t.match(report.quarantined[0]?.message, commit, 'the message names the commit')
  t.equal(report.pushed, 1, 'our ref is pushed all the same')
  t.equal((await repo.events.stats()).events, 1, 'the store holds only our event')
  t.match(await repo.syncStatus(), { state: 'idle', failures: 0, lastError: null }, 'no backoff: the next sync runs at once')
})
