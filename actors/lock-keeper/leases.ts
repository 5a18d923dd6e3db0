/**
 * The LockKeeper's lease logic (DESIGN §5), pure: no I/O, no clock reads, no
 * randomness. Time is always passed in as `now` (ms) and state is plain data
 * in and a new object out, so the machine can step it and persist the result.
 * The shell (effects) owns the clock, the timer armed from `nextDeadline`,
 * and durability: a grant is announced only after the new table is committed.
 *
 * This file is the folder's index: import from here, not from ./leases/*.
 * ./leases/resource.ts parses resources and decides conflicts;
 * ./leases/table.ts grants, renews, releases and expires leases.
 */
export { conflicts, MAX_RESOURCE_NAME, parseResource, type Resource, type ResourceKind } from './leases/resource.ts'
export {
  acquire,
  emptyLeaseTable,
  expire,
  isLive,
  liveLeases,
  MAX_SESSION_LENGTH,
  MAX_GRACE_MS,
  MAX_TTL_MS,
  nextDeadline,
  release,
  renew,
  status,
  takeoverTime,
  type AcquireResult,
  type Holder,
  type Lease,
  type LeaseStatus,
  type LeaseTable,
} from './leases/table.ts'
