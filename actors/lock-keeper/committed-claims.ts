/**
 * Claims as the store holds them, for a reader on another thread of the
 * process: the Supervisor's StoreReader answers `issues.ready` with them,
 * without a round trip to the repository's thread. Each is the committed
 * `issue:` lease, judged live at `now` by the LockGate's own rule. A claim
 * still in flight is not seen; it is not acknowledged to anyone yet either.
 */
import type { RootDatabase } from 'lmdb'
import type { LeaseView } from '../../protocol/messages.ts'
import { claimOf } from './gate.ts'
import { openLeaseDbs, type LeaseDbs } from './store.ts'

/** `store` is the reader's open LMDB environment (opaque to the reader, which passes it back). */
export function committedClaims(now: () => number): (issueId: string, store: object) => LeaseView | null {
  const tables = new WeakMap<object, LeaseDbs['leases']>()
  return (issueId, store) => {
    let leases = tables.get(store)
    if (leases === undefined) tables.set(store, leases = openLeaseDbs(store as RootDatabase).leases)
    return claimOf(leases.get(`issue:${issueId}`), now())
  }
}
