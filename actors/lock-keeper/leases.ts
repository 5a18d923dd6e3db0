/**
 * The LockKeeper's lease logic (DESIGN §5), pure: no I/O, no clock reads, no
 * randomness. Time is always passed in as `now` (ms); decisions read a
 * source and return the changes to make, so the shell decides when they run
 * and makes them durable: a grant is announced only after it is committed.
 *
 * This file is the folder's index: import from here, not from ./leases/*.
 * ./leases/resource.ts parses resources and decides conflicts;
 * ./leases/rules.ts grants, renews, releases and breaks leases over a source;
 * ./leases/table.ts is an in-memory source with a functional API (the model
 * the tests step).
 */
export { conflicts, MAX_RESOURCE_NAME, parseResource, type Resource, type ResourceKind } from './leases/resource.ts'
export {
  conflictOf,
  decideAcquire,
  decideBreak,
  decideRelease,
  decideRenew,
  isLive,
  leaseIdHash,
  MAX_GRACE_MS,
  MAX_SESSION_LENGTH,
  MAX_TTL_MS,
  takeoverTime,
  type AcquireDecision,
  type Holder,
  type Lease,
  type LeaseChanges,
  type LeaseSource,
} from './leases/rules.ts'
export {
  acquire,
  applyChanges,
  emptyLeaseTable,
  expire,
  liveLeases,
  nextDeadline,
  release,
  renew,
  status,
  tableSource,
  type AcquireResult,
  type LeaseStatus,
  type LeaseTable,
} from './leases/table.ts'
