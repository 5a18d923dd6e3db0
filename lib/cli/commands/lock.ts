/**
 * `cairn lock ...`: leases for short-lived callers. A lease from the CLI is
 * not renewed in the background (the process exits): keep it with
 * `cairn lock renew <resource> <token>` before it expires.
 */
import { Command } from 'commander'
import type { Cli } from '../context.ts'
import { FLAGS } from '../flags.ts'
import { leaseLine } from '../output.ts'

type Opts = Record<string, unknown>

export function lockCommand(cli: Cli): Command {
  const lock = new Command('lock').description('leases on repo:, path: and issue: resources')

  lock.command('acquire <resource>').description('lease a resource; prints its fencing token')
    .requiredOption('--ttl <ms>', 'time to live in ms', FLAGS.ttlMs)
    .option('--wait <ms>', 'wait up to this long for a conflicting lease to go', FLAGS.waitMs)
    .option('--remote <remote>', 'lease on this git remote (name, URL or path), across machines; renew and release it through the same daemon')
    .action(async (resource: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.acquire', { resource, ttlMs: o.ttl, ...(o.wait !== undefined ? { waitMs: o.wait } : {}),
        ...(o.remote !== undefined ? { remote: o.remote } : {}) }, leaseLine as never)
    })

  lock.command('renew').description('extend a lease you hold')
    .argument('<resource>').argument('<token>', 'the fencing token acquire printed', FLAGS.token)
    .option('--ttl <ms>', 'new time to live in ms', FLAGS.ttlMs, 60_000)
    .action(async (resource: string, token: number, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.renew', { resource, token, ttlMs: o.ttl }, leaseLine as never)
    })

  lock.command('release').description('give a lease up')
    .argument('<resource>').argument('<token>', 'the fencing token acquire printed', FLAGS.token)
    .action(async (resource: string, token: number, _o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.release', { resource, token }, ((r: { resource: string }) => `released ${r.resource}`) as never)
    })

  lock.command('list').description('live leases of the repository')
    .action(async (_o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.list', {}, ((l: { resource: string; holder: { actor: string }; expiresAt: number }[]) =>
        (l.length === 0 ? '(no leases)' : l.map((x) => `${x.resource}  held by ${x.holder.actor.slice(0, 8)}  until ${new Date(x.expiresAt).toISOString()}`).join('\n'))) as never)
    })

  lock.command('status <resource>').description('who holds a resource, and how many wait')
    .option('--remote <remote>', 'as the git remote holds it now')
    .action(async (resource: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'locks.status', { resource, ...(o.remote !== undefined ? { remote: o.remote } : {}) })
    })

  return lock
}
