/**
 * Issue-board operations. Arguments pass through to `repo.issues.*` as they
 * came: the library validates every field (INVALID_ARGUMENT naming it), so
 * the daemon, the embedded CLI and a library caller fail identically.
 */
import type { DepType } from '../../../protocol/events/types.ts'
import { optInt, optString, writeOpts, type Args, type Operation } from './types.ts'
import { SHARED_ANSWER } from '../../kernel/shared-answer.ts'

const s = (args: Args, field: string): string => args[field] as string
/** Answers are encoded (daemon) or printed (embedded CLI) and never changed: no copies needed. */
const SHARED = { [SHARED_ANSWER]: true }
const filter = (args: Args): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const k of ['state', 'label', 'assignee']) if (args[k] !== undefined) out[k] = args[k]
  return out
}

export const issueOperations: Record<string, Operation> = {
  'issues.create': { run: async (ctx, a) => (await ctx.repo()).issues.create({ title: s(a, 'title'), body: a.body as string | undefined, labels: a.labels as string[] | undefined }, writeOpts(a)) },
  'issues.show': { run: async (ctx, a) => (await ctx.repo()).issues.show(s(a, 'id'), SHARED) },
  'issues.list': { run: async (ctx, a) => (await ctx.repo()).issues.list(filter(a) as never, SHARED) },
  'issues.update': { run: async (ctx, a) => (await ctx.repo()).issues.update(s(a, 'id'), { title: a.title as string | undefined, body: a.body as string | undefined }, writeOpts(a)) },
  'issues.comment': { run: async (ctx, a) => (await ctx.repo()).issues.comment(s(a, 'id'), s(a, 'body'), writeOpts(a)) },
  'issues.close': { run: async (ctx, a) => (await ctx.repo()).issues.close(s(a, 'id'), writeOpts(a)) },
  'issues.reopen': { run: async (ctx, a) => (await ctx.repo()).issues.reopen(s(a, 'id'), writeOpts(a)) },
  'issues.label': { run: async (ctx, a) => (await ctx.repo()).issues.label(s(a, 'id'), { add: a.add as string[] | undefined, remove: a.remove as string[] | undefined }, writeOpts(a)) },
  'issues.assign': { run: async (ctx, a) => (await ctx.repo()).issues.assign(s(a, 'id'), { add: a.add as string[] | undefined, remove: a.remove as string[] | undefined }, writeOpts(a)) },
  'issues.link': { run: async (ctx, a) => (await ctx.repo()).issues.link(s(a, 'id'), { url: s(a, 'url'), note: a.note as string | undefined }, writeOpts(a)) },
  'issues.attach': { run: async (ctx, a) => (await ctx.repo()).issues.attach(s(a, 'id'), { name: s(a, 'name'), sha256: s(a, 'sha256'), mime: s(a, 'mime') }, writeOpts(a)) },
  'issues.depend': {
    run: async (ctx, a) => (await ctx.repo()).issues.depend(s(a, 'id'), { target: s(a, 'target'), type: a.type as DepType, remove: a.remove as boolean | undefined }, writeOpts(a)),
  },
  'issues.ready': { run: async (ctx, a) => (await ctx.repo()).issues.ready(a.label === undefined ? {} : { label: a.label as string }, SHARED) },
  'issues.topo': { run: async (ctx) => (await ctx.repo()).issues.topo(SHARED) },
  'issues.history': { run: async (ctx, a) => (await ctx.repo()).issues.history(s(a, 'id'), SHARED) },
  /**
   * Claims the next ready issue for the caller. The lease is not renewed by
   * the daemon (the caller is a short-lived process): renew it with
   * `locks.renew` before `expiresAt`, or let it lapse.
   */
  'issues.claim': {
    run: async (ctx, a) => {
      const repo = await ctx.repo()
      const label = optString(a, 'label')
      const got = await repo.issues.claimNext({ ttlMs: optInt(a, 'ttlMs', 1) ?? 60_000, autoRenew: false, ...(label === undefined ? {} : { label }) })
      if (got === null) return null
      ctx.leases.put(got.lease)
      return { issue: got.issue, lease: { resource: got.lease.resource, token: got.lease.token, expiresAt: got.lease.expiresAt } }
    },
  },
}
