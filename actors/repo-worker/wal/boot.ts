/**
 * Boot reconciliation's WAL step (DESIGN §7): before the repository serves,
 * whatever the outbox still holds (a crash between acknowledgement and
 * drain) goes to git, and commits a crashed drain wrote but did not record
 * are adopted. A git failure is reported, not fatal: the events stay in the
 * outbox and the running drain retries.
 */
import type { RootDatabase } from 'lmdb'
import type { GitWal } from '../../../lib/kernel/ports/git-wal.ts'
import type { RepoReconciliation } from '../../../protocol/messages.ts'
import type { RepoDbs } from '../store/dbs.ts'
import { WalDrain } from './drain.ts'

export async function drainAtBoot(env: RootDatabase, dbs: RepoDbs, openGit: () => Promise<GitWal>, now: () => number): Promise<RepoReconciliation['wal']> {
  const pending = dbs.outbox.getCount()
  const report: RepoReconciliation['wal'] = { drainedEvents: 0, commits: 0, adopted: 0, pending, error: null }
  if (pending === 0) return report
  let git: GitWal | null = null
  try {
    git = await openGit()
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
