#!/usr/bin/env node
// The `cairn` command. Cairn ships TypeScript sources run through tsx; this
// entry runs the prebuilt bundle of the CLI while it is fresh, and otherwise
// registers tsx so the command works from plain `node` too.
import { spawn } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freshCliBundle } from './cli-bundle.mjs'

// A process started with `--import tsx` (the daemon, embedded runs) has it already.
const hasLoader = process.execArgv.some((a) => a.includes('tsx'))
// The prebuilt bundle while it is fresh (scripts/cli-bundle.mjs); CAIRN_CLI_BUNDLE=0 runs the sources.
const bundle = hasLoader || process.env.CAIRN_CLI_BUNDLE === '0' ? null : freshCliBundle()
if (!hasLoader && bundle === null) (await import('tsx/esm/api')).register()
const [command, ...rest] = process.argv.slice(2)
if (command === 'demo') {
  // The simulated-agents demo runs a runtime, whose worker threads need the
  // loader on the command line: run it in a child that has it.
  const demo = fileURLToPath(new URL('./demo.ts', import.meta.url))
  const child = spawn(process.execPath, [`--import=${import.meta.resolve('tsx')}`, demo, ...rest], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal ? 1 : 0) })
} else {
  const { runCli } = bundle ? await import(pathToFileURL(bundle).href) : await import('../lib/cli/main.ts')
  const code = await runCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: process.stdout.isTTY === true,
  })
  process.exitCode = code
  // Output is flushed by then; a stray handle must not keep a finished command alive.
  setTimeout(() => process.exit(code), 3000).unref()
}
