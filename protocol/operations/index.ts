/**
 * Every operation of the daemon's socket protocol, with its argument schema:
 * the one source of truth the daemon checks requests against, the CLI checks
 * before it connects, the MCP tools advertise as JSON Schema, and
 * docs/protocol.md documents (a test keeps the documentation complete).
 *
 * `parseArgs` is the one validator: it answers the checked arguments, or
 * throws INVALID_ARGUMENT whose `details.field` names the first bad field
 * (`title`, `labels[2]`, or an unknown field's name).
 *
 * @example
 *   const args = parseArgs('issues.comment', { id: 'ab12', body: 'done' })
 *   parseArgs('issues.comment', { id: 'ab12' }) // throws INVALID_ARGUMENT, details.field 'body'
 */
import type { z } from 'zod'
import { CairnError } from '../errors.ts'
import { argsError, PARSE_OPTIONS } from './args-error.ts'
import { AGENT_OPERATIONS } from './agent.ts'
import { ISSUE_OPERATIONS } from './issues.ts'
import { LOCK_OPERATIONS } from './locks.ts'
import { REPO_OPERATIONS } from './repo.ts'
import { RUNTIME_OPERATIONS } from './runtime.ts'
import type { OperationSpec } from './spec.ts'

export const OPERATION_SPECS = Object.freeze({ ...ISSUE_OPERATIONS, ...LOCK_OPERATIONS, ...AGENT_OPERATIONS, ...REPO_OPERATIONS, ...RUNTIME_OPERATIONS })

export type Method = keyof typeof OPERATION_SPECS
export type IssueMethod = keyof typeof ISSUE_OPERATIONS
export type LockMethod = keyof typeof LOCK_OPERATIONS
export type AgentMethod = keyof typeof AGENT_OPERATIONS
export type RuntimeMethod = keyof typeof RUNTIME_OPERATIONS
/** Repository-wide methods; the daemon's own (`ping`, `daemon.*`) are served by the daemon itself. */
export type RepoMethod = Exclude<keyof typeof REPO_OPERATIONS, DaemonMethod>
export type DaemonMethod = 'ping' | 'daemon.status' | 'daemon.stop'
/** The checked arguments of `method`. */
export type ArgsOf<M extends Method> = z.output<(typeof OPERATION_SPECS)[M]['args']>

/** The spec of `method`, or undefined (own properties only: `__proto__` is not a method). */
export function operationSpec(method: string): OperationSpec | undefined {
  return Object.hasOwn(OPERATION_SPECS, method) ? (OPERATION_SPECS as Record<string, OperationSpec>)[method] : undefined
}

/**
 * Checks `raw` against the arguments of `method`. A field that is null counts
 * as absent (msgpack and JSON clients often send nil for "not given").
 * Throws UNKNOWN_MESSAGE for an unknown method and INVALID_ARGUMENT naming
 * the field for bad arguments.
 */
export function parseArgs<M extends Method>(method: M, raw: unknown): ArgsOf<M>
export function parseArgs(method: string, raw: unknown): Record<string, unknown>
export function parseArgs(method: string, raw: unknown): Record<string, unknown> {
  const spec = operationSpec(method)
  if (!spec) throw new CairnError('UNKNOWN_MESSAGE', `unknown method ${JSON.stringify(method).slice(0, 140)}`, { type: method })
  return checkArgs(method, spec.args, raw)
}

/** As parseArgs, against any object schema (the MCP tools narrow some operations' arguments). */
export function checkArgs<S extends z.ZodObject>(method: string, schema: S, raw: unknown): z.output<S> {
  const input = withoutNulls(raw ?? {})
  // Any parse option turns off zod's compiled fast path (2.0 against 0.23 µs
  // for issues.show's arguments, a tenth of the daemon's CPU per read), and
  // the options only shape the issues of a failure: valid arguments parse
  // without them, and only bad ones parse again to be told in our words.
  const fast = schema.safeParse(input)
  if (fast.success) return fast.data
  const r = schema.safeParse(input, PARSE_OPTIONS)
  if (!r.success) throw argsError(method, r.error.issues, Object.keys(schema.shape))
  return r.data
}

function withoutNulls(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw
  const o = raw as Record<string, unknown>
  let out: Record<string, unknown> | null = null
  for (const k of Object.keys(o)) {
    if (o[k] !== null) continue
    out ??= { ...o }
    delete out[k]
  }
  return out ?? raw
}

export { argsError } from './args-error.ts'
export type { OperationSpec } from './spec.ts'
