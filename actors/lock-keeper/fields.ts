/**
 * Field checks shared by the LockKeeper's request parsers (local leases in
 * effects.ts, remote leases in remote/parse.ts): every bad field is
 * INVALID_ARGUMENT naming it, before anything is queued.
 */
import { invalidArgument } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { MAX_GRACE_MS, MAX_TTL_MS } from './leases.ts'

export function body(req: Envelope): Record<string, unknown> {
  const b = req.body ?? {}
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidArgument('body', 'must be an object')
  return b as Record<string, unknown>
}

export function int(b: Record<string, unknown>, field: string, min: number, max: number, optional = false): number | undefined {
  const v = b[field]
  if (v === undefined && optional) return undefined
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) throw invalidArgument(field, `must be an integer in ${min}..${max}`)
  return v as number
}

export function holderOf(a: { actor?: unknown; session?: unknown; agent?: unknown }): { actor: string; session: string; agent?: string } {
  if (typeof a.actor !== 'string' || !/^[0-9a-f]{32}$/.test(a.actor)) throw invalidArgument('actor', 'must be 32 lowercase hex characters')
  if (typeof a.session !== 'string' || a.session.length === 0 || a.session.length > 128) throw invalidArgument('session', 'must be 1..128 characters')
  if (a.agent === undefined || a.agent === null) return { actor: a.actor, session: a.session }
  if (typeof a.agent !== 'string' || a.agent.length === 0 || a.agent.length > 128) throw invalidArgument('agent', 'must be 1..128 characters')
  return { actor: a.actor, session: a.session, agent: a.agent }
}

/** The holder's lease id, when given: what renew and release prove holding with. */
export function leaseIdOf(b: Record<string, unknown>): string | undefined {
  const v = b.leaseId
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' || v.length === 0 || v.length > 128) throw invalidArgument('leaseId', 'must be a lease id of 1..128 characters')
  return v
}

export const ttlOf = (b: Record<string, unknown>, optional = false): number | undefined => int(b, 'ttlMs', 1, MAX_TTL_MS, optional)
export const graceOf = (b: Record<string, unknown>, optional = true): number | undefined => int(b, 'graceMs', 0, MAX_GRACE_MS, optional)
export const tokenOf = (b: Record<string, unknown>): number => int(b, 'token', 1, Number.MAX_SAFE_INTEGER) as number

/** A remote name, URL or path: what `git push <remote>` takes, without control characters. */
export function remoteOf(b: Record<string, unknown>): string {
  const r = b.remote
  // eslint-disable-next-line no-control-regex
  if (typeof r !== 'string' || r.length === 0 || r.length > 4096 || /[\u0000-\u001f\u007f]/.test(r) || r.startsWith('-')) {
    throw invalidArgument('remote', 'must be a remote name, URL or path (1..4096 characters, no control characters, not starting with -)')
  }
  return r
}
