/**
 * Issue-board operations. Arguments arrive checked against their schema
 * (protocol/operations/issues.ts) and pass through to `repo.issues.*`; the
 * library decides what depends on the store, so the daemon, the embedded
 * CLI and a library caller fail identically.
 */
import type { IssueMethod } from '../../../protocol/operations/index.ts'
import { SHARED_ANSWER } from '../../kernel/shared-answer.ts'
import { writeOpts, type Impls } from './types.ts'

/** Answers are encoded (daemon) or printed (embedded CLI) and never changed: no copies needed. */
const SHARED = { [SHARED_ANSWER]: true }

export const issueOperations: Impls<IssueMethod> = {
  'issues.create': async (ctx, a) => (await ctx.repo()).issues.create({ title: a.title, body: a.body, labels: a.labels }, writeOpts(a)),
  'issues.show': async (ctx, a) => (await ctx.repo()).issues.show(a.id, SHARED),
  'issues.list': async (ctx, a) => (await ctx.repo()).issues.list({ state: a.state, label: a.label, assignee: a.assignee }, SHARED),
  'issues.update': async (ctx, a) => (await ctx.repo()).issues.update(a.id, { title: a.title, body: a.body }, writeOpts(a)),
  'issues.comment': async (ctx, a) => (await ctx.repo()).issues.comment(a.id, a.body, writeOpts(a)),
  'issues.close': async (ctx, a) => (await ctx.repo()).issues.close(a.id, writeOpts(a)),
  'issues.reopen': async (ctx, a) => (await ctx.repo()).issues.reopen(a.id, writeOpts(a)),
  'issues.label': async (ctx, a) => (await ctx.repo()).issues.label(a.id, { add: a.add, remove: a.remove }, writeOpts(a)),
  'issues.assign': async (ctx, a) => (await ctx.repo()).issues.assign(a.id, { add: a.add, remove: a.remove }, writeOpts(a)),
  'issues.link': async (ctx, a) => (await ctx.repo()).issues.link(a.id, { url: a.url, note: a.note }, writeOpts(a)),
  'issues.attach': async (ctx, a) => (await ctx.repo()).issues.attach(a.id, { name: a.name, sha256: a.sha256, mime: a.mime }, writeOpts(a)),
  'issues.depend': async (ctx, a) => (await ctx.repo()).issues.depend(a.id, { target: a.target, type: a.type, remove: a.remove }, writeOpts(a)),
  'issues.ready': async (ctx, a) => (await ctx.repo()).issues.ready(a.label === undefined ? {} : { label: a.label }, SHARED),
  'issues.topo': async (ctx) => (await ctx.repo()).issues.topo(SHARED),
  'issues.history': async (ctx, a) => (await ctx.repo()).issues.history(a.id, SHARED),
  /**
   * Claims the next ready issue for the caller. The lease is not renewed by
   * the daemon (the caller is a short-lived process): renew it with
   * `locks.renew` before `expiresAt`, or let it lapse.
   */
  'issues.claim': async (ctx, a) => {
    const repo = await ctx.repo()
    const got = await repo.issues.claimNext({ ttlMs: a.ttlMs ?? 60_000, autoRenew: false, ...(a.label === undefined ? {} : { label: a.label }) })
    if (got === null) return null
    ctx.leases.put(got.lease)
    return { issue: got.issue, lease: { resource: got.lease.resource, token: got.lease.token, expiresAt: got.lease.expiresAt } }
  },
}
