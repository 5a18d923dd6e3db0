/**
 * Lease operations for short-lived callers. A CLI process cannot heartbeat
 * after it exits, so leases granted here are never auto-renewed: the caller
 * gets `{ resource, token, expiresAt }` and renews or releases by token,
 * from this process or another one (the LockKeeper checks the token).
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { LeaseInfo } from '../../../protocol/messages.ts'
import type { Repo } from '../../api/repo.ts'
import { optInt, reqInt, type Args, type LeaseHandleLike, type OpContext, type Operation } from './types.ts'

const view = (h: LeaseHandleLike) => ({ resource: h.resource, token: h.token, expiresAt: h.expiresAt })

function resourceOf(a: Args): string {
  if (typeof a.resource !== 'string' || a.resource.length === 0) throw invalidArgument('resource', 'must be a non-empty string')
  return a.resource
}

/** The handle this runtime granted, or one adopted from the token (granted by an earlier process). */
function handleFor(ctx: OpContext, repo: Repo, resource: string, token: number, ttlMs: number): LeaseHandleLike {
  const known = ctx.leases.get(resource, token)
  if (known) return known
  const info: LeaseInfo = {
    resource, token, ttlMs, holder: { actor: repo.actor, session: '' }, grantedAt: 0, expiresAt: 0, heartbeatAt: 0,
  }
  const h = repo.locks.adopt(info, ttlMs, false)
  ctx.leases.put(h)
  return h
}

export const lockOperations: Record<string, Operation> = {
  'locks.acquire': {
    run: async (ctx, a) => {
      const repo = await ctx.repo()
      const waitMs = optInt(a, 'waitMs') ?? 0
      // A remote lease is fenced on (epoch, holder session): only this daemon's session, which
      // keeps the handle in its book, can renew or release it later.
      const h = await repo.locks.acquire(resourceOf(a), {
        ttlMs: a.ttlMs as number, autoRenew: false, signal: ctx.signal, ...(waitMs > 0 ? { wait: { timeoutMs: waitMs } } : {}),
        ...(a.remote !== undefined ? { scope: 'remote' as const, remote: a.remote as string } : {}),
      })
      ctx.leases.put(h)
      return view(h)
    },
  },
  'locks.renew': {
    run: async (ctx, a) => {
      const repo = await ctx.repo()
      const resource = resourceOf(a)
      const token = reqInt(a, 'token', 1)
      const ttlMs = optInt(a, 'ttlMs', 1) ?? 60_000
      const h = handleFor(ctx, repo, resource, token, ttlMs)
      try {
        await h.renew(ttlMs)
      } catch (err) {
        if (err instanceof CairnError && err.code === 'LEASE_LOST') ctx.leases.delete(resource, token)
        throw err
      }
      return view(h)
    },
  },
  'locks.release': {
    run: async (ctx, a) => {
      const repo = await ctx.repo()
      const resource = resourceOf(a)
      const token = reqInt(a, 'token', 1)
      await handleFor(ctx, repo, resource, token, 1).release()
      ctx.leases.delete(resource, token)
      return { resource, token, released: true }
    },
  },
  'locks.list': { run: async (ctx) => (await ctx.repo()).locks.list() },
  'locks.status': {
    run: async (ctx, a) => (await ctx.repo()).locks.status(resourceOf(a),
      a.remote !== undefined ? { scope: 'remote', remote: a.remote as string } : undefined),
  },
  'locks.policy': {
    run: async (ctx, a) => {
      const repo = await ctx.repo()
      if (a.policy !== undefined) await repo.locks.setPolicy(a.policy as never)
      return { policy: await repo.locks.policy() }
    },
  },
}
