/**
 * The issue board's operations: arguments and replies. Argument names are
 * the library's (`repo.issues.*`); the reply is what the library returns.
 */
import { z } from 'zod'
import { LIMITS } from '../limits.ts'
import { intIn, issueRef, name, names, opId, pid, text, title, ttlMs, writeOptions } from './fields.ts'
import { DEP_TYPES, ISSUE_STATES } from './choices.ts'
import { specs } from './spec.ts'

const id = issueRef()
/** A page of a listing: at most `limit` issues, starting after the issue `after` (the last of the previous page). */
const paging = {
  limit: intIn(1).optional().describe('most issues to return (default all)'),
  after: z.string().regex(/^[0-9a-f]{32}$/, { error: 'must be a full issue id (32 lowercase hex)' }).optional()
    .describe('the full id of the last issue of the previous page: this page starts right after it'),
}
const WRITE = 'a write result { issueId, seq, eventIds, duplicate, noop? }: seq is the local log position of its (first) event; duplicate is true when opId had applied it already; noop when it would have changed nothing (no event logged)'
const SUMMARIES = 'a list of issue summaries { id, title, state, labels, assignees, dependencies, comments (a count), createdAt, createdBy, updatedAt }'

export const ISSUE_OPERATIONS = specs({
  'issues.create': {
    summary: 'create an issue',
    args: z.strictObject({
      title,
      body: text(LIMITS.body, true).optional().describe(`the description (Markdown, at most ${LIMITS.body} characters)`),
      labels: names('labels to put on the issue').optional(),
      ...writeOptions,
    }),
    reply: 'the new issue (an issue projection: id, title, body, state, labels, assignees, comments, links, attachments, dependencies, createdAt, createdBy, updatedAt, ...)',
  },
  'issues.show': {
    summary: 'one issue in full, with its comments, links and dependencies',
    args: z.strictObject({ id }),
    reply: 'the issue projection',
  },
  'issues.list': {
    summary: 'issues, earliest created first',
    args: z.strictObject({
      state: z.enum(ISSUE_STATES).optional().describe('only issues in this state (default all)'),
      label: name().optional().describe('only issues with this label'),
      assignee: name().optional().describe('only issues assigned to this name'),
      ...paging,
    }),
    reply: SUMMARIES,
  },
  'issues.update': {
    summary: "change an issue's title and/or body (at least one)",
    args: z.strictObject({
      id,
      title: title.optional(),
      body: text(LIMITS.body, true).optional().describe('the new description'),
      ...writeOptions,
    }),
    reply: WRITE,
  },
  'issues.comment': {
    summary: 'add a comment to an issue',
    args: z.strictObject({ id, body: text(LIMITS.body, false).describe(`the comment (Markdown, 1..${LIMITS.body} characters, not blank)`), ...writeOptions }),
    reply: WRITE,
  },
  'issues.close': {
    summary: "close an issue; the calling agent's claim on it ends (its lease is released in the same step)",
    args: z.strictObject({ id, reason: text(LIMITS.body, false).optional().describe('why: recorded as a comment with the close'), ...writeOptions }),
    reply: `${WRITE}; released: true when it ended the caller's claim`,
  },
  'issues.reopen': {
    summary: 'reopen a closed issue',
    args: z.strictObject({ id, ...writeOptions }),
    reply: WRITE,
  },
  'issues.label': {
    summary: 'add and/or remove labels (at least one entry)',
    args: z.strictObject({ id, add: names('labels to add').optional(), remove: names('labels to remove').optional(), ...writeOptions }),
    reply: WRITE,
  },
  'issues.assign': {
    summary: 'add and/or remove assignees (at least one entry)',
    args: z.strictObject({ id, add: names('assignees to add').optional(), remove: names('assignees to remove').optional(), ...writeOptions }),
    reply: WRITE,
  },
  'issues.link': {
    summary: 'attach a link to an issue',
    args: z.strictObject({
      id,
      url: z.string().min(1, { error: `must be a string of 1..${LIMITS.url} characters` }).max(LIMITS.url, { error: `must be a string of 1..${LIMITS.url} characters` })
        .describe('an absolute URL'),
      note: text(LIMITS.note, true).optional().describe('what the link is'),
      ...writeOptions,
    }),
    reply: WRITE,
  },
  'issues.attach': {
    summary: "record an attachment's metadata (the content lives elsewhere, addressed by its sha256)",
    args: z.strictObject({
      id,
      name: name(LIMITS.attachmentName).describe('the file name'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex characters' }).describe("the content's SHA-256, 64 lowercase hex"),
      mime: z.string().max(LIMITS.mime, { error: 'must be a media type such as text/plain' })
        .regex(/^[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*\/[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*$/, { error: 'must be a media type such as text/plain' })
        .describe('the media type, e.g. text/plain'),
      ...writeOptions,
    }),
    reply: WRITE,
  },
  'issues.depend': {
    summary: 'add (or with remove, remove) a dependency from issue id to issue target; a cycle of blocks/depends_on is refused with CYCLE',
    args: z.strictObject({
      id: issueRef('the dependent issue'),
      target: issueRef('the issue it depends on (or blocks, or relates to)'),
      type: z.enum(DEP_TYPES).describe('depends_on: id waits for target; blocks: id blocks target; related_to: no ordering'),
      remove: z.boolean().optional().describe('remove the dependency instead of adding it'),
      ...writeOptions,
    }),
    reply: WRITE,
  },
  'issues.ready': {
    summary: 'open issues with no open blocker that nobody has claimed, earliest created first',
    args: z.strictObject({
      label: name().optional().describe('only issues with this label'),
      includeClaimed: z.boolean().optional().describe('list claimed issues too, each with claimedBy { actor, agent, token, expiresAt }'),
      ...paging,
    }),
    reply: SUMMARIES,
  },
  'issues.topo': {
    summary: 'open issues in dependency order (the first limit of them)',
    args: z.strictObject({ limit: paging.limit }),
    reply: '{ order: issue summaries, cycles: lists of issue ids merged from replicas that form a cycle }',
  },
  'issues.history': {
    summary: "an issue's events, in projection order",
    args: z.strictObject({ id }),
    reply: 'a list of logged events { seq, event: { id, issueId, actor, ts, parent, kind: { type, ... } } }',
  },
  'issues.claim': {
    summary: "lease and assign the next ready issue nobody holds, in one step; two callers never win the same issue; the claim is kept as the agent's hold (renewed by each of its commands)",
    args: z.strictObject({
      label: name().optional().describe('only issues with this label'),
      ttlMs: ttlMs.optional().describe('how long the claim lasts unless renewed, in ms (default 60000)'),
      opId: opId.optional().describe('idempotency key: a retried claim answers the same issue'),
      pid: pid.optional(),
    }),
    reply: '{ issue: the issue projection, lease: { resource, token, leaseId, expiresAt, ttlMs, issueId }, duplicate }, or null when nothing is claimable',
  },
})
