#!/usr/bin/env node
// The `cairn` command. Cairn ships TypeScript sources run through tsx; this
// entry registers tsx so the command works from plain `node` too.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

// A process started with `--import tsx` (the daemon, embedded runs) has it already.
const hasLoader = process.execArgv.some((a) => a.includes('tsx'))
if (!hasLoader) register()
const [command, ...rest] = process.argv.slice(2)
if (command === 'demo') {
  // The simulated-agents demo runs a runtime, whose worker threads need the
  // loader on the command line: run it in a child that has it.
  const demo = fileURLToPath(new URL('./demo.ts', import.meta.url))
  const child = spawn(process.execPath, [`--import=${import.meta.resolve('tsx')}`, demo, ...rest], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal ? 1 : 0) })
} else {
  const { runCli } = await import('../lib/cli/main.ts')
  const code = await runCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: process.stdout.isTTY === true,
  })
  process.exitCode = code
  // Output is flushed by then; a stray handle must not keep a finished command alive.
  setTimeout(() => process.exit(code), 3000).unref()
}
