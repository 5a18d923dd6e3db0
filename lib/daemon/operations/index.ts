/**
 * Every method the daemon serves, in one table that the embedded CLI runs
 * too: the same code answers through the socket and in-process, which is
 * what makes the two modes give identical results and exit codes. Each
 * method checks its arguments against its schema (protocol/operations)
 * before it runs: one validator for the daemon, the CLI and the MCP tools.
 */
import { OPERATION_SPECS, parseArgs, type Method } from '../../../protocol/operations/index.ts'
import { agentOperations } from './agent.ts'
import { issueOperations } from './issues.ts'
import { lockOperations } from './locks.ts'
import { repoOperations } from './repo-ops.ts'
import { runtimeOperations } from './runtime-ops.ts'
import type { Impl, Operation } from './types.ts'

const IMPLS: Record<string, Impl<never>> = { ...issueOperations, ...lockOperations, ...agentOperations, ...repoOperations, ...runtimeOperations }

export const OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze(Object.fromEntries(
  Object.entries(IMPLS).map(([method, impl]) => [method, {
    spec: OPERATION_SPECS[method as Method],
    run: async (ctx, raw) => impl(ctx, parseArgs(method, raw) as never),
  } satisfies Operation]),
))

/** The operation named `method`, or undefined (own properties only: `__proto__` is not a method). */
export function operation(method: string): Operation | undefined {
  return Object.hasOwn(OPERATIONS, method) ? OPERATIONS[method] : undefined
}

export { plainAnswer } from './types.ts'
export type { Args, OpContext, Operation } from './types.ts'
export type { DoctorCheck } from './repo-ops.ts'
