/**
 * Lease operations for callers that come and go (the CLI, other languages,
 * MCP sessions): a grant answers `{ resource, token, expiresAt }` and is not
 * renewed by the daemon; the caller renews or releases it by token.
 */
import { z } from 'zod'
import { intIn, remote, resource, token, ttlMs } from './fields.ts'
import { LEASE_POLICIES } from './choices.ts'
import { specs } from './spec.ts'

const LEASE = '{ resource, token, expiresAt }: token is the fencing token (strictly increasing per resource), expiresAt in ms since the epoch'

export const LOCK_OPERATIONS = specs({
  'locks.acquire': {
    summary: 'lease a resource; a conflicting live lease fails at once with LEASE_HELD unless waitMs is given',
    args: z.strictObject({
      resource,
      ttlMs: ttlMs.describe('how long the lease lasts unless renewed, in ms'),
      waitMs: intIn(0).optional().describe('wait up to this long (ms) for a conflicting lease to go, in FIFO order'),
      remote: remote.optional().describe('lease on this git remote (name, URL or path) instead, excluding other machines too; renew and release it through the same daemon'),
    }),
    reply: LEASE,
  },
  'locks.renew': {
    summary: 'extend a lease you hold (refused with LEASE_LOST once it lapsed and was taken)',
    args: z.strictObject({ resource, token, ttlMs: ttlMs.optional().describe('the new time to live from now, in ms (default 60000)') }),
    reply: LEASE,
  },
  'locks.release': {
    summary: 'give a lease up',
    args: z.strictObject({ resource, token }),
    reply: '{ resource, token, released: true }',
  },
  'locks.list': {
    summary: 'the live leases of the repository',
    args: z.strictObject({}),
    reply: 'a list of leases { resource, token, holder: { actor, session }, grantedAt, expiresAt, heartbeatAt, ttlMs }',
  },
  'locks.status': {
    summary: 'who holds exactly this resource, and how many wait for it',
    args: z.strictObject({ resource, remote: remote.optional().describe('as this git remote holds it now') }),
    reply: '{ resource, lease: a lease or null, waiters }',
  },
  'locks.policy': {
    summary: "the repository's lease policy, enforced on every issue write; with policy, sets it first",
    args: z.strictObject({ policy: z.enum(LEASE_POLICIES).optional().describe('off: leases are advisory; warn: unleased writes are reported; require: unleased writes are refused') }),
    reply: '{ policy }',
  },
})
