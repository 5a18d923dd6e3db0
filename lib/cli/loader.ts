/**
 * Runtime worker threads load TypeScript only when the process was started
 * with tsx's loader on its command line (`--import tsx`): a loader
 * registered programmatically (as scripts/cairn.mjs does, to start fast)
 * is not inherited by workers. So processes that host a runtime, the daemon
 * and an embedded CLI, are started with the loader flag; a CLI that finds
 * itself without it re-runs itself with it.
 */
import { spawn } from 'node:child_process'
import { CAIRN_SCRIPT, TSX_IMPORT } from '../daemon/spawn.ts'

/** True when worker threads of this process can load TypeScript. */
export function workersCanLoadTs(): boolean {
  return process.execArgv.some((a) => a.includes('tsx'))
}

/** Thrown to ask runCli to re-run this invocation with the loader (and no daemon). */
export class NeedsLoader extends Error {}

/** Re-runs the CLI with the loader on an embedded runtime; resolves with its exit code. */
export function rerunWithLoader(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX_IMPORT, CAIRN_SCRIPT, ...argv], { stdio: 'inherit', env: { ...env, CAIRN_NO_DAEMON: '1' } })
    const forward = (sig: NodeJS.Signals) => () => { child.kill(sig) }
    const onInt = forward('SIGINT')
    const onTerm = forward('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      resolve(code ?? (signal ? 128 + 15 : 1))
    })
    child.on('error', () => resolve(1))
  })
}
