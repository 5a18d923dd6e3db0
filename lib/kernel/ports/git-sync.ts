/**
 * The port the Sync actor (and cross-machine leases) use on top of the WAL
 * port: exchange refs with a remote, compare histories, move a local ref by
 * compare-and-swap. Implemented by lib/adapters/git/ over nodegit.
 *
 * Remote failures are coded (`UNREACHABLE`, `AUTH_FAILED`, `PUSH_REJECTED`),
 * never thrown as libgit2 errors, so callers can turn each into an outcome.
 */
import type { GitWal, WalCommitResult } from './git-wal.ts'

export interface ResolvedRemote {
  /** The URL libgit2 connects to (a configured remote's URL, or the argument itself). */
  url: string
  /** The configured remote's name, or null when a URL or path was given. */
  name: string | null
}

/** One ref a push tried to update. */
export interface PushOutcome {
  ref: string
  ok: boolean
  /** The remote's reason when it refused (a hook, a protected ref, not a fast-forward). */
  message: string | null
}

export interface GitSync extends GitWal {
  /** A configured remote name (`origin`) or a URL/path (`file:///srv/x.git`, `git://127.0.0.1/x`). */
  resolveRemote(remote: string): Promise<ResolvedRemote>
  /**
   * Fetches into local refs by refspec (`+refs/cairn/wal/*:refs/cairn-sync/<key>/wal/*`).
   * A remote without matching refs is not an error: nothing is fetched.
   * Local refs the refspecs map to that the remote no longer has are pruned.
   */
  fetch(url: string, refspecs: string[]): Promise<void>
  /**
   * Pushes `<src>:<dst>` refspecs without force: a ref that would not
   * fast-forward fails the push with `PUSH_REJECTED` before anything moves.
   * Refs the remote refused one by one come back with `ok: false`.
   */
  push(url: string, refspecs: string[]): Promise<PushOutcome[]>
  /** The refs a remote advertises under `prefix`, name → commit (no objects are fetched). */
  listRemote(url: string, prefix: string): Promise<Map<string, string>>
  /** First-parent commits from `tip` down to (excluding) `stopAt` or the root, counting at most `limit`. */
  chainLength(tip: string, stopAt: string | null, limit: number): Promise<number>
  /** True when `ancestor` is `descendant` or reachable from it. */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>
  /** Moves (or creates, with expectedTip null) a local ref to an existing commit, by compare-and-swap. */
  moveRef(ref: string, to: string, expectedTip: string | null): Promise<WalCommitResult>
}
