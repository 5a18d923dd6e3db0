/**
 * The narrow port through which Cairn writes and reads its git refs. The
 * RepoWorker (WAL writer), the Sync actor and the lease refs use only this;
 * the nodegit adapter (lib/adapters/git/) implements it, and tests can read
 * the results back with the git CLI.
 *
 * A WAL commit's tree is grite's layout:
 *   meta.json                          pretty JSON { schema_version: 1, actor_id, chunk_hash, prev_wal }
 *   events/YYYY/MM/DD/<chunk_hash>.bin one GRITECNK chunk (chunk_hash = BLAKE2b-256 hex of the chunk)
 */

export interface WalMeta {
  schema_version: 1
  actor_id: string
  chunk_hash: string
  /** The parent WAL commit's id, or null for the first. */
  prev_wal: string | null
}

export interface WalCommitInput {
  /** Full ref name, e.g. `refs/cairn/wal/<actor-id>`. */
  ref: string
  /** The tip the caller built on (null: the ref must not exist yet). Compare-and-swap: */
  expectedTip: string | null
  meta: WalMeta
  /** `events/YYYY/MM/DD/<chunk_hash>.bin`. */
  chunkPath: string
  chunk: Uint8Array
  message: string
  /** Commit author/committer; time in ms since the epoch. */
  author: { name: string; email: string; timeMs: number }
}

export type WalCommitResult =
  | { ok: true; commit: string }
  /** The ref was not at `expectedTip`: someone else moved it. Nothing was changed. */
  | { ok: false; actualTip: string | null }

export interface WalEntry { commit: string; meta: WalMeta; chunkPath: string; chunk: Uint8Array }

export interface GitWal {
  /** The commit a ref points to, or null when it does not exist. */
  readRef(ref: string): Promise<string | null>
  /** Every ref under a prefix (e.g. `refs/cairn/`), name → commit. */
  listRefs(prefix: string): Promise<Map<string, string>>
  /** Writes blob, tree and commit (parent = expectedTip) and moves the ref only if it is still at expectedTip. */
  appendWal(input: WalCommitInput): Promise<WalCommitResult>
  /**
   * The WAL commits reachable from `tip` back to (excluding) `stopAt`,
   * oldest first, following first parents; at most `limit`.
   */
  readWal(tip: string, opts?: { stopAt?: string | null; limit?: number }): Promise<WalEntry[]>
  /** Resolves once in-flight calls finished and libgit2's handles are freed. */
  close(): Promise<void>
}
