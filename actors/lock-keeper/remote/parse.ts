/** Validates a remote-lease request before it joins the remote lane's queue. */
import { CairnError } from '../../../protocol/errors.ts'
import type { Envelope } from '../../../protocol/envelope.ts'
import { MESSAGE_TYPES as M } from '../../../protocol/messages.ts'
import { parseResource } from '../leases.ts'
import { body, graceOf, holderOf, leaseIdOf, remoteOf, tokenOf, ttlOf } from '../fields.ts'
import { reasonOf } from '../ops.ts'
import type { Holder } from './chain.ts'

export type RemoteOp =
  | { kind: 'acquire'; req: Envelope; resource: string; remote: string; holder: Holder; ttlMs: number; graceMs?: number }
  | { kind: 'renew'; req: Envelope; resource: string; remote: string; holder: Holder; token: number; leaseId?: string; ttlMs?: number }
  | { kind: 'release'; req: Envelope; resource: string; remote: string; holder: Holder; token: number; leaseId?: string }
  | { kind: 'break'; req: Envelope; resource: string; remote: string; by: { actor: string; agent?: string }; reason: string }
  | { kind: 'status'; req: Envelope; resource: string; remote: string }

/** True for the request types the remote lane serves. */
export const REMOTE_TYPES: ReadonlySet<string> = new Set([M.lockRemoteAcquire, M.lockRemoteRenew, M.lockRemoteRelease, M.lockRemoteStatus, M.lockRemoteBreak])

/**
 * Throws INVALID_ARGUMENT naming the field, or UNKNOWN_MESSAGE.
 * @example parseRemoteOp(req) // { kind: 'acquire', resource: 'issue:beef', remote: 'origin', ... }
 */
export function parseRemoteOp(req: Envelope): RemoteOp {
  const b = body(req)
  const resource = parseResource(b.resource).key
  const remote = remoteOf(b)
  switch (req.type) {
    case M.lockRemoteAcquire:
      return { kind: 'acquire', req, resource, remote, holder: holderOf(b), ttlMs: ttlOf(b) as number, graceMs: graceOf(b) }
    case M.lockRemoteRenew:
      return { kind: 'renew', req, resource, remote, holder: holderOf(b), token: tokenOf(b), leaseId: leaseIdOf(b), ttlMs: ttlOf(b, true) }
    case M.lockRemoteRelease:
      return { kind: 'release', req, resource, remote, holder: holderOf(b), token: tokenOf(b), leaseId: leaseIdOf(b) }
    case M.lockRemoteBreak: {
      const { actor, agent } = holderOf({ ...b, session: 'break' })
      return { kind: 'break', req, resource, remote, by: agent === undefined ? { actor } : { actor, agent }, reason: reasonOf(b) }
    }
    case M.lockRemoteStatus:
      return { kind: 'status', req, resource, remote }
    default:
      throw new CairnError('UNKNOWN_MESSAGE', `the remote lease lane does not handle ${req.type}`)
  }
}
