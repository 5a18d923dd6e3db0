/**
 * The calling agent's own operations: the heartbeat every command of an
 * agent sends first (it renews what the agent holds and reports what lapsed)
 * and the repository's agent names.
 */
import { z } from 'zod'
import { resource } from './fields.ts'
import { specs } from './spec.ts'

export const AGENT_OPERATIONS = specs({
  'agent.heartbeat': {
    summary: 'renew every claim and lease the calling agent holds in the repository, and report what lapsed since its last command',
    args: z.strictObject({ skip: resource.optional().describe('leave this hold alone: the command that follows renews, releases or breaks it itself') }),
    reply: '{ holds: [{ resource, token, leaseId, expiresAt, ttlMs, issueId? }], lapsed: [{ code: CLAIM_LAPSED, resource, token, issueId?, expiresAt, message }], failed: [{ resource, code, message }] }',
  },
  'agents.list': {
    summary: "the repository's agents: their names and actor ids (events and leases carry actor ids)",
    args: z.strictObject({}),
    reply: 'a list of { agent, actor, createdAt }',
  },
})
