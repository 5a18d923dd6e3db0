/**
 * `cairn ui --no-daemon` (and `cairn ui` where no daemon can run): the board
 * served by this process, on an embedded runtime, until Ctrl-C or SIGTERM.
 * It holds the home's mutex while it runs, like any embedded command, so a
 * daemon cannot start on the same home meanwhile.
 */
import type { Command } from 'commander'
import { CairnError } from '../../protocol/errors.ts'
import { checkStartArgs } from '../daemon/board-host.ts'
import { probe } from '../daemon/client.ts'
import { tryLockName } from '../daemon/home-mutex.ts'
import { daemonPaths, ensureHome } from '../daemon/paths.ts'
import type { Cli, Globals } from './context.ts'
import { openInBrowser } from './open-browser.ts'

export async function serveInForeground(cli: Cli, cmd: Command, g: Globals, rawArgs: Record<string, unknown>, open: boolean): Promise<void> {
  const args = checkStartArgs(rawArgs, undefined)
  const paths = daemonPaths(ensureHome(g.home))
  const mutex = await tryLockName(paths.mutexName)
  if (!mutex) {
    const live = await probe(paths.socket, 2000)
    throw new CairnError('BUSY', live
      ? `a daemon serves ${g.home} (pid ${live.pid}); run \`cairn ui\` without --no-daemon to have it serve the board`
      : `another process holds ${g.home}; try again when it is done`)
  }
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const { createRuntime } = await import('../api/create-runtime.ts')
    const { startBoard } = await import('../ui/server.ts')
    const runtime = await createRuntime({ home: g.home, threads: 1 })
    try {
      const board = await startBoard({
        home: g.home, runtime, ...(args.port === undefined ? {} : { port: args.port }),
        allowWrites: args.allowWrites, writer: args.writer, rotateToken: args.rotateToken,
        log: (line) => cli.io.err(`cairn ui: ${line.replace(/^board: /, '')}\n`),
      })
      try {
        await board.add(g.repo)
        const url = board.urlWithToken()
        const opened = open ? await openInBrowser(g.home, url, cli.env) : null
        const s = board.settings()
        cli.print(cmd, { url, port: board.port, allowWrites: s.allowWrites, writer: s.writer, repos: board.repos(), pid: process.pid, foreground: true, ...(open ? { opened } : {}) },
          (() => `cairn ui: the board is at\n\n  ${url}\n\n(${s.allowWrites ? `writes allowed, made as ${s.writer}` : 'read-only'}; served by this process until Ctrl-C)${opened ? `\n${opened}` : ''}`) as never)
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }))
      } finally {
        await board.close()
      }
    } finally {
      await runtime.stop()
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await mutex.release()
  }
}
