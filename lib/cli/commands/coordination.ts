/**
 * `cairn coordination [remote] [--unset]`: shows or sets the repository's
 * coordination remote (`git config cairn.remote`), through which claims go
 * (lib/api/claims/coordination.ts). It is git config of the clone, so this
 * runs here, without the daemon, and the library and git see the same value.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Command } from 'commander'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { redactUrl } from '../../../protocol/redact.ts'
import type { Cli } from '../context.ts'

const run = promisify(execFile)

async function gitDirOf(repo: string): Promise<string> {
  try {
    return (await run('git', ['-C', repo, 'rev-parse', '--path-format=absolute', '--git-common-dir'], { encoding: 'utf8' })).stdout.trim()
  } catch {
    throw new CairnError('NOT_FOUND', `${repo} is not in a git repository`, { repo })
  }
}

export function coordinationCommand(cli: Cli): Command {
  return new Command('coordination').description('show or set the coordination remote claims go through (git config cairn.remote)')
    .argument('[remote]', 'a configured remote name, URL or path to coordinate claims through')
    .option('--unset', 'claims stay on this clone')
    .action(async (remote: string | undefined, o: { unset?: boolean }, cmd: Command) => {
      await cli.guard(cmd, async () => {
        if (remote !== undefined && o.unset) throw invalidArgument('remote', 'give a remote or --unset, not both')
        // Loaded here: it reaches nodegit, which a one-shot command through the daemon must not load.
        const { coordination } = await import('../../api/claims/coordination.ts')
        const api = coordination(await gitDirOf(cli.globals(cmd).repo))
        if (o.unset) await api.set(null)
        else if (remote !== undefined) await api.set(remote)
        const now = await api.get()
        cli.print(cmd, { remote: now === null ? null : redactUrl(now) }, () =>
          now === null ? 'claims are local to this clone (no cairn.remote)' : `claims go through ${redactUrl(now)}`)
      })
    })
}
