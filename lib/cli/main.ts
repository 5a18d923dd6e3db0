/**
 * The `cairn` command line: builds the commander program and runs one
 * invocation, returning its exit code (bin.ts sets it).
 *
 * Global flags work before or after the command:
 *   --json          one JSON envelope per result on stdout (see output.ts)
 *   --home <dir>    the runtime home (default $CAIRN_HOME, ~/.local/state/cairn)
 *   -C, --repo <p>  the repository (default the working directory)
 *   --agent <name>  act as this agent (default $CAIRN_AGENT, else 'default')
 *   --no-daemon     run on an embedded runtime instead of the daemon ($CAIRN_NO_DAEMON=1)
 */
import { Command, CommanderError } from 'commander'
import { CairnError } from '../../protocol/errors.ts'
import { Cli } from './context.ts'
import { daemonCommand } from './commands/daemon.ts'
import { demoCommand } from './commands/demo.ts'
import { doctorCommand } from './commands/doctor.ts'
import { issueCommand } from './commands/issue.ts'
import { heartbeatCommand, lockCommand } from './commands/lock.ts'
import { mcpCommand } from './commands/mcp.ts'
import { repoCommands } from './commands/repo.ts'
import { runtimeCommand } from './commands/runtime.ts'
import { coordinationCommand } from './commands/coordination.ts'
import { uiCommand } from './commands/ui.ts'
import { printError, type Io } from './output.ts'

export const VERSION = '0.1.0'

function configure(cmd: Command, io: Io, jsonMode: boolean): Command {
  cmd.exitOverride()
  cmd.configureOutput({
    writeOut: (s) => io.out(s),
    // Usage errors are printed by runCli as one coded error (or envelope).
    writeErr: (s) => { if (!jsonMode && !s.startsWith('error:')) io.err(s) },
    outputError: () => undefined,
  })
  for (const sub of cmd.commands) configure(sub, io, jsonMode)
  return cmd
}

export function buildProgram(cli: Cli, jsonMode: boolean): Command {
  const program = new Command('cairn')
    .description('Cairn: a shared issue board, fenced leases and a durable event log for agents working on git repositories')
    .version(VERSION)
    .option('--json', 'print one JSON envelope per result: {ok,data} or {ok:false,error:{code,message}}')
    .option('--home <dir>', 'runtime home (default $CAIRN_HOME or ~/.local/state/cairn)')
    .option('-C, --repo <path>', 'repository to work on (default the working directory)')
    .option('--agent <name>', 'agent name to act as (default $CAIRN_AGENT or "default")')
    .option('--no-daemon', 'run on an embedded runtime, not the daemon')
  program.addCommand(issueCommand(cli))
  program.addCommand(lockCommand(cli))
  program.addCommand(heartbeatCommand(cli))
  for (const c of repoCommands(cli)) program.addCommand(c)
  program.addCommand(coordinationCommand(cli))
  program.addCommand(doctorCommand(cli))
  program.addCommand(daemonCommand(cli))
  program.addCommand(runtimeCommand(cli))
  program.addCommand(mcpCommand(cli, VERSION))
  program.addCommand(uiCommand(cli))
  program.addCommand(demoCommand(cli))
  return configure(program, cli.io, jsonMode)
}

/**
 * Runs one invocation. `argv` is without node and the script.
 * @example process.exitCode = await runCli(process.argv.slice(2), stdio)
 */
export async function runCli(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const jsonMode = argv.includes('--json')
  const cli = new Cli(io, env)
  const program = buildProgram(cli, jsonMode)
  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    await cli.close().catch(() => undefined)
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0
      const message = err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync'
        ? 'a command is required (see --help)'
        : err.message.replace(/^error: /, '')
      return printError(io, jsonMode, new CairnError('INVALID_ARGUMENT', message))
    }
    return printError(io, jsonMode, err)
  }
  try {
    await cli.close()
  } catch (err) {
    if (cli.exitCode === 0) return printError(io, jsonMode, err)
  }
  return cli.exitCode
}
