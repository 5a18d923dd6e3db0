/**
 * Issue-board operations. Arguments arrive checked against their schema
 * (protocol/operations/issues.ts) and pass through to `repo.issues.*`; the
 * library decides what depends on the store, so the daemon, the embedded
 * CLI and a library caller fail identically.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { WriteResult } from '../../../protocol/messages.ts'
import type { IssueMethod } from '../../../protocol/operations/index.ts'
import { MESSAGE_TYPES as M } from '../../../protocol/messages.ts'
import type { Hold } from '../holds.ts'
import { holdView } from './holding.ts'
import { checkPid } from './locks.ts'
import { readEncoded as read, writeOpts, type Impls } from './types.ts'

export const issueOperations: Impls<IssueMethod> = {
  'issues.create': async (ctx, a) => (await ctx.repo()).issues.create({ title: a.title, body: a.body, labels: a.labels }, writeOpts(a)),
  'issues.show': (ctx, a) => read(ctx, M.issueShow, { id: a.id }),
  'issues.list': (ctx, a) => read(ctx, M.issueList, { state: a.state, label: a.label, assignee: a.assignee, limit: a.limit, after: a.after }),
  'issues.update': async (ctx, a) => (await ctx.repo()).issues.update(a.id, { title: a.title, body: a.body }, writeOpts(a)),
  'issues.comment': async (ctx, a) => (await ctx.repo()).issues.comment(a.id, a.body, writeOpts(a)),
  /**
   * Closes the issue; when the calling agent holds its claim, the claim's
   * lease is released in the same step and the hold forgotten. `reason` is
   * recorded.
   */
  'issues.close': async (ctx, a) => {
    const repo = await ctx.repo()
    const holds = ctx.holds.of(repo.id, repo.actor, repo.path)
    const opts = { ...writeOpts(a), ...(a.reason !== undefined ? { reason: a.reason } : {}) }
    const claims = holds.list().filter((h) => h.issueId?.startsWith(a.id.toLowerCase()))
    const claim = claims.length === 1 && opts.lease === undefined ? claims[0] as Hold : undefined
    if (claim === undefined) return repo.issues.close(a.id, opts)
    let r: WriteResult
    try {
      r = await repo.issues.close(a.id, { ...opts, lease: { token: claim.token, leaseId: claim.leaseId } })
    } catch (err) {
      if (!(err instanceof CairnError) || err.code !== 'LEASE_LOST') throw err
      // The claim is over (the agent's heartbeat reports the lapse): close without it.
      holds.remove(claim.resource)
      return repo.issues.close(a.id, opts)
    }
    holds.remove(claim.resource)
    return r
  },
  'issues.reopen': async (ctx, a) => (await ctx.repo()).issues.reopen(a.id, writeOpts(a)),
  'issues.label': async (ctx, a) => (await ctx.repo()).issues.label(a.id, { add: a.add, remove: a.remove }, writeOpts(a)),
  'issues.assign': async (ctx, a) => (await ctx.repo()).issues.assign(a.id, { add: a.add, remove: a.remove }, writeOpts(a)),
  'issues.link': async (ctx, a) => (await ctx.repo()).issues.link(a.id, { url: a.url, note: a.note }, writeOpts(a)),
  'issues.attach': async (ctx, a) => (await ctx.repo()).issues.attach(a.id, { name: a.name, sha256: a.sha256, mime: a.mime }, writeOpts(a)),
  'issues.depend': async (ctx, a) => (await ctx.repo()).issues.depend(a.id, { target: a.target, type: a.type, remove: a.remove }, writeOpts(a)),
  'issues.ready': (ctx, a) => read(ctx, M.issueReady, { label: a.label, limit: a.limit, after: a.after, includeClaimed: a.includeClaimed }),
  'issues.topo': (ctx, a) => read(ctx, M.issueTopo, { limit: a.limit }),
  'issues.history': (ctx, a) => read(ctx, M.issueHistory, { id: a.id }),
  /**
   * Claims the next ready issue for the calling agent and keeps the claim
   * as its hold (holds.ts): the agent's later commands renew it, `close`
   * releases it, `pid` ties it to a process the daemon renews it for. A
   * retry with the same `opId` answers the same issue. Null: nothing to claim.
   */
  'issues.claim': async (ctx, a) => {
    const repo = await ctx.repo()
    const watched = checkPid(ctx, a.pid)
    const ttlMs = a.ttlMs ?? 60_000
    const got = await repo.issues.claimNext({ ttlMs, autoRenew: false, ...(a.label === undefined ? {} : { label: a.label }), ...(a.opId === undefined ? {} : { opId: a.opId }) })
    if (got === null) return null
    got.lease.dispose()
    const hold: Hold = { resource: got.lease.resource, token: got.lease.token, leaseId: got.lease.leaseId ?? '', ttlMs, expiresAt: got.lease.expiresAt,
      issueId: got.issue.id, ...watched }
    ctx.holds.of(repo.id, repo.actor, repo.path).put(hold)
    return { issue: got.issue, lease: holdView(hold), duplicate: got.duplicate }
  },
}
