/**
 * Lease operations for short-lived callers. A CLI process cannot heartbeat
 * after it exits, so leases granted here are never auto-renewed: the caller
 * gets `{ resource, token, expiresAt }` and renews or releases by token,
 * from this process or another one (the LockKeeper checks the token).
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { LeaseInfo } from '../../../protocol/messages.ts'
import type { LockMethod } from '../../../protocol/operations/index.ts'
import type { Repo } from '../../api/repo.ts'
import type { Impls, LeaseHandleLike, OpContext } from './types.ts'

const view = (h: LeaseHandleLike) => ({ resource: h.resource, token: h.token, expiresAt: h.expiresAt })

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

export const lockOperations: Impls<LockMethod> = {
  'locks.acquire': async (ctx, a) => {
    const repo = await ctx.repo()
    const waitMs = a.waitMs ?? 0
    // A remote lease is fenced on (epoch, holder session): only this daemon's session, which
    // keeps the handle in its book, can renew or release it later.
    const h = await repo.locks.acquire(a.resource, {
      ttlMs: a.ttlMs, autoRenew: false, signal: ctx.signal, ...(waitMs > 0 ? { wait: { timeoutMs: waitMs } } : {}),
      ...(a.remote !== undefined ? { scope: 'remote' as const, remote: a.remote } : {}),
    })
    ctx.leases.put(h)
    return view(h)
  },
  'locks.renew': async (ctx, a) => {
    const repo = await ctx.repo()
    const ttlMs = a.ttlMs ?? 60_000
    const h = handleFor(ctx, repo, a.resource, a.token, ttlMs)
    try {
      await h.renew(ttlMs)
    } catch (err) {
      if (err instanceof CairnError && err.code === 'LEASE_LOST') ctx.leases.delete(a.resource, a.token)
      throw err
    }
    return view(h)
  },
  'locks.release': async (ctx, a) => {
    const repo = await ctx.repo()
    await handleFor(ctx, repo, a.resource, a.token, 1).release()
    ctx.leases.delete(a.resource, a.token)
    return { resource: a.resource, token: a.token, released: true }
  },
  'locks.list': async (ctx) => (await ctx.repo()).locks.list(),
  'locks.status': async (ctx, a) => (await ctx.repo()).locks.status(a.resource, a.remote !== undefined ? { scope: 'remote', remote: a.remote } : undefined),
  'locks.policy': async (ctx, a) => {
    const repo = await ctx.repo()
    if (a.policy !== undefined) await repo.locks.setPolicy(a.policy)
    return { policy: await repo.locks.policy() }
  },
}
