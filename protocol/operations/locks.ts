/**
 * Lease operations for callers that come and go (the CLI, other languages,
 * MCP sessions). A grant is kept as a hold of the calling agent, with its
 * lease id (the proof of holding): the agent renews, releases or closes it
 * by resource alone, every command of the agent renews it
 * (`agent.heartbeat`), and another agent gets LEASE_NOT_HELD.
 */
import { z } from 'zod'
import { intIn, leaseId, pid, reason, remote, resource, token, ttlMs } from './fields.ts'
import { LEASE_POLICIES } from './choices.ts'
import { specs } from './spec.ts'

const LEASE = '{ resource, token, leaseId, expiresAt, ttlMs }: token is the fencing token (strictly increasing per resource), leaseId the proof of holding, expiresAt in ms since the epoch'

export const LOCK_OPERATIONS = specs({
  'locks.acquire': {
    summary: 'lease a resource; a conflicting live lease fails at once with LEASE_HELD unless waitMs is given',
    args: z.strictObject({
      resource,
      ttlMs: ttlMs.describe('how long the lease lasts unless renewed, in ms'),
      waitMs: intIn(0).optional().describe('wait up to this long (ms) for a conflicting lease to go, in FIFO order'),
      remote: remote.optional().describe('lease on this git remote (name, URL or path) instead, excluding other machines too'),
      pid: pid.optional(),
    }),
    reply: LEASE,
  },
  'locks.renew': {
    summary: 'extend a lease your agent holds (LEASE_LOST once it lapsed past its grace or was taken; LEASE_NOT_HELD when it is not yours)',
    args: z.strictObject({
      resource,
      token: token.optional().describe('the fencing token: needed with leaseId; alone, it names a lease your agent does not hold here'),
      leaseId: leaseId.optional(),
      ttlMs: ttlMs.optional().describe('the new time to live from now, in ms (default: as granted)'),
    }),
    reply: LEASE,
  },
  'locks.release': {
    summary: 'give up a lease your agent holds (LEASE_NOT_HELD when it is not yours)',
    args: z.strictObject({ resource, token: token.optional().describe('the fencing token: needed with leaseId'), leaseId: leaseId.optional() }),
    reply: '{ resource, token, released: true }',
  },
  'locks.break': {
    summary: "end whoever's lease is on exactly this resource, on purpose: recorded (who, when, why) and a token burned, so the old holder's renewals and fenced writes are refused",
    args: z.strictObject({ resource, reason: reason.describe('why the lease is broken (recorded; one line)'), remote: remote.optional().describe('break the lease on this git remote instead (a break commit on its chain)') }),
    reply: '{ resource, token (of the broken lease), burned, holder, by: { actor, agent }, at, reason }',
  },
  'locks.list': {
    summary: 'the live leases of the repository',
    args: z.strictObject({}),
    reply: 'a list of leases { resource, token, holder: { actor, session, agent }, grantedAt, expiresAt, heartbeatAt, ttlMs, graceMs, live, takeoverAt }',
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
