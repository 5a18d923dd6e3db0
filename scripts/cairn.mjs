#!/usr/bin/env node
// The `cairn` command. Cairn ships TypeScript sources run through tsx; this
// entry registers tsx so the command works from plain `node` too.
import { register } from 'tsx/esm/api'

register()
const [command, ...rest] = process.argv.slice(2)
if (command === 'demo' || command === 'start') {
  process.argv = [process.argv[0], process.argv[1], ...rest]
  await import('./start.ts')
} else {
  process.stderr.write('usage: cairn demo [repo] [--agents N] [--seconds S]\n(the daemon and issue commands are not built yet)\n')
  process.exitCode = command === undefined || command === '--help' ? 0 : 2
}
