/** Shared by the lease table tests. */
import type { Holder } from '../../../../actors/lock-keeper/leases.ts'

export const ALICE: Holder = { actor: 'a'.repeat(32), session: 's1' }
export const BOB: Holder = { actor: 'b'.repeat(32), session: 's1' }
export const ALICE_2: Holder = { actor: 'a'.repeat(32), session: 's2' }

/** Freezes a value and everything reachable from it, so any mutation throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
