/**
 * Issue-board operations. Arguments arrive checked against their schema
 * (protocol/operations/issues.ts) and pass through to `repo.issues.*`; the
 * library decides what depends on the store, so the daemon, the embedded
 * CLI and a library caller fail identically.
 */
import type { IssueMethod } from '../../../protocol/operations/index.ts'
import { MESSAGE_TYPES as M } from '../../../protocol/messages.ts'
import { readEncoded as read, writeOpts, type Impls } from './types.ts'

export const issueOperations: Impls<IssueMethod> = {
  'issues.create': async (ctx, a) => (await ctx.repo()).issues.create({ title: a.title, body: a.body, labels: a.labels }, writeOpts(a)),
  'issues.show': (ctx, a) => read(ctx, M.issueShow, { id: a.id }),
  'issues.list': (ctx, a) => read(ctx, M.issueList, { state: a.state, label: a.label, assignee: a.assignee, limit: a.limit, after: a.after }),
  'issues.update': async (ctx, a) => (await ctx.repo()).issues.update(a.id, { title: a.title, body: a.body }, writeOpts(a)),
  'issues.comment': async (ctx, a) => (await ctx.repo()).issues.comment(a.id, a.body, writeOpts(a)),
  'issues.close': async (ctx, a) => (await ctx.repo()).issues.close(a.id, writeOpts(a)),
  'issues.reopen': async (ctx, a) => (await ctx.repo()).issues.reopen(a.id, writeOpts(a)),
  'issues.label': async (ctx, a) => (await ctx.repo()).issues.label(a.id, { add: a.add, remove: a.remove }, writeOpts(a)),
  'issues.assign': async (ctx, a) => (await ctx.repo()).issues.assign(a.id, { add: a.add, remove: a.remove }, writeOpts(a)),
  'issues.link': async (ctx, a) => (await ctx.repo()).issues.link(a.id, { url: a.url, note: a.note }, writeOpts(a)),
  'issues.attach': async (ctx, a) => (await ctx.repo()).issues.attach(a.id, { name: a.name, sha256: a.sha256, mime: a.mime }, writeOpts(a)),
  'issues.depend': async (ctx, a) => (await ctx.repo()).issues.depend(a.id, { target: a.target, type: a.type, remove: a.remove }, writeOpts(a)),
  'issues.ready': (ctx, a) => read(ctx, M.issueReady, { label: a.label, limit: a.limit, after: a.after }),
  'issues.topo': (ctx) => read(ctx, M.issueTopo, {}),
  'issues.history': (ctx, a) => read(ctx, M.issueHistory, { id: a.id }),
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
