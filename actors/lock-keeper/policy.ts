/**
 * The lease check every write path runs (library, daemon and CLI all reach
 * it through the RepoWorker), pure: the policy, the leases on disk, the
 * writer, the resource written and, optionally, the writer's fencing token.
 *
 * - Policy `off`: leases are advisory; nothing is checked.
 * - `warn`: a write under someone else's live lease succeeds with a warning.
 * - `require`: it is refused with LEASE_HELD.
 * - A write that carries a token is fenced whatever the policy: unless a
 *   live lease covering the resource is held by the writer with exactly that
 *   token, it is refused with LEASE_LOST. A holder that lost its lease (and
 *   does not know yet) cannot write through it.
 *
 * Leases belong to actors: the same actor in another session counts as the
 * holder here; the token is what tells a stale session from the live one.
 */
import { CairnError } from '../../protocol/errors.ts'
import type { LeaseBreak, WriteResult } from '../../protocol/messages.ts'
import { conflicts, isLive as isLeaseLive, parseResource, type Lease, type Resource } from './leases.ts'

import type { LeasePolicy } from '../../protocol/results.ts'
export type { LeasePolicy }
export const LEASE_POLICIES: readonly LeasePolicy[] = ['off', 'warn', 'require']
/**
 * How long after its last heartbeat a lapsed lease is still protected from
 * takeover, unless the repository set another (`repo.locks.setGrace`). Each
 * lease records the grace it was granted with; this is also the grace of
 * leases stored before they did.
 */
export const GRACE_MS = 5_000

export type LeaseWarning = NonNullable<WriteResult['warnings']>[number]

/** Live under the lease's own grace period (the table's rule; GRACE_MS for leases that carry none). */
export function isLive(lease: Lease, now: number): boolean {
  return isLeaseLive(lease, now, GRACE_MS)
}

/**
 * Throws LEASE_HELD / LEASE_LOST, or returns the warnings to attach.
 * @example checkWrite({ policy: 'require', leases, now, actor, resource: parseResource(`issue:${id}`) })
 */
export function checkWrite(input: {
  policy: LeasePolicy; leases: Iterable<Lease>; now: number; actor: string; resource: Resource; token?: number | null
  /** The break that ended a lease, for the refusal's details. */
  brokenBy?: (resource: string, token: number) => LeaseBreak | undefined
}): LeaseWarning[] {
  const { policy, now, actor, resource, token } = input
  const covering: Lease[] = []
  for (const lease of input.leases) {
    if (isLive(lease, now) && conflicts(parseResource(lease.resource), resource)) covering.push(lease)
  }
  if (token !== undefined && token !== null) {
    const mine = covering.find((l) => l.holder.actor === actor && l.token === token)
    if (!mine) {
      const broken = input.brokenBy?.(resource.key, token)
      throw new CairnError('LEASE_LOST', `token ${token} is not a live lease of ${actor} covering ${resource.key}` +
        (broken ? ` (broken by ${broken.by.agent ?? broken.by.actor}: ${broken.reason})` : ''),
        { resource: resource.key, token, ...(broken ? { broken } : {}) })
    }
  }
  const others = covering.filter((l) => l.holder.actor !== actor)
  if (others.length === 0 || policy === 'off') return []
  const first = others.sort((a, b) => (a.resource < b.resource ? -1 : 1))[0] as Lease
  if (policy === 'require') {
    throw new CairnError('LEASE_HELD', `${resource.key} is leased by ${first.holder.agent ?? first.holder.actor} (${first.resource}) until ${new Date(first.expiresAt).toISOString()}`,
      { resource: resource.key, heldBy: { resource: first.resource, holder: first.holder, expiresAt: first.expiresAt } })
  }
  return others.map((l) => ({ code: 'LEASE_HELD', resource: l.resource, heldBy: l.holder.actor, ...(l.holder.agent ? { agent: l.holder.agent } : {}), expiresAt: l.expiresAt }))
}
