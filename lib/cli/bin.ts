#!/usr/bin/env node
/**
 * The `cairn` executable (package.json `bin`, run compiled as
 * dist/bundle/cairn.js). Runs one invocation and exits with its code.
 *
 * From the sources (tests) it runs as `node --import tsx lib/cli/bin.ts`;
 * lib/daemon/spawn.ts picks the one matching the running code when it
 * starts a daemon.
 */
import { runCli } from './main.ts'

const code = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
})
process.exitCode = code
// Output is flushed by then; a stray handle must not keep a finished command alive.
setTimeout(() => process.exit(code), 3000).unref()
