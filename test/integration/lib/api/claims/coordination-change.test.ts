/**
 * claimNext reads `cairn.remote` beside its first push (coordination.ts
 * speculate()): it starts on the last value read and confirms it before
 * writing anything here. A setting changed by plain git, outside this
 * process, still decides every claim made after it: the claim is on the new
 * remote, and whatever the old value made it claim on the old remote is
 * given back (nothing held there); unset, the claim is local and no remote
 * keeps a held claim for it.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime } from '../../../../../lib/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { decodeClaim } from '../../../../../protocol/claim-record.ts'

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
/** The claim record `bare` holds for `issue` now, or null. */
const claimOn = (bare: string, issue: string): { state: string } | null => {
  const tip = git(bare, 'for-each-ref', '--format=%(objectname)', `refs/cairn/claims/${issue}`)
  return tip === '' ? null : decodeClaim(git(bare, 'log', '-1', '--format=%B', tip), tip)
}
/** Past coordination.ts REMEMBER_MS: the remembered value is only a guess now. */
const pastMemory = (): Promise<void> => new Promise((r) => setTimeout(r, 1_200))

t.test('a cairn.remote changed by git outside the process decides the next claim; the old remote keeps nothing held', async (t) => {
  const box = sandbox()
  const [one, two] = ['one.git', 'two.git'].map((n) => {
    const bare = join(box.dir, n)
    execFileSync('git', ['init', '-q', '--bare', bare])
    return bare
  }) as [string, string]
  const clone = box.repo('clone')
  const rt = await createRuntime({ home: join(box.dir, 'home'), threads: 1 })
  t.teardown(async () => {
    await rt.stop()
    box.cleanup()
  })
  const repo = await rt.repo(clone, { agent: 'agent' })
  await repo.coordination.set(one)

  const first = await repo.issues.create({ title: 'first' })
  const a = await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false })
  t.equal(a?.issue.id, first.id)
  t.match(claimOn(one, first.id), { state: 'held' }, 'claimed on the remote the setting names')
  await repo.issues.close(first.id, { lease: a!.lease })
  t.match(claimOn(one, first.id), { state: 'done' })

  // Plain git changes the setting; this process last read `one`.
  git(clone, 'config', 'cairn.remote', two)
  await pastMemory()
  const second = await repo.issues.create({ title: 'second' })
  const b = await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false })
  t.equal(b?.issue.id, second.id, 'the claim went through')
  t.match(claimOn(two, second.id), { state: 'held' }, 'on the remote the setting names now')
  t.not(claimOn(one, second.id)?.state, 'held', 'the old remote holds no claim on it (none, or given back)')
  t.equal(await repo.coordination.get(), two)
  await repo.issues.close(second.id, { lease: b!.lease })
  t.match(claimOn(two, second.id), { state: 'done' }, 'closed through it')

  // Unset: local claims, and no remote is left holding one.
  git(clone, 'config', '--unset', 'cairn.remote')
  await pastMemory()
  const third = await repo.issues.create({ title: 'third' })
  const c = await repo.issues.claimNext({ ttlMs: 30_000, autoRenew: false })
  t.equal(c?.issue.id, third.id, 'claimed')
  t.equal(c?.lease.scope, 'local', 'locally')
  t.not(claimOn(two, third.id)?.state, 'held', 'the remote last named holds nothing for it')
  t.equal(claimOn(one, third.id), null)
  t.same((await repo.issues.show(third.id)).assignees.length, 1, 'assigned here once')
  await c!.lease.release()
})
