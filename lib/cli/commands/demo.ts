/**
 * `cairn demo`: simulated agents, two ways.
 *
 * Without `--board`: a handful of agents on an embedded runtime in this
 * process for a few seconds, then a summary (demo/embedded.ts). Its home is
 * a scratch one unless `--home` is given, so it never competes with a daemon
 * serving yours. With `--board`: a team working a seeded backlog through
 * your home's daemon, live in `cairn ui` (demo/board.ts).
 *
 *   cairn demo                          # demo repository in $TMPDIR, 5 agents, 3 s
 *   cairn demo /path/to/repo --agents 8 --seconds 5
 *   cairn demo --board                  # 10 agents, 200 issues, 120 s, a step a second
 *   cairn demo --board --agents 4 --issues 50 --seconds 600 --pace 1500
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { CairnError } from '../../../protocol/errors.ts'
import { intFlag, type Cli } from '../context.ts'

interface Opts {
  board?: boolean
  agents?: number
  seconds?: number
  issues?: number
  pace?: number
  ttl?: number
  seed?: number
  port?: number
  ui: boolean
  quiet?: boolean
}

/** Flags only the board demo takes (commander names). */
const BOARD_ONLY = ['issues', 'pace', 'ttl', 'seed', 'port', 'quiet'] as const

function secondsFlag(value: string): number {
  const n = Number(value)
  if (!(n > 0 && n <= 86_400)) throw new InvalidArgumentError('must be a number of seconds above 0, at most 86400')
  return n
}

export function demoCommand(cli: Cli): Command {
  return new Command('demo').description('simulated agents: on an embedded runtime for a few seconds, or with --board a team on a live board')
    .argument('[repo]', 'an existing git repository (default: a new demo repository under the temp dir)')
    .option('--board', 'a team working a seeded backlog through the daemon, live in `cairn ui`')
    .option('--agents <n>', 'simulated agents (default 5; 10 with --board, at most 200)', intFlag(1, 1000))
    .option('--seconds <s>', 'how long they work (default 3, at most 3600; 120 with --board)', secondsFlag)
    .option('--issues <n>', '--board: issues seeded first (default 200)', intFlag(0, 100_000))
    .option('--pace <ms>', '--board: mean pause between an agent\'s steps (default 1000)', intFlag(0, 600_000))
    .option('--ttl <ms>', '--board: TTL of the agents\' claims (default 20000)', intFlag(1000, 86_400_000))
    .option('--seed <n>', '--board: seed of the backlog and the agents\' choices (default 1)', intFlag(0, 2 ** 31))
    .option('--port <n>', '--board: port of the board on 127.0.0.1', intFlag(0, 65_535))
    .option('--no-ui', '--board: do not serve the board')
    .option('--quiet', '--board: only the summary')
    .action(async (repoArg: string | undefined, o: Opts, cmd: Command) => {
      await cli.guard(cmd, async () => {
        const g = cli.globals(cmd)
        const stray = [...BOARD_ONLY.filter((k) => o[k] !== undefined).map((k) => `--${k}`), ...(o.ui ? [] : ['--no-ui'])]
        if (!o.board && stray.length > 0) throw new CairnError('INVALID_ARGUMENT', `${stray.join(', ')} only go with --board`)
        if (o.board && (o.agents ?? 10) > 200) throw new CairnError('INVALID_ARGUMENT', 'option \'--agents <n>\' argument must be an integer from 1 to 200 with --board', { field: 'agents' })
        if (!o.board && (o.seconds ?? 3) > 3600) throw new CairnError('INVALID_ARGUMENT', 'option \'--seconds <s>\' must be at most 3600 without --board', { field: 'seconds' })
        const scratch = repoArg === undefined || !o.board ? mkdtempSync(join(tmpdir(), 'cairn-demo-')) : null
        const repo = repoArg === undefined ? join(scratch!, 'demo-repo') : resolve(repoArg)
        if (repoArg === undefined) execFileSync('git', ['init', '-q', repo])
        const progress = (line: string): void => { if (!g.json && !o.quiet) cli.io.out(`${line}\n`) }
        if (o.board) {
          const { runBoardDemo, boardSummaryText } = await import('../demo/board.ts')
          const stop = new AbortController()
          const onSignal = (): void => stop.abort()
          process.once('SIGINT', onSignal)
          process.once('SIGTERM', onSignal)
          try {
            const summary = await runBoardDemo({
              repo, home: g.home, agents: o.agents ?? 10, issues: o.issues ?? 200, seconds: o.seconds ?? 120,
              paceMs: o.pace ?? 1000, ttlMs: o.ttl ?? 20_000, seed: o.seed ?? 1, ...(o.port === undefined ? {} : { port: o.port }),
              ui: o.ui, signal: stop.signal,
            }, progress)
            cli.print(cmd, summary, boardSummaryText as never)
          } finally {
            process.off('SIGINT', onSignal)
            process.off('SIGTERM', onSignal)
          }
          return
        }
        // Loaded here only: the runtime's module graph would slow every other command.
        const { runDemo, demoSummaryText } = await import('../demo/embedded.ts')
        const explicitHome = (cmd.optsWithGlobals() as { home?: string }).home
        const home = explicitHome === undefined ? join(scratch!, 'home') : g.home
        try {
          cli.print(cmd, await runDemo(repo, home, o.agents ?? 5, o.seconds ?? 3, progress), demoSummaryText as never)
        } finally {
          // The demo repository is the user's to look at afterwards (the summary names it); a scratch home alone is not.
          if (repoArg !== undefined) rmSync(scratch!, { recursive: true, force: true })
        }
      })
    })
}
