/**
 * One claim per issue across machines (issue 19): two clones with their own
 * runtime homes name the same bare remote (served by git daemon on
 * 127.0.0.1) as `cairn.remote`. Both claimNext the single ready issue at
 * once: exactly one wins. The winner closes it; the other host, whose board
 * still shows it ready, cannot claim it again. With the remote down a claim
 * fails UNREACHABLE and nothing is claimed here (unless asked `local: true`).
 * Collection deletes finished claims from the remote.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { startGitDaemon } from '../../../../helpers/git-daemon.ts'

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
const claimRefs = (bare: string): string[] => git(bare, 'for-each-ref', '--format=%(refname)', 'refs/cairn/claims/').split('\n').filter(Boolean)
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (err: { code?: string }) => err.code)

t.test('two clones, one coordination remote: one claim per issue, closed stays closed, UNREACHABLE when down, refs collected', async (t) => {
  const box = sandbox()
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  let daemon = await startGitDaemon(box.dir)
  const url = daemon.url('remote.git')
  const clones = ['a', 'b'].map((n) => box.repo(n))
  for (const c of clones) git(c, 'remote', 'add', 'origin', url)
  const runtimes = await Promise.all([1, 2].map((n) => createRuntime({ home: join(box.dir, `home-${n}`), threads: 1 })))
  t.teardown(async () => {
    await Promise.all(runtimes.map((rt) => rt.stop()))
    await daemon.stop()
    box.cleanup()
  })
  const [a, b] = await Promise.all(runtimes.map((rt, i) => rt.repo(clones[i]!, { agent: `agent-${i}` }))) as [Repo, Repo]

  // The setting: git config, the library reads it; set on one clone by the library, on the other by git.
  t.equal(await a.coordination.get(), null, 'no coordination remote at first')
  await a.coordination.set('origin')
  git(clones[1]!, 'config', 'cairn.remote', 'origin')
  t.equal(git(clones[0]!, 'config', 'cairn.remote'), 'origin', 'the library wrote git config')
  t.equal(await b.coordination.get(), 'origin', 'the library reads what git wrote')
  t.equal(await codeOf(a.coordination.set('-x')), 'INVALID_ARGUMENT', 'an option-looking remote is refused')

  const { id } = await a.issues.create({ title: 'the only ready issue' })
  await a.sync({ remote: 'origin' })
  await b.sync({ remote: 'origin' })
  t.equal((await b.issues.show(id)).title, 'the only ready issue', 'both boards hold the issue')

  const both = await Promise.all([a, b].map((r) => r.issues.claimNext({ ttlMs: 30_000, autoRenew: false })))
  const winners = both.filter((x) => x !== null)
  t.equal(winners.length, 1, 'exactly one of the two hosts claimed it')
  const w = both[0] !== null ? 0 : 1
  const [winner, loser] = w === 0 ? [a, b] : [b, a]
  t.equal(winners[0]!.issue.id, id)
  t.same(claimRefs(bare), [`refs/cairn/claims/${id}`], 'the remote holds one claim ref')
  t.match(await loser.coordination.claim(id), { state: 'held', holder: { actor: winner.actor } }, 'the remote names the winner')
  t.equal((await loser.issues.show(id)).assignees.length, 0, 'the loser recorded no claim on its board')
  t.same(await loser.locks.list(), [], 'the loser holds no local lease on it')

  // The winner finishes; the loser's board has not seen the close (no sync).
  await winner.issues.close(id, { lease: winners[0]!.lease })
  t.match(await loser.coordination.claim(id), { state: 'done' }, 'the claim says done')
  t.equal((await loser.issues.show(id)).state, 'open', 'the loser\'s board is stale: still open there')
  t.equal(await loser.issues.claimNext({ ttlMs: 30_000, autoRenew: false }), null, 'a stale board cannot claim a closed issue again')
  t.equal((await loser.issues.show(id)).assignees.length, 0, 'and recorded nothing')

  // The remote goes down: claims fail UNREACHABLE, never silently local.
  const { id: second } = await loser.issues.create({ title: 'made while the remote is down' })
  await daemon.stop()
  t.equal(await codeOf(loser.issues.claimNext({ ttlMs: 30_000, autoRenew: false })), 'UNREACHABLE', 'UNREACHABLE when the remote is down')
  t.same(await loser.locks.list(), [], 'no local lease was left behind')
  t.equal((await loser.issues.show(second)).assignees.length, 0, 'no claim recorded')
  const local = await loser.issues.claimNext({ ttlMs: 30_000, autoRenew: false, local: true })
  t.ok(local !== null && [id, second].includes(local.issue.id), 'a caller may ask for a local-only claim')
  await local?.lease.release()

  // Back up (same port is not guaranteed: point the remote at the new one), then collect.
  daemon = await startGitDaemon(box.dir)
  for (const c of clones) git(c, 'remote', 'set-url', 'origin', daemon.url('remote.git'))
  const kept = await winner.coordination.collect()
  t.match(kept, { seen: 1, deleted: 0 }, 'a done claim is kept for its retention')
  const report = await winner.coordination.collect({ doneRetentionMs: 0 })
  t.match(report, { seen: 1, deleted: 1, kept: 0 })
  t.same(claimRefs(bare), [], 'no claim ref is left on the remote')
})

t.test('cairn coordination shows, sets and unsets cairn.remote (redacted), and refuses bad input', async (t) => {
  const { cliProcess } = await import('../../../lib/daemon/daemon-helpers.ts')
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('c')
  const cairn = (...args: string[]) => cliProcess([...args, '-C', repo, '--home', box.home], { cwd: repo, env: process.env, timeoutMs: 60_000 })
  let r = await cairn('coordination', '--json')
  t.equal(r.code, 0)
  t.match(JSON.parse(r.stdout), { ok: true, data: { remote: null } }, 'none set')
  r = await cairn('coordination', 'https://bob:s3cret@127.0.0.1:9/x.git')
  t.equal(r.code, 0)
  t.match(r.stdout, /claims go through https:\/\/bob:\*\*\*@127\.0\.0\.1:9\/x\.git/, 'shown redacted')
  t.notMatch(r.stdout + r.stderr, /s3cret/, 'the password is not printed')
  t.equal(git(repo, 'config', 'cairn.remote'), 'https://bob:s3cret@127.0.0.1:9/x.git', 'git config holds what the user gave')
  r = await cairn('coordination', 'origin', '--unset')
  t.equal(r.code, 2, 'a remote and --unset together is a usage error')
  r = await cairn('coordination', '--unset', '--json')
  t.match(JSON.parse(r.stdout), { ok: true, data: { remote: null } }, 'unset')
  r = await cairn('coordination', '--', '-oops')
  t.not(r.code, 0, 'an option-looking remote is refused')
})

t.test('a remote claim lives with its local lease: renewed while it lives, given back when it is released', async (t) => {
  const box = sandbox()
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('a'), { agent: 'solo' })
  await repo.coordination.set(bare)
  const { id } = await repo.issues.create({ title: 'held a while' })
  // A TTL a loaded machine's heartbeat keeps: renewals every second, two or more in the wait below.
  const got = await repo.issues.claimNext({ ttlMs: 3_000 })
  t.equal(got?.issue.id, id)
  const first = await repo.coordination.claim(id)
  t.match(first, { state: 'held', holder: { actor: repo.actor } })
  await new Promise((r) => setTimeout(r, 2_500))
  const later = await repo.coordination.claim(id)
  t.ok(later !== null && later.seq > first!.seq && later.expiresAt > first!.expiresAt, `renewed beside the local lease (seq ${first?.seq} -> ${later?.seq})`)
  t.ok(got!.lease.valid(), 'the local lease is still valid')
  await got!.lease.release()
  t.match(await repo.coordination.claim(id), { state: 'released' }, 'released with the local lease')
  const again = await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false })
  t.equal(again?.issue.id, id, 'and claimable again at once')
  await again?.lease.release()
})

t.test('without a git binary, a repository with no coordination remote claims and closes locally', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('plain')
  const { TSX_IMPORT } = await import('../../../lib/daemon/daemon-helpers.ts')
  const fixture = join(import.meta.dirname, '../../../../fixtures/claim-without-git.ts')
  const out = execFileSync(process.execPath, [TSX_IMPORT, fixture, box.home, repo], {
    encoding: 'utf8', env: { ...process.env, CAIRN_GIT: join(box.dir, 'no-such-git') }, timeout: 120_000,
  })
  t.same(JSON.parse(out.trim().split('\n').pop()!), { claimed: true, closed: true, coordination: null })
})
