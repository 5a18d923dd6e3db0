/**
 * Size and range limits of what callers may send, in one place: the
 * RepoWorker and the LockKeeper enforce them on every request, and the
 * argument schemas of the daemon, the CLI and the MCP tools
 * (protocol/operations) advertise and check the same numbers.
 */

/** Issue fields, in characters (UTF-16 code units), and entries per call. */
export const LIMITS = {
  title: 1024,
  body: 1024 * 1024,
  name: 128,
  agent: 128,
  url: 4096,
  note: 4096,
  attachmentName: 512,
  mime: 255,
  opId: 128,
  perCall: 64,
} as const

/** Longest lease time to live: one day. */
export const MAX_TTL_MS = 86_400_000
/** Longest grace a lease may carry: one hour. */
export const MAX_GRACE_MS = 3_600_000
/** Most events one page of the log holds. */
export const MAX_PAGE = 1000
/** Most supervision events a slow `runtime.watch` consumer may have held for it. */
export const MAX_WATCH_BUFFER = 65_536
/** Longest name after a lease resource's prefix. */
export const MAX_RESOURCE_NAME = 1024

/**
 * The largest WAL chunk Cairn reads: a commit whose chunk is larger is
 * quarantined by Sync (CHUNK_TOO_LARGE) without its bytes being read, so a
 * remote cannot make a replica load gigabytes into memory.
 */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024
/**
 * Cairn's own drain starts a new commit once a chunk reaches this size (a
 * single event is at most a few MiB), so what it writes always reads back.
 */
export const CHUNK_TARGET_BYTES = 8 * 1024 * 1024
