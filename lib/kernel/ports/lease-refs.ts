/**
 * The port cross-machine leases use (DESIGN §5 "Across machines"): read the
 * tip of a lease ref on a git remote, and append one lease commit on a tip
 * observed before, moving the remote ref only if it is still at that tip.
 * Implemented over nodegit by lib/adapters/git/nodegit-lease-refs.ts.
 *
 * A lease ref `refs/cairn/leases/<16 hex>` is a first-parent commit chain;
 * each commit's tree holds one `lease.json`, a {@link LeaseRecord}. The ref
 * only ever fast-forwards, so the chain's length numbers its commits and an
 * acquire commit's position in it is the lease's epoch (its fencing token).
 *
 * Remote failures are coded (`UNREACHABLE`, `AUTH_FAILED`, `PUSH_REJECTED`
 * when the remote refused for a reason other than a moved tip), never
 * libgit2 errors; a malformed `lease.json` is `INVALID_FORMAT`.
 */

export type LeaseRecordOp = 'acquire' | 'renew' | 'release' | 'break'

/** The content of `lease.json`: one commit of a lease chain. Times are ms on the writer's clock. */
export interface LeaseRecord {
  /** Format version: 1. */
  v: 1
  op: LeaseRecordOp
  /** The resource key (normalised), e.g. `path:src/a.ts`. */
  resource: string
  holder: { actor: string; session: string }
  /** The lease's fencing token: the `seq` of its acquire commit. Renew and release commits repeat it. */
  epoch: number
  /** This commit's position in the chain: 1 for the root, parent's + 1 after. */
  seq: number
  ttlMs: number
  /** How long past `expiresAt` others must still wait before a takeover. */
  graceMs: number
  grantedAt: number
  /** 0 in a release or break commit: the resource is free at once. */
  expiresAt: number
  heartbeatAt: number
  /**
   * SHA-256 (hex) of the lease id only its holder was told: renewing or
   * releasing needs the id. Absent on leases written before ids existed,
   * which are held by (actor, session).
   */
  idHash?: string
  /** In a break commit: who ended the lease (holder/epoch name the broken one), when and why. */
  broken?: { by: { actor: string; agent?: string }; at: number; reason: string }
}

/** A chain's tip as observed on the remote. */
export interface LeaseTip { commit: string; record: LeaseRecord }

export type LeaseAppendResult =
  | { ok: true; commit: string }
  /** The remote ref was no longer at the expected tip: someone else appended. Nothing changed. */
  | { ok: false }

export interface LeaseRemote {
  /** What libgit2 connects to (a configured remote's URL, or the argument), for messages and keys. */
  url: string
}

export interface LeaseRefs {
  /**
   * A configured remote name (`origin`), a URL (`git://127.0.0.1:9418/x.git`)
   * or a path of a repository on this machine.
   */
  resolve(remote: string): Promise<LeaseRemote>
  /** The chain's tip on the remote now, or null when the ref does not exist there. */
  read(remote: LeaseRemote, ref: string): Promise<LeaseTip | null>
  /**
   * Writes a commit holding `record` whose parent is `expectedTip` (null: a
   * root commit, and the ref must not exist) and moves the remote ref to it
   * only if it is still at `expectedTip`; never forces. Resolves once the
   * remote has accepted (or refused) the update.
   */
  append(remote: LeaseRemote, ref: string, expectedTip: string | null, record: LeaseRecord): Promise<LeaseAppendResult>
  /** Releases the repository; calls in flight finish first. Resolves once libgit2 let go of it. */
  close(): Promise<void>
}
