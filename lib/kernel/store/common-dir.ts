/**
 * Finds a repository's git common dir without spawning git: worktrees share
 * it, so the store under `<common dir>/cairn` is shared by all worktrees.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { CairnError } from '../../../protocol/errors.ts'

/**
 * Walks up from `start` to the nearest `.git` (directory or gitfile) and
 * follows `commondir`. Bare repositories (HEAD + objects/ in `start`) count.
 * @example gitCommonDir('/src/app/lib') // '/src/app/.git'
 */
export function gitCommonDir(start: string): { workTree: string | null; gitDir: string; commonDir: string } {
  let dir = resolve(start)
  if (!existsSync(dir)) throw new CairnError('NOT_FOUND', `${start} does not exist`, { path: start })
  if (isBareRepo(dir)) return { workTree: null, gitDir: realpathSync(dir), commonDir: realpathSync(dir) }
  for (let depth = 0; depth < 256; depth++) {
    const dotGit = join(dir, '.git')
    if (existsSync(dotGit)) {
      const gitDir = statSync(dotGit).isDirectory() ? dotGit : readGitFile(dotGit)
      return { workTree: realpathSync(dir), gitDir: realpathSync(gitDir), commonDir: realpathSync(followCommonDir(gitDir)) }
    }
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  throw new CairnError('NOT_FOUND', `${start} is not inside a git repository`, { path: start })
}

/**
 * The store directory of the repository around `start` (shared by its worktrees).
 * @example repoStoreDir('/src/app/lib') // '/src/app/.git/cairn'
 */
export function repoStoreDir(start: string): string {
  return join(gitCommonDir(start).commonDir, 'cairn')
}

function isBareRepo(dir: string): boolean {
  return existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects')) && existsSync(join(dir, 'refs'))
}

function readGitFile(file: string): string {
  const text = readFileSync(file, 'utf8').trim()
  const m = /^gitdir:\s*(.+)$/m.exec(text)
  if (!m) throw new CairnError('INVALID_FORMAT', `${file} is not a gitfile`, { path: file })
  return isAbsolute(m[1]!) ? m[1]! : resolve(dirname(file), m[1]!)
}

function followCommonDir(gitDir: string): string {
  const file = join(gitDir, 'commondir')
  if (!existsSync(file)) return gitDir
  const rel = readFileSync(file, 'utf8').trim()
  return isAbsolute(rel) ? rel : resolve(gitDir, rel)
}
