/**
 * `cairn ui`: the live board in a browser. The daemon of the home serves it
 * on 127.0.0.1 (started if needed) and keeps serving it, also after this
 * command ends, until `cairn ui --stop` or the daemon stops; the command
 * prints the board's URL, which carries the home's secret token.
 *
 *   cairn ui                                   # read-only board of this repository (and the daemon's others)
 *   cairn ui --port 8080 --open                # on that port, opened in your browser
 *   cairn ui --allow-writes --agent alice      # comment, close, break stale leases, as "alice"
 *   cairn ui --stop
 *
 * With `--no-daemon` the board runs in this process, on an embedded runtime,
 * until Ctrl-C.
 */
import { Command } from 'commander'
import { CairnError } from '../../../protocol/errors.ts'
import type { BoardInfo } from '../../daemon/board-host.ts'
import { isNotAnswering } from '../../daemon/spawn.ts'
import { daemonExecutor } from '../executor.ts'
import { intFlag, type Cli } from '../context.ts'
import { openInBrowser } from '../open-browser.ts'

type Opts = Record<string, unknown>

function describe(info: BoardInfo, opened: string | null): string {
  const mode = info.allowWrites ? `writes allowed, made as ${info.writer}` : 'read-only'
  const repos = info.repos.length === 0 ? '' : `\nrepositories: ${info.repos.map((r) => r.name).join(', ')}`
  return `cairn ui: the board is at\n\n  ${info.url}\n\n(${mode}; served by the daemon, pid ${info.pid}; \`cairn ui --stop\` stops it)${repos}${opened ? `\n${opened}` : ''}`
}

export function uiCommand(cli: Cli): Command {
  return new Command('ui').description('serve the live board on 127.0.0.1 and print its URL (with the home\'s secret token)')
    .option('--port <n>', `port on 127.0.0.1 (default 7470, or any free port when it is taken; 0: any free port)`, intFlag(0, 65_535))
    .option('--open', 'open the board in your browser ($BROWSER, else xdg-open)')
    .option('--allow-writes', 'let the page comment, close issues and break stale leases, as the agent named by --agent')
    .option('--rotate-token', 'make a new secret token (old URLs stop working)')
    .option('--stop', 'stop serving the board')
    .action(async (o: Opts, cmd: Command) => {
      await cli.guard(cmd, async () => {
        const g = cli.globals(cmd)
        if (o.stop) {
          if (o.port !== undefined || o.open || o.allowWrites || o.rotateToken) throw new CairnError('INVALID_ARGUMENT', '--stop takes no other ui flag')
          const exec = await daemonExecutor({ home: g.home, repo: g.repo })
          try {
            const r = await exec.call<{ stopped: boolean }>('ui.stop', {})
            cli.print(cmd, r, (() => (r.stopped ? 'cairn ui: the board stopped' : 'cairn ui: no board was being served')) as never)
          } finally {
            await exec.close()
          }
          return
        }
        if (o.allowWrites && !g.agent) {
          throw new CairnError('INVALID_ARGUMENT', '--allow-writes needs the name writes are made as: --agent <your name> (or $CAIRN_AGENT)', { field: 'agent' })
        }
        const args = {
          ...(o.port === undefined ? {} : { port: o.port }),
          allowWrites: o.allowWrites === true,
          ...(o.allowWrites && g.agent ? { writer: g.agent } : {}),
          rotateToken: o.rotateToken === true,
        }
        if (g.noDaemon) {
          const { serveInForeground } = await import('../ui-foreground.ts')
          await serveInForeground(cli, cmd, g, args, o.open === true)
          return
        }
        let exec
        try {
          exec = await daemonExecutor({ home: g.home, repo: g.repo, ...(g.agent ? { agent: g.agent } : {}) })
        } catch (err) {
          // No daemon can be reached or started here: serve from this process instead, as other commands fall back.
          if (!(err instanceof CairnError && err.code === 'UNAVAILABLE') || isNotAnswering(err)) throw err
          const { serveInForeground } = await import('../ui-foreground.ts')
          await serveInForeground(cli, cmd, g, args, o.open === true)
          return
        }
        let info: BoardInfo
        try {
          info = await exec.call<BoardInfo>('ui.start', args)
        } finally {
          await exec.close()
        }
        const opened = o.open ? await openInBrowser(g.home, info.url, cli.env) : null
        cli.print(cmd, { ...info, ...(o.open ? { opened } : {}) }, (() => describe(info, opened)) as never)
      })
    })
}
