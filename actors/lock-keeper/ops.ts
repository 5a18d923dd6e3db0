/**
 * The LockKeeper's lease requests, validated before they join a batch:
 * every bad field is INVALID_ARGUMENT naming it, and costs no transaction.
 * Reads (list, status, policy and grace gets) are not ops.
 */
import { randomUUID } from 'node:crypto'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { MESSAGE_TYPES as M, type LeaseHolder } from '../../protocol/messages.ts'
import { parseResource } from './leases.ts'
import { body, graceOf, holderOf, int, leaseIdOf, tokenOf, ttlOf } from './fields.ts'
import { LEASE_POLICIES, type LeasePolicy } from './policy.ts'

export const MAX_WAIT_MS = 10 * 60_000
export const MAX_REASON = 1024

export type Op =
  | { kind: 'acquire'; req: Envelope; resource: string; holder: LeaseHolder; ttlMs: number; graceMs?: number; waitMs: number; waitId: string }
  | { kind: 'renew'; req: Envelope; resource: string; token: number; leaseId?: string; ttlMs?: number }
  | { kind: 'release'; req: Envelope; resource: string; token: number; leaseId?: string }
  | { kind: 'break'; req: Envelope; resource: string; by: { actor: string; agent?: string }; reason: string }
  | { kind: 'cancel'; req: Envelope; waitId: string }
  | { kind: 'policy'; req: Envelope; policy: LeasePolicy }
  | { kind: 'grace'; req: Envelope; graceMs: number }
  | { kind: 'wake' }

export type Acquire = Extract<Op, { kind: 'acquire' }>

/** A reason for the record: one line people read, 1..1024 characters. */
export function reasonOf(b: Record<string, unknown>): string {
  const r = b.reason
  // eslint-disable-next-line no-control-regex
  if (typeof r !== 'string' || r.trim().length === 0 || r.length > MAX_REASON || /[\u0000-\u001f\u007f]/.test(r)) {
    throw invalidArgument('reason', `must say why, in 1..${MAX_REASON} characters on one line`)
  }
  return r
}

/**
 * Throws INVALID_ARGUMENT naming the field, or UNKNOWN_MESSAGE.
 * @example parseOp(req) // { kind: 'renew', resource: 'path:a', token: 3, leaseId: '…' }
 */
export function parseOp(req: Envelope): Op {
  const b = body(req)
  switch (req.type) {
    case M.lockAcquire: {
      const resource = parseResource(b.resource).key
      const holder = holderOf(b)
      const ttlMs = ttlOf(b) as number
      const graceMs = graceOf(b)
      const waitMs = int(b, 'waitMs', 0, MAX_WAIT_MS, true) ?? 0
      if (b.waitId !== undefined && (typeof b.waitId !== 'string' || b.waitId.length === 0 || b.waitId.length > 128)) throw invalidArgument('waitId', 'must be 1..128 characters')
      return { kind: 'acquire', req, resource, holder, ttlMs, graceMs, waitMs, waitId: (b.waitId as string | undefined) ?? randomUUID() }
    }
    case M.lockRenew:
      return { kind: 'renew', req, resource: parseResource(b.resource).key, token: tokenOf(b), leaseId: leaseIdOf(b), ttlMs: ttlOf(b, true) }
    case M.lockRelease:
      return { kind: 'release', req, resource: parseResource(b.resource).key, token: tokenOf(b), leaseId: leaseIdOf(b) }
    case M.lockBreak: {
      const resource = parseResource(b.resource).key
      const { actor, agent } = holderOf({ ...b, session: 'break' })
      return { kind: 'break', req, resource, by: agent === undefined ? { actor } : { actor, agent }, reason: reasonOf(b) }
    }
    case M.lockPolicySet:
      if (!LEASE_POLICIES.includes(b.policy as LeasePolicy)) throw invalidArgument('policy', `must be one of ${LEASE_POLICIES.join(', ')}`)
      return { kind: 'policy', req, policy: b.policy as LeasePolicy }
    case M.lockGraceSet:
      return { kind: 'grace', req, graceMs: graceOf(b, false) as number }
    case M.lockCancel:
      if (typeof b.waitId !== 'string' || b.waitId.length === 0) throw invalidArgument('waitId', 'must be a non-empty string')
      return { kind: 'cancel', req, waitId: b.waitId }
    default:
      throw new CairnError('UNKNOWN_MESSAGE', `lock-keeper does not handle ${req.type}`)
  }
}
