/**
 * `cairn runtime ...`: the Supervisor of the daemon's runtime, for operators
 * and scripts: list the actors, watch supervision events, restart, close
 * (passivate) or move a repository. The repository is the path argument, or
 * -C / the working directory.
 */
import { resolve } from 'node:path'
import { Command } from 'commander'
import type { ActorInfo, HandOff, WatchItem } from '../../api/supervision.ts'
import type { Cli } from '../context.ts'
import { FLAGS } from '../flags.ts'

type Opts = Record<string, unknown>

function actorLines(list: ActorInfo[]): string {
  if (list.length === 0) return '(no open repositories)'
  return list.map((a) => {
    const failure = a.lastFailure ? `  last failure: ${a.lastFailure.cause.message} (${new Date(a.lastFailure.at).toISOString()})` : ''
    return `${a.repo}  ${a.kind}  thread ${a.thread ?? '-'}  ${a.state}${a.machine ? ` (${a.machine})` : ''}  mailbox ${a.mailbox}/${a.capacity}  handled ${a.handled}  restarts ${a.restarts}${failure}`
  }).join('\n')
}

export function watchLine(e: WatchItem): string {
  if (e.type === 'missed') return `(missed ${e.count} events: #${e.fromSeq}..#${e.toSeq})`
  const parts = [`#${e.seq}`, new Date(e.at).toISOString(), e.type, e.repo]
  if (e.kind) parts.push(e.kind)
  if (e.from !== undefined || e.to !== undefined) parts.push(`thread ${e.from ?? '-'} -> ${e.to ?? '-'}`)
  else if (e.thread !== undefined && e.thread !== null) parts.push(`thread ${e.thread}`)
  if (e.reason) parts.push(`(${e.reason})`)
  if (e.cause) parts.push(`cause: ${e.cause.message}`)
  if (e.restartInMs !== undefined) parts.push(e.restartInMs === null ? 'not restarted' : `restart in ${e.restartInMs} ms`)
  if (e.ms !== undefined) parts.push(`${e.ms} ms`)
  return parts.join('  ')
}

const handOffLine = (verb: string) => (h: HandOff): string =>
  `${verb} ${h.repo}${h.to !== null && h.from !== h.to ? ` (thread ${h.from ?? '-'} -> ${h.to})` : ''} in ${h.ms} ms`

export function runtimeCommand(cli: Cli): Command {
  const runtime = new Command('runtime').description("the daemon runtime's Supervisor: actors, events, restart, close, move")
  const pathOf = (p: string | undefined, cmd: Command): string => (p === undefined ? cli.globals(cmd).repo : resolve(p))

  runtime.command('actors').description('every actor of every open repository: thread, state, mailbox, restarts, last failure')
    .action(async (_o: Opts, cmd: Command) => {
      await cli.call(cmd, 'runtime.actors', {}, actorLines as never)
    })

  runtime.command('watch').description('stream supervision events (placed, started, failed, restarted, gave-up, thread-died, closed, moved) until interrupted')
    .option('-n, --limit <n>', 'stop after this many events', FLAGS.watchLimit)
    .option('--buffer <n>', 'events held while this watcher is slow (default 1024)', FLAGS.watchBuffer)
    .action(async (o: Opts, cmd: Command) => {
      await cli.stream(cmd, 'runtime.watch', {
        ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(o.buffer !== undefined ? { buffer: o.buffer } : {}),
      }, (e) => watchLine(e as WatchItem))
    })

  runtime.command('restart [path]').description('restart a repository with a fresh restart history (brings it back from ACTOR_FAILED)')
    .action(async (path: string | undefined, _o: Opts, cmd: Command) => {
      await cli.call(cmd, 'runtime.restart', { path: pathOf(path, cmd) }, handOffLine('restarted') as never)
    })

  runtime.command('close [path]').description('passivate a repository: drain, persist, free its thread slot and store; its next use reopens it')
    .action(async (path: string | undefined, _o: Opts, cmd: Command) => {
      await cli.call(cmd, 'runtime.close', { path: pathOf(path, cmd) }, handOffLine('closed') as never)
    })

  runtime.command('move [path]').description('hand a repository off to another thread, under load')
    .requiredOption('--to <thread>', 'the target thread id (see `cairn runtime actors` or `cairn daemon status`)', FLAGS.thread)
    .action(async (path: string | undefined, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'runtime.move', { path: pathOf(path, cmd), thread: o.to }, handOffLine('moved') as never)
    })

  return runtime
}
