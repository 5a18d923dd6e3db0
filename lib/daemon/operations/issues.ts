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
import { fencedWriteOpts, readEncoded as read, writeOpts, type Impls } from './types.ts'
import type { WriteOptions } from '../../api/issues.ts'

export const issueOperations: Impls<IssueMethod> = {
  'issues.create': async (ctx, a) => (await ctx.repo()).issues.create({ title: a.title, body: a.body, labels: a.labels }, writeOpts(a)),
  'issues.show': (ctx, a) => read(ctx, M.issueShow, { id: a.id }),
  'issues.list': (ctx, a) => read(ctx, M.issueList, { state: a.state, label: a.label, assignee: a.assignee, limit: a.limit, after: a.after }),
  'issues.update': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.update(a.id, { title: a.title, body: a.body }, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
  'issues.comment': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.comment(a.id, a.body, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
  /**
   * Closes the issue; when the calling agent holds its claim, the claim's
   * lease is released in the same step and the hold forgotten. `reason` is
   * recorded.
   */
  'issues.close': async (ctx, a) => {
    const repo = await ctx.repo()
    const holds = ctx.holds.of(repo.id, repo.actor, repo.path)
    const opts = { ...(await fencedWriteOpts(ctx, repo, a) as WriteOptions), ...(a.reason !== undefined ? { reason: a.reason } : {}) }
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
  'issues.reopen': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.reopen(a.id, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
  'issues.label': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.label(a.id, { add: a.add, remove: a.remove }, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
  'issues.assign': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.assign(a.id, { add: a.add, remove: a.remove }, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
  'issues.link': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.link(a.id, { url: a.url, note: a.note }, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
  'issues.attach': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.attach(a.id, { name: a.name, sha256: a.sha256, mime: a.mime }, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
  'issues.depend': async (ctx, a) => {
    const repo = await ctx.repo()
    return repo.issues.depend(a.id, { target: a.target, type: a.type, remove: a.remove }, await fencedWriteOpts(ctx, repo, a) as WriteOptions)
  },
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
