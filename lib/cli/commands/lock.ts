/**
 * `cairn lock ...`: leases for short-lived callers. A lease taken here is
 * kept as a hold of your agent (lib/daemon/holds.ts) with its lease id:
 * every later command of the agent renews it, and `renew`/`release` find
 * it by resource alone. Another agent gets LEASE_NOT_HELD. `break` ends
 * anyone's lease on purpose, recorded with your reason.
 */
import { Command } from 'commander'
import { usage, type Cli } from '../context.ts'
import { EXIT_CLAIM_LAPSED, EXIT_OK } from '../exit-codes.ts'
import { FLAGS } from '../flags.ts'
import { leaseLine, when, type Names } from '../output.ts'

type Opts = Record<string, unknown>
type View = { resource: string; token: number; holder: { actor: string; agent?: string }; expiresAt: number; live: boolean }

/** A lease given by `[token]` and `--lease-id`, for one granted elsewhere; else the agent's own hold. */
function named(token: number | undefined, o: Opts): Record<string, unknown> | Error {
  if (o.leaseId !== undefined && token === undefined) return usage('--lease-id needs the lease\'s token too')
  return { ...(token !== undefined ? { token } : {}), ...(o.leaseId !== undefined ? { leaseId: o.leaseId } : {}) }
}

export function lockCommand(cli: Cli): Command {
  const lock = new Command('lock').description('leases on repo:, path: and issue: resources')

  lock.command('acquire <resource>').description('lease a resource; prints its fencing token')
    .requiredOption('--ttl <ms>', 'time to live in ms (every later command of your agent renews it)', FLAGS.ttlMs)
    .option('--wait <ms>', 'wait up to this long for a conflicting lease to go', FLAGS.waitMs)
    .option('--remote <remote>', 'lease on this git remote (name, URL or path), across machines')
    .option('--pid <pid>', 'keep the lease while this process lives (the daemon renews it)', FLAGS.pid)
    .action(async (resource: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.acquire', { resource, ttlMs: o.ttl, ...(o.wait !== undefined ? { waitMs: o.wait } : {}),
        ...(o.remote !== undefined ? { remote: o.remote } : {}), ...(o.pid !== undefined ? { pid: o.pid } : {}) }, leaseLine as never)
    })

  lock.command('renew').description('extend a lease your agent holds')
    .argument('<resource>').argument('[token]', 'the fencing token (with --lease-id: a lease granted elsewhere)', FLAGS.token)
    .option('--lease-id <id>', 'the lease id, for a lease your agent does not hold here')
    .option('--ttl <ms>', 'new time to live in ms (default: as granted)', FLAGS.ttlMs)
    .action(async (resource: string, token: number | undefined, o: Opts, cmd: Command) => {
      const n = named(token, o)
      if (n instanceof Error) { cli.fail(cmd, n); return }
      await cli.call(cmd, 'locks.renew', { resource, ...n, ...(o.ttl !== undefined ? { ttlMs: o.ttl } : {}) }, leaseLine as never)
    })

  lock.command('release').description('give up a lease your agent holds')
    .argument('<resource>').argument('[token]', 'the fencing token (with --lease-id: a lease granted elsewhere)', FLAGS.token)
    .option('--lease-id <id>', 'the lease id, for a lease your agent does not hold here')
    .action(async (resource: string, token: number | undefined, o: Opts, cmd: Command) => {
      const n = named(token, o)
      if (n instanceof Error) { cli.fail(cmd, n); return }
      await cli.call(cmd, 'locks.release', { resource, ...n }, ((r: { resource: string; token: number }) => `released ${r.resource} (token ${r.token})`) as never)
    })

  lock.command('break <resource>').description("end whoever's lease is on <resource> now; recorded, and its holder's fenced writes are refused")
    .requiredOption('--reason <text>', 'why (recorded with who and when)')
    .option('--remote <remote>', 'break the lease on this git remote')
    .action(async (resource: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.break', { resource, reason: o.reason, ...(o.remote !== undefined ? { remote: o.remote } : {}) }, ((r: { resource: string; token: number; burned: number; holder: { actor: string; agent?: string } }, names: Names) =>
        `broke ${r.resource} (token ${r.token}, held by ${r.holder.agent ?? names(r.holder.actor)}); the next lease gets a token above ${r.burned}`) as never, { names: true })
    })

  lock.command('list').description('leases of the repository')
    .action(async (_o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.list', {}, ((l: View[], names: Names) =>
        (l.length === 0 ? '(no leases)' : l.map((x) => `${x.resource}  token ${x.token}  held by ${x.holder.agent ?? names(x.holder.actor)}  ` +
          `${x.live ? 'expires' : 'lapsed'} ${when(x.expiresAt)}`).join('\n'))) as never, { names: true })
    })

  lock.command('status <resource>').description('who holds a resource, and how many wait')
    .option('--remote <remote>', 'as the git remote holds it now')
    .action(async (resource: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.status', { resource, ...(o.remote !== undefined ? { remote: o.remote } : {}) },
        ((r: { resource: string; lease: View | null; waiters: number }, names: Names) => (r.lease === null ? `${r.resource}: free` : `${r.resource}  token ${r.lease.token ?? '-'}  ` +
          `held by ${r.lease.holder.agent ?? names(r.lease.holder.actor)}  ${r.lease.live ? 'expires' : 'lapsed'} ${when(r.lease.expiresAt)}`) +
          (r.waiters > 0 ? `  (${r.waiters} waiting)` : '')) as never, { names: true })
    })

  return lock
}

/** `cairn heartbeat`: renew everything your agent holds in the repository, and say what lapsed. */
export function heartbeatCommand(cli: Cli): Command {
  return new Command('heartbeat').description('renew every claim and lease your agent holds here (every command does this too)')
    .action(async (_o: Opts, cmd: Command) => {
      await cli.call(cmd, 'agent.heartbeat', {}, ((r: { holds: { resource: string; token: number; expiresAt: number; issueId?: string }[]; lapsed: { message: string }[]; failed: { resource: string; message: string }[] }) =>
        [
          ...r.holds.map((h) => `holding ${leaseLine(h)}`),
          ...r.lapsed.map((l) => `lapsed: ${l.message}`),
          ...r.failed.map((f) => `not renewed now: ${f.resource}: ${f.message}`),
        ].join('\n') || '(nothing held)') as never, { exit: ((r: { lapsed: unknown[] }) => (r.lapsed.length > 0 ? EXIT_CLAIM_LAPSED : EXIT_OK)) as never })
    })
}
