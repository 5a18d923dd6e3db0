/**
 * A done claim whose close never reached any board (issue 19): its holder
 * pushed the done record and died before its local close. Another board
 * that meets the record in claimNext closes the issue on its word once the
 * holder had its time (ttl + grace, protocol/claim-record.ts adoptable),
 * with a comment naming the holder; a fresh done record (the board may just
 * be stale) and an issue changed here after the record (reopened) are left
 * open. The done records are written into a real bare remote with git.
 * An issue closed through the remote and then reopened is claimable again
 * by the board that saw the reopen.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime } from '../../../../../lib/index.ts'
import { ADOPT_MIN_MS, encodeClaim, type ClaimRecord } from '../../../../../protocol/claim-record.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

const git = (cwd: string, args: string[], input?: string): string => execFileSync('git', args, {
  cwd, encoding: 'utf8', input,
  env: { ...process.env, GIT_AUTHOR_NAME: 'h', GIT_AUTHOR_EMAIL: 'h@x', GIT_COMMITTER_NAME: 'h', GIT_COMMITTER_EMAIL: 'h@x' },
}).trim()

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Writes a done record for `issue` onto the remote, as a holder's close would have. */
function pushDone(bare: string, issue: string, at: number): void {
  const record: ClaimRecord = {
    v: 1, issue, state: 'done', holder: { actor: 'f'.repeat(32), session: 'gone' }, epoch: 1, seq: 2, ttlMs: 2_000, graceMs: 2_000, at, expiresAt: 0,
  }
  const tree = git(bare, ['hash-object', '-w', '-t', 'tree', '--stdin'], '')
  const commit = git(bare, ['commit-tree', tree], encodeClaim(record))
  git(bare, ['update-ref', `refs/cairn/claims/${issue}`, commit])
}

t.test('a done record nobody closed: closed here on its word after the holder\'s time, never when fresh or reopened here', async (t) => {
  const box = sandbox()
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('a'), { agent: 'late' })
  await repo.coordination.set(bare)
  const orphan = (await repo.issues.create({ title: 'finished elsewhere, never closed' })).id
  const fresh = (await repo.issues.create({ title: 'finished elsewhere a moment ago' })).id
  const touched = (await repo.issues.create({ title: 'finished elsewhere, reopened here since' })).id

  await sleep(5)
  pushDone(bare, orphan, Date.now())
  pushDone(bare, touched, Date.now())
  await sleep(5)
  // Changed here after its done record: the board knows something newer than the remote's word.
  await repo.issues.comment(touched, 'reopened: the fix did not hold')
  // The holder's time: its claim's ttl + grace, at least ADOPT_MIN_MS.
  await sleep(ADOPT_MIN_MS + 200)
  pushDone(bare, fresh, Date.now())

  t.equal(await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false }), null, 'nothing is claimable: all three are done on the remote')
  const closed = await repo.issues.show(orphan)
  t.equal(closed.state, 'closed', 'the orphaned done record was taken at its word')
  t.match(closed.comments.map((c) => c.body).join('\n'), /coordination remote: f{32} finished it at/, 'the close says whose done record it followed')
  t.equal((await repo.issues.show(fresh)).state, 'open', 'a fresh done record is left to the holder\'s own close (this board may be stale)')
  t.equal((await repo.issues.show(touched)).state, 'open', 'an issue changed here after the done record is left open')
  t.same(await repo.locks.list(), [], 'no lease was taken for any of them')
  t.equal(await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false }), null, 'asking again changes nothing')
  t.equal((await repo.issues.show(orphan)).comments.length, 1, 'and closes nothing twice')
})

t.test('closed through the remote, then reopened: the board that saw the reopen claims it again', async (t) => {
  const box = sandbox()
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('r'), { agent: 'again' })
  await repo.coordination.set(bare)
  const { id } = await repo.issues.create({ title: 'fixed, then not' })
  const first = await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false })
  await repo.issues.close(id, { lease: first!.lease })
  const done = await repo.coordination.claim(id)
  t.match(done, { state: 'done' })
  t.equal(await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false }), null, 'closed: nothing to claim')
  await sleep(5)
  await repo.issues.reopen(id)
  const second = await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false })
  t.equal(second?.issue.id, id, 'reopened: claimed again through the remote')
  t.match(await repo.coordination.claim(id), { state: 'held', holder: { actor: repo.actor } })
  t.ok((await repo.coordination.claim(id))!.epoch > done!.epoch, 'with a newer epoch than the done record')
  await repo.issues.close(id, { lease: second!.lease })
  t.match(await repo.coordination.claim(id), { state: 'done' }, 'and done again when closed')
})
