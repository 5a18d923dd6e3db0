/**
 * Claim commits and tracking refs written without a git process
 * (lib/adapters/git/loose-objects.ts, used by claim-refs.ts): the very
 * objects `git commit-tree` writes (same ids, so records exactly as before),
 * readable and fsck-clean to git, in a linked worktree's common dir; a ref
 * write that meets git's lock backs off; a repository that is not SHA-1 is
 * left to git itself.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { commitBody, repoLayout, writeLooseObject, writeLooseRef } from '../../../../../lib/adapters/git/loose-objects.ts'
import { ClaimRefs } from '../../../../../lib/adapters/git/claim-refs.ts'
import { placeOf } from '../../../../../lib/adapters/git/cli-remote.ts'
import { claimRecord, decodeClaim, encodeClaim, type ClaimRecord } from '../../../../../protocol/claim-record.ts'

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
const git = (cwd: string, args: string[], env: Record<string, string> = {}, input?: string): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, input, stdio: ['pipe', 'pipe', 'pipe'] }).trim()

const holder = { actor: 'ab'.repeat(16), session: 'sess-ü "quoted" \\ back' }
const record = (at: number): ClaimRecord => {
  const step = claimRecord(null, { issue: 'cd'.repeat(16), holder, ttlMs: 60_000, graceMs: 2_000 }, at)
  if (!step.ok) throw new Error('refused')
  return step.record
}

/** What `git commit-tree` makes of the same record (the way claim-refs.ts wrote claims before). */
function commitTree(repo: string, parent: string | null, r: ClaimRecord): string {
  const date = `${Math.floor(r.at / 1000)} +0000`
  const email = `${r.holder.actor}@cairn.invalid`
  git(repo, ['hash-object', '-w', '-t', 'tree', '--stdin'], {}, '')
  return git(repo, ['commit-tree', EMPTY_TREE, ...(parent ? ['-p', parent] : []), '-F', '-'], {
    GIT_AUTHOR_NAME: 'cairn', GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: 'cairn', GIT_COMMITTER_EMAIL: email, GIT_COMMITTER_DATE: date,
  }, encodeClaim(r))
}

t.test('a claim commit is the object git commit-tree writes: same id, readable, fsck-clean', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const ours = box.repo('ours')
  const theirs = box.repo('theirs')
  const refs = new ClaimRefs(join(ours, '.git'))
  const first = record(1_700_000_000_123)
  const root = await refs.write(null, first)
  t.equal(root, commitTree(theirs, null, first), 'a root claim commit has the id git gives it')
  const second = { ...first, seq: 2, at: 1_700_000_005_999 }
  const child = await refs.write(root, second)
  t.equal(child, commitTree(theirs, root, second), 'and so does one on a parent')
  t.equal(git(ours, ['cat-file', '-t', child]), 'commit')
  t.same(decodeClaim(git(ours, ['log', '-1', '--format=%B', child]), child), second, 'git reads the record back as written')
  t.equal(git(ours, ['rev-parse', `${child}^`]), root, 'its parent is the tip it was built on')
  t.equal(git(ours, ['cat-file', '-t', EMPTY_TREE]), 'tree', 'the empty tree is stored for pack-objects')
  git(ours, ['update-ref', 'refs/cairn-test/claim', child])
  t.doesNotThrow(() => git(ours, ['fsck', '--strict', '--no-dangling']), 'git fsck --strict finds nothing wrong')
  t.equal(await refs.write(root, second), child, 'writing it again is the same object (not overwritten)')
})

t.test('the bytes are checked: no identity or id that could forge a header line', async (t) => {
  const ok = { tree: EMPTY_TREE, parent: null, name: 'cairn', email: 'x@cairn.invalid', seconds: 1, message: 'm\n' }
  t.throws(() => commitBody({ ...ok, parent: 'nothex' }))
  t.throws(() => commitBody({ ...ok, email: 'x@y>\nparent 0000' }))
  t.throws(() => commitBody({ ...ok, seconds: -1 }))
  t.match(commitBody(ok).toString(), /^tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor cairn <x@cairn\.invalid> 1 \+0000\ncommitter cairn <x@cairn\.invalid> 1 \+0000\n\nm\n$/)
})

t.test('a linked worktree writes into the common dir; a ref write meeting a lock backs off', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const main = box.repo('main')
  git(main, ['commit', '-q', '--allow-empty', '-m', 'base'], { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' })
  const wt = join(box.dir, 'wt')
  git(main, ['worktree', 'add', '-q', wt])
  const gitDir = git(wt, ['rev-parse', '--absolute-git-dir'])
  const layout = await repoLayout(placeOf(gitDir))
  t.equal(layout?.commonDir, join(main, '.git'), 'the common dir of a linked worktree is the main .git')
  const id = writeLooseObject(layout!.objectsDir, 'blob', Buffer.from('hello\n'))
  t.equal(id, git(main, ['hash-object', '--stdin'], {}, 'hello\n'), 'a blob gets git\'s id')
  t.equal(git(wt, ['cat-file', '-p', id]), 'hello', 'readable from the worktree')
  t.equal(writeLooseRef(layout!.commonDir, 'refs/cairn-claims/x/one', id), true)
  t.equal(git(main, ['rev-parse', 'refs/cairn-claims/x/one']), id, 'the ref reads as written')
  writeFileSync(join(layout!.commonDir, 'refs/cairn-claims/x/two.lock'), '')
  t.equal(writeLooseRef(layout!.commonDir, 'refs/cairn-claims/x/two', id), false, 'a held lock: nothing written')
  t.notOk(existsSync(join(layout!.commonDir, 'refs/cairn-claims/x/two')), 'and the ref does not exist')
  t.throws(() => writeLooseRef(layout!.commonDir, 'refs/../../escape', id), 'a ref outside refs/ is refused')
})

t.test('a SHA-256 repository is left to git itself', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const path = join(box.dir, 'sha256')
  execFileSync('git', ['init', '-q', '--object-format=sha256', path])
  t.equal(await repoLayout(placeOf(join(path, '.git'))), null, 'no layout to write SHA-1 objects into by hand')
  t.notOk(existsSync(join(path, '.git', 'objects', EMPTY_TREE.slice(0, 2))), 'and nothing was written')
})
