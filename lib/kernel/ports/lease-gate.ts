/**
 * What the RepoWorker sees of leases (DESIGN §5): the lease check on every
 * issue write, which issues are claimed, and the claim step itself. The
 * LockKeeper of the same repository offers it (actors/lock-keeper/gate.ts)
 * through the thread's ports (thread-ports.ts); the RepoWorker never opens
 * the lease table.
 *
 * Everything here is synchronous and on the repository's thread: a claim
 * decides against the lease table as this thread's writers see it (the
 * store plus every write in flight) and hands back the writes that make it,
 * which ride in the RepoWorker's own block on the store's write chain. The
 * candidate choice, the lease and the claim's event are so one serial step
 * and one atomic block. Whoever writes staged writes must `settle` them
 * once the block came back (applied or not), or drop them with
 * `settle(false)` when the block is never written.
 *
 * A claim through a coordination remote (DESIGN §5, issue 19) plugs in
 * here: a gate that asks the remote before it grants.
 */
import type { LeaseHolder, LeaseInfo, LeaseView, WriteResult } from '../../../protocol/messages.ts'
import type { LeasePolicy } from '../../../protocol/results.ts'
import type { RecordedWrite } from '../store/recorded-writes.ts'

export type LeaseWarning = NonNullable<WriteResult['warnings']>[number]

/** Lease writes that ride in the caller's block. */
export interface StagedLeaseWrites {
  writes: RecordedWrite[]
  /** The block came back: `applied` or not (or it was never written). Call exactly once. */
  settle(applied: boolean): void
}

export type ClaimGrant =
  | ({ granted: true; lease: LeaseInfo } & StagedLeaseWrites)
  /** `wide`: the conflict covers every issue (a `repo:` lease), so no other candidate can be granted either. */
  | { granted: false; conflict: LeaseView; wide: boolean }

export interface LeaseGate {
  /** The repository's policy: with `off` and no token, {@link checkWrite} can neither refuse nor warn. */
  policy(): LeasePolicy
  /**
   * The check every issue write runs: throws LEASE_HELD (policy `require`,
   * someone else's live lease covers the issue) or LEASE_LOST (the write
   * carries a token that is not the writer's live lease covering it), else
   * returns the warnings to attach (policy `warn`).
   */
  checkWrite(w: { actor: string; issueId: string; token: number | null; now: number }): LeaseWarning[]
  /** The live lease on exactly `issue:<issueId>`, or null: what makes an issue claimed. */
  claimedBy(issueId: string, now: number): LeaseView | null
  /** Leases `issue:<issueId>` to `holder` unless a live lease conflicts. The answer carries the lease id. */
  claim(c: { issueId: string; holder: LeaseHolder; ttlMs: number; now: number }): ClaimGrant
  /**
   * A retried claim (same opId): if `issue:<issueId>` is still leased to
   * `actor` with `token`, renews it and gives it a new id (the first answer,
   * with the old id, may never have arrived); else null.
   */
  reclaim(c: { issueId: string; actor: string; token: number; ttlMs: number; now: number }): ({ lease: LeaseInfo } & StagedLeaseWrites) | null
  /** Releases the holder's lease on `issue:<issueId>` (closing the issue ends its claim). Throws LEASE_LOST, LEASE_NOT_HELD. */
  release(r: { issueId: string; token: number; leaseId: string; now: number }): StagedLeaseWrites
  /**
   * Issues whose lease ended early (released, broken) since `cursor`, so a
   * claim can offer them again before their lease would have lapsed; a
   * cursor too old (or from another gate) answers `stale`.
   */
  freed(cursor: number): { cursor: number; ids: string[]; stale: boolean }
}
