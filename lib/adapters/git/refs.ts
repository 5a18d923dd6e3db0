/**
 * Moving Cairn's refs safely, shared by the WAL adapter and the lease-ref
 * adapter: reading a tip, the compare-and-swap under libgit2's ref lock
 * (with bounded waits for a writer mid-update and removal of a lock a killed
 * writer left), and turning on fsync for every write, once per process.
 */
import { stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { WalCommitResult } from '../../kernel/ports/git-wal.ts'
import { GIT_ERROR, gitErrno, NodeGit, type Oid, type Repository } from './nodegit-api.ts'
import { gitFailure } from './git-failure.ts'
import { collidingRef } from './wal-read.ts'

/**
 * Retries when another writer holds `<ref>.lock` but the ref still reads as
 * expectedTip (it is mid-update). A holder keeps the lock for microseconds
 * on an idle machine, but a starved thread or process (a loaded host, two
 * runtimes on one clone) can keep it for hundreds of milliseconds: about a
 * second in all, backing off (git's own core.filesRefLockTimeout is 100 ms).
 * Waiting happens only while the lock is held.
 */
const LOCK_RETRY_DELAYS_MS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
/**
 * A lock on one of Cairn's own refs older than this was left by a process
 * killed mid-update (only Cairn writes `refs/cairn/`), so it is removed.
 * Locks on other refs are never touched. A live holder keeps the lock while
 * it writes and fsyncs the new ref value: microseconds normally, but seconds
 * on a disk saturated by other fsyncs. 2 s proved too short under a loaded
 * CI run (a live holder's lock was taken for stale and an append was lost),
 * so the bound is far above any fsync a working disk takes.
 */
export const STALE_LOCK_MS = 10_000

let fsyncEnabled = false

/**
 * libgit2's ENABLE_FSYNC_GITDIR (process-wide): objects and ref files are
 * fsynced before a write returns, so a resolved append is durable.
 */
export function enableFsync(): void {
  if (fsyncEnabled) return
  NodeGit.Libgit2.opts(NodeGit.Libgit2.OPT.ENABLE_FSYNC_GITDIR, 1)
  fsyncEnabled = true
}

/** Removes `lockPath` if it is older than STALE_LOCK_MS; true when it did. */
async function removeStaleLock(lockPath: string): Promise<boolean> {
  try {
    const st = await stat(lockPath)
    if (Date.now() - st.mtimeMs < STALE_LOCK_MS) return false
    await unlink(lockPath)
    return true
  } catch {
    return false
  }
}

export async function tipOf(repo: Repository, ref: string): Promise<string | null> {
  try {
    return (await NodeGit.Reference.nameToId(repo, ref)).tostrS()
  } catch (err) {
    if (gitErrno(err) === GIT_ERROR.ENOTFOUND) return null
    throw gitFailure(err, `reading ${ref}`)
  }
}

/**
 * Moves `ref` from `expectedTip` to `commit`, or reports who moved it.
 * libgit2 signals a lost race as EMODIFIED (tip differs), ENOTFOUND (ref
 * gone), EEXISTS (ref appeared) or ELOCKED (another writer mid-update). Each
 * is confirmed by re-reading the ref rather than trusted: an error that is
 * not a race (a name colliding with a directory of refs also comes back as
 * EEXISTS) must never read as one, or a caller would retry forever.
 */
export async function compareAndSwapRef(repo: Repository, ref: string, expectedTip: string | null, commit: Oid, reflogMessage: string): Promise<WalCommitResult> {
  const raceCodes: number[] = [GIT_ERROR.EMODIFIED, GIT_ERROR.ENOTFOUND, GIT_ERROR.EEXISTS, GIT_ERROR.ELOCKED]
  let clearedStale = false
  for (let attempt = 0; ; attempt++) {
    let errno: number | undefined
    try {
      if (expectedTip === null) await NodeGit.Reference.create(repo, ref, commit, 0, reflogMessage)
      // force=1 only lets libgit2 overwrite the existing ref; the matching id is the guard.
      else await NodeGit.Reference.createMatching(repo, ref, commit, 1, NodeGit.Oid.fromString(expectedTip), reflogMessage)
      return { ok: true, commit: commit.tostrS() }
    } catch (err) {
      errno = gitErrno(err)
      if (errno !== undefined && raceCodes.includes(errno)) {
        const actualTip = await tipOf(repo, ref)
        if (actualTip !== expectedTip) return { ok: false, actualTip }
      }
      const collision = await collidingRef(repo, ref)
      if (collision !== null) {
        throw invalidArgument('ref', `${ref} collides with the existing ref ${collision} (a ref name cannot also be a directory of refs)`)
      }
      if (errno === undefined || !raceCodes.includes(errno)) throw gitFailure(err, `moving ${ref}`)
    }
    // The ref still reads as expectedTip: another writer holds its lock mid-update.
    const wait = LOCK_RETRY_DELAYS_MS[attempt]
    if (wait === undefined) {
      if (!clearedStale && ref.startsWith('refs/cairn/') && await removeStaleLock(join(repo.path(), `${ref}.lock`))) {
        clearedStale = true
        attempt = -1
        continue
      }
      throw new CairnError('BUSY', `git: ${ref} stays locked (${ref}.lock, younger than ${STALE_LOCK_MS} ms); retry later`, { ref })
    }
    await delay(wait)
  }
}

