/**
 * Lease operations for short-lived callers. A CLI process cannot heartbeat
 * after it exits, so a lease granted here is kept as a hold of the caller's
 * agent (holds.ts), with its lease id: the agent's later commands renew it
 * (each command does), release it by resource alone, and nobody else can
 * (LEASE_NOT_HELD). `pid` ties a hold to a process the daemon keeps it
 * renewed for; `break` ends anyone's lease on purpose, recorded.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { LockMethod } from '../../../protocol/operations/index.ts'
import type { Repo } from '../../api/repo.ts'
import type { Hold } from '../holds.ts'
import { processStart } from '../hold-watch.ts'
import { handleOf, holdView, isLapse, renewHold } from './holding.ts'
import type { Impls, OpContext } from './types.ts'

/** `pid`: a live process of this machine, watched by the daemon only; with its start time (a reused pid is another process). */
export function checkPid(ctx: OpContext, pid: number | undefined): { pid: number; pidStart: string } | Record<string, never> {
  if (pid === undefined) return {}
  if (ctx.mode !== 'daemon') throw invalidArgument('pid', 'needs the daemon, which watches the process (run without --no-daemon)')
  const pidStart = processStart(pid)
  if (pidStart === null) throw invalidArgument('pid', `no process ${pid} is running`)
  return { pid, pidStart }
}

/**
 * The hold a call names: the agent's own on `resource`, or one given by
 * `token` (and `leaseId`, for a lease granted elsewhere). A token alone,
 * without a hold of the agent, goes to the LockKeeper without an id, which
 * tells a lease that is over (LEASE_LOST) from one held by someone else
 * (LEASE_NOT_HELD). Neither: the agent holds nothing there.
 */
function holdFor(ctx: OpContext, repo: Repo, a: { resource: string; token?: number | undefined; leaseId?: string | undefined }): Hold {
  const own = ctx.holds.of(repo.id, repo.actor, repo.path).find(a.resource)
  if (own !== undefined && (a.token === undefined || a.token === own.token) && (a.leaseId === undefined || a.leaseId === own.leaseId)) return own
  if (a.token === undefined) {
    if (a.leaseId !== undefined) throw invalidArgument('token', 'is required with leaseId')
    throw new CairnError('LEASE_NOT_HELD', `agent ${repo.agent ?? repo.actor} holds no lease on ${a.resource} here`, { resource: a.resource })
  }
  return { resource: a.resource, token: a.token, leaseId: a.leaseId ?? '', ttlMs: own?.ttlMs ?? 60_000, expiresAt: 0, ...(own?.remote ? { remote: own.remote } : {}) }
}

export const lockOperations: Impls<LockMethod> = {
  'locks.acquire': async (ctx, a) => {
    const repo = await ctx.repo()
    const waitMs = a.waitMs ?? 0
    const watched = checkPid(ctx, a.pid)
    const h = await repo.locks.acquire(a.resource, {
      ttlMs: a.ttlMs, autoRenew: false, signal: ctx.signal, ...(waitMs > 0 ? { wait: { timeoutMs: waitMs } } : {}),
      ...(a.remote !== undefined ? { scope: 'remote' as const, remote: a.remote } : {}),
    })
    h.dispose()
    const hold: Hold = { resource: h.resource, token: h.token, leaseId: h.leaseId ?? '', ttlMs: a.ttlMs, expiresAt: h.expiresAt,
      ...(h.remote !== undefined ? { remote: h.remote } : {}), ...watched }
    ctx.holds.of(repo.id, repo.actor, repo.path).put(hold)
    return holdView(hold)
  },
  'locks.renew': async (ctx, a) => {
    const repo = await ctx.repo()
    const hold = holdFor(ctx, repo, a)
    const got = await renewHold(repo, ctx.holds.of(repo.id, repo.actor, repo.path), hold, a.ttlMs ?? hold.ttlMs)
    if (isLapse(got)) throw new CairnError('LEASE_LOST', got.message, { resource: a.resource, token: hold.token })
    return holdView(got)
  },
  'locks.release': async (ctx, a) => {
    const repo = await ctx.repo()
    const hold = holdFor(ctx, repo, a)
    const h = handleOf(repo, hold)
    try {
      await h.release()
    } finally {
      h.dispose()
    }
    const own = ctx.holds.of(repo.id, repo.actor, repo.path)
    if (own.find(a.resource)?.token === hold.token) own.remove(a.resource)
    return { resource: a.resource, token: hold.token, released: true }
  },
  'locks.break': async (ctx, a) => {
    const repo = await ctx.repo()
    const record = await repo.locks.break(a.resource, { reason: a.reason, ...(a.remote !== undefined ? { scope: 'remote' as const, remote: a.remote } : {}) })
    const own = ctx.holds.of(repo.id, repo.actor, repo.path)
    if (own.find(record.resource)?.token === record.token) own.remove(record.resource)
    return record
  },
  'locks.list': async (ctx) => (await ctx.repo()).locks.list(),
  'locks.status': async (ctx, a) => (await ctx.repo()).locks.status(a.resource, a.remote !== undefined ? { scope: 'remote', remote: a.remote } : undefined),
  'locks.policy': async (ctx, a) => {
    const repo = await ctx.repo()
    if (a.policy !== undefined) await repo.locks.setPolicy(a.policy)
    return { policy: await repo.locks.policy() }
  },
}
