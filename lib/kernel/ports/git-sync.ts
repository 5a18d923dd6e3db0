/**
 * The port the Sync actor (and cross-machine leases) use on top of the WAL
 * port: exchange refs with a remote, compare histories, move a local ref by
 * compare-and-swap. Implemented by lib/adapters/git/ over nodegit.
 *
 * Remote failures are coded (`UNREACHABLE`, `AUTH_FAILED` with
 * `details.reason`, `BUSY`), never raw git output, so callers can turn each
 * into an outcome; their messages never carry a secret.
 */
import type { GitWal, WalCommitResult, WalEntry } from './git-wal.ts'

export interface ResolvedRemote {
  /**
   * The remote's URL (a configured remote's URL, or the argument itself)
   * with any password or token replaced by `***`: safe to show, store and
   * key on. Never the secret form.
   */
  url: string
  /** The configured remote's name, or null when a URL or path was given. */
  name: string | null
}

/** A WAL commit on a chain, as listed before it is read: its tree and first parent (null for a root). */
export interface WalLink { commit: string; parent: string | null; tree: string }

/** Reads WAL histories in bulk: many refs listed at once, pages of commits read at once. */
export interface WalReader {
  /**
   * Per range, the first-parent WAL commits from `stopAt` (excluded) to
   * `tip`, oldest first; to the root when `stopAt` is null or not on the
   * chain. INVALID_ARGUMENT past `limit` commits in one range.
   */
  chains(ranges: { tip: string; stopAt: string | null }[], limit: number): Promise<WalLink[][]>
  /**
   * The entries of `links`, in order, each checked against the layout;
   * INVALID_FORMAT names the first malformed commit, and nothing of the
   * page is returned then.
   */
  read(links: WalLink[]): Promise<WalEntry[]>
  close(): Promise<void>
}

/** One ref a push tried to update. */
export interface PushOutcome {
  ref: string
  ok: boolean
  /** The remote's reason when it refused (a hook, a protected ref, not a fast-forward), redacted. */
  message: string | null
  /** Refused because the remote ref moved meanwhile (another pusher got there first): read it again and retry. */
  raced: boolean
}

/**
 * `remote` arguments below are what the caller was given: a configured
 * remote name, a URL (which may carry credentials: the adapter uses them
 * and never shows or stores them) or a path.
 */
export interface GitSync extends GitWal {
  /** A configured remote name (`origin`) or a URL/path (`file:///srv/x.git`, `git://127.0.0.1/x`). */
  resolveRemote(remote: string): Promise<ResolvedRemote>
  /**
   * Fetches into local refs by refspec (`+refs/cairn/wal/*:refs/cairn-sync/<key>/wal/*`).
   * A remote without matching refs is not an error: nothing is fetched.
   * Local refs the refspecs map to that the remote no longer has are pruned.
   */
  fetch(remote: string, refspecs: string[]): Promise<void>
  /**
   * Pushes `<src>:<dst>` refspecs without force. Refs the remote refused
   * (not a fast-forward of what it has, a hook, a rule) come back with
   * `ok: false`; the others are applied.
   */
  push(remote: string, refspecs: string[]): Promise<PushOutcome[]>
  /** The refs a remote advertises under `prefix`, name → commit (no objects are fetched). */
  listRemote(remote: string, prefix: string): Promise<Map<string, string>>
  /** A reader of many WAL commits at once (Sync's ingest); close it when done. */
  walReader(): WalReader
  /** True when `ancestor` is `descendant` or reachable from it. */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>
  /** Moves (or creates, with expectedTip null) a local ref to an existing commit, by compare-and-swap. */
  moveRef(ref: string, to: string, expectedTip: string | null): Promise<WalCommitResult>
}
