/**
 * How an actor reaches git: three openers, one per consumer's port. The host
 * builds them (lib/adapters/git/loader.ts loads nodegit lazily, once per
 * thread) and hands them to actors through their context, so no actor names
 * an adapter and tests can pass their own.
 */
import type { GitWal } from './git-wal.ts'
import type { GitSync } from './git-sync.ts'
import type { LeaseRefs } from './lease-refs.ts'

export interface GitOpeners {
  /** The WAL writer of the repository at `gitDir` (the RepoWorker's drain). */
  openWal(gitDir: string): Promise<GitWal>
  /** Fetch, read and push of the WAL refs (the Sync actor). */
  openSync(gitDir: string): Promise<GitSync>
  /** Lease refs on remotes (the LockKeeper's remote lane). */
  openLeaseRefs(gitDir: string): Promise<LeaseRefs>
}
