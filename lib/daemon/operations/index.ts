/**
 * Every method the daemon serves, in one table that the embedded CLI runs
 * too: the same code answers through the socket and in-process, which is
 * what makes the two modes give identical results and exit codes.
 */
import { issueOperations } from './issues.ts'
import { lockOperations } from './locks.ts'
import { repoOperations } from './repo-ops.ts'
import type { Operation } from './types.ts'

export const OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  ...issueOperations,
  ...lockOperations,
  ...repoOperations,
})

/** The operation named `method`, or undefined (own properties only: `__proto__` is not a method). */
export function operation(method: string): Operation | undefined {
  return Object.hasOwn(OPERATIONS, method) ? OPERATIONS[method] : undefined
}

export { leaseBook } from './types.ts'
export type { Args, LeaseBook, OpContext, Operation } from './types.ts'
export type { DoctorCheck } from './repo-ops.ts'
