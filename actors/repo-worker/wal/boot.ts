/**
 * Boot reconciliation's WAL step (DESIGN §7): before the repository serves,
 * whatever the outbox still holds (a crash between acknowledgement and
 * drain) goes to git, and commits a crashed drain wrote but did not record
 * are adopted. A git failure is reported, not fatal: the events stay in the
 * outbox and the running drain retries.
 */
import { createRequire } from 'node:module'
import type { RootDatabase } from 'lmdb'
import type { GitWal } from '../../../lib/ports/git-wal.ts'
import type { RepoReconciliation } from '../../../protocol/messages.ts'
import type { RepoDbs } from '../store/dbs.ts'
import { WalDrain } from './drain.ts'

/**
 * nodegit loads on first use only (about 100 ms): opening a repository to
 * serve must not wait for it. A plain require(), because worker threads
 * load Cairn through tsx's CommonJS hook, where a dynamic import() of a .ts
 * file is not hooked; the main thread gets a require() from createRequire.
 */
export async function openGit(gitDir: string): Promise<GitWal> {
  const load = typeof require === 'function' ? require : createRequire(import.meta.url)
  const { openGitWal } = load('../../../lib/adapters/git/nodegit-wal.ts') as typeof import('../../../lib/adapters/git/nodegit-wal.ts')
  return openGitWal(gitDir)
}

export async function drainAtBoot(env: RootDatabase, dbs: RepoDbs, gitDir: string, now: () => number): Promise<RepoReconciliation['wal']> {
  const pending = dbs.outbox.getCount()
  const report: RepoReconciliation['wal'] = { drainedEvents: 0, commits: 0, adopted: 0, pending, error: null }
  if (pending === 0) return report
  let git: GitWal | null = null
  try {
    git = await openGit(gitDir)
    const r = await new WalDrain(env, dbs, git, now).drain()
    Object.assign(report, { drainedEvents: r.events, commits: r.commits, adopted: r.adopted })
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err)
  } finally {
    await git?.close()
  }
  report.pending = dbs.outbox.getCount()
  return report
}
