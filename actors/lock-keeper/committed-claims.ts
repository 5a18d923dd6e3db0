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
import { openLeaseDbs } from './store.ts'

/** Claims read from `store`, the reader's open LMDB environment (opaque to the reader, which hands it over). */
export function committedClaims(now: () => number): (store: object) => (issueId: string) => LeaseView | null {
  return (store) => {
    const { leases } = openLeaseDbs(store as RootDatabase)
    return (issueId) => claimOf(leases.get(`issue:${issueId}`), now())
  }
}
