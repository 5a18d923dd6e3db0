import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitCommonDir } from '../../../../../lib/kernel/store/common-dir.ts'
import { CairnError } from '../../../../../protocol/errors.ts'

// Under os.tmpdir(), not t.testdir(): the fixtures must not sit inside this
// project's own git repository, or "not a repo" would find it.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'cairn-common-dir-')))
t.teardown(() => rmSync(root, { recursive: true, force: true }))

// Isolate git from the user's and system config and from any GIT_* variables.
const gitEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env: gitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
/** What git itself says the common dir is. */
const gitSays = (cwd: string): string => realpathSync(git(cwd, 'rev-parse', '--path-format=absolute', '--git-common-dir'))

const repo = join(root, 'repo')
mkdirSync(repo)
git(repo, 'init', '-q')
git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'x')
const dotGit = join(repo, '.git')

/** The type of `t` inside a subtest (the callback of test()'s last overload). */
type Test = Parameters<Parameters<typeof t.test>[0]>[0]

function expectNotFound(t: Test, path: string, name: string): void {
  try {
    const r = gitCommonDir(path)
    t.fail(`${name}: expected NOT_FOUND, got ${JSON.stringify(r)}`)
  } catch (err) {
    t.ok(err instanceof CairnError, `${name}: a CairnError`)
    t.equal((err as CairnError).code, 'NOT_FOUND', `${name}: NOT_FOUND`)
    t.same((err as CairnError).details, { path }, `${name}: details name the path`)
  }
}

t.test('the repository root and its subdirectories resolve to its .git', async (t) => {
  t.same(gitCommonDir(repo), { workTree: repo, gitDir: dotGit, commonDir: dotGit }, 'from the work tree root')
  const sub = join(repo, 'src', 'lib', 'deep')
  mkdirSync(sub, { recursive: true })
  t.same(gitCommonDir(sub), { workTree: repo, gitDir: dotGit, commonDir: dotGit }, 'from a nested subdirectory')
  t.equal(gitCommonDir(sub).commonDir, gitSays(sub), 'agrees with git rev-parse --git-common-dir')
  const file = join(repo, 'src', 'a.ts')
  writeFileSync(file, '')
  t.equal(gitCommonDir(file).commonDir, dotGit, 'from a file inside the repo')
  t.equal(gitCommonDir(join(sub, '..', '..')).commonDir, dotGit, 'a path with .. segments')
  t.equal(gitCommonDir(join(sub, '..', '..')).workTree, repo)
})

t.test('a linked worktree shares the main repository\'s common dir', async (t) => {
  const wt = join(root, 'wt')
  git(repo, 'worktree', 'add', '-q', wt)
  const r = gitCommonDir(wt)
  t.equal(r.commonDir, dotGit, 'commonDir is the main repository\'s .git')
  t.equal(r.commonDir, gitCommonDir(repo).commonDir, 'same commonDir as the main repo')
  t.equal(r.commonDir, gitSays(wt), 'agrees with git')
  t.equal(r.workTree, wt, 'workTree is the worktree')
  t.equal(r.gitDir, join(dotGit, 'worktrees', 'wt'), 'gitDir is the worktree\'s private git dir')
  const sub = join(wt, 'pkg')
  mkdirSync(sub)
  t.equal(gitCommonDir(sub).commonDir, dotGit, 'a subdirectory of the worktree too')
})

t.test('a bare repository is its own common dir', async (t) => {
  const bare = join(root, 'bare.git')
  mkdirSync(bare)
  git(bare, 'init', '-q', '--bare')
  t.same(gitCommonDir(bare), { workTree: null, gitDir: bare, commonDir: bare })
  t.equal(gitCommonDir(bare).commonDir, gitSays(bare), 'agrees with git')
})

t.test('a directory that is not in a repository is NOT_FOUND', async (t) => {
  const plain = join(root, 'plain', 'dir')
  mkdirSync(plain, { recursive: true })
  expectNotFound(t, plain, 'non-repo directory')
})

t.test('a missing path is NOT_FOUND', async (t) => {
  expectNotFound(t, join(root, 'does', 'not', 'exist'), 'missing path')
  expectNotFound(t, join(repo, 'no-such-subdir'), 'missing path inside a repo')
})
