/**
 * Bad input on every command: an unknown flag on each leaf command, missing
 * arguments, malformed numbers and choices. Each gets INVALID_ARGUMENT's
 * exit code and a message naming the problem, as text or as a JSON envelope,
 * and never reaches a runtime (no daemon is started, no home is created).
 */
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { buildProgram } from '../../../../lib/cli/main.ts'
import { Cli } from '../../../../lib/cli/context.ts'
import { EXIT_CODES } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope } from '../daemon/daemon-helpers.ts'

function leaves(cmd: Command, prefix: string[] = []): string[][] {
  if (cmd.commands.length === 0) return [prefix]
  return cmd.commands.flatMap((c) => leaves(c, [...prefix, c.name()]))
}

const box = sandbox()
t.teardown(() => box.cleanup())
const environment = { ...process.env, CAIRN_HOME: box.home }
const program = buildProgram(new Cli({ out: () => undefined, err: () => undefined, isTTY: false }, environment), false)
const commands = leaves(program)

t.test('the command tree is the documented one', async (t) => {
  t.same(commands.map((c) => c.join(' ')).sort(), [
    'compact', 'coordination', 'daemon restart', 'daemon start', 'daemon status', 'daemon stop', 'demo', 'doctor', 'events', 'heartbeat', 'import-grite', 'init',
    'issue assign', 'issue claim', 'issue close', 'issue comment', 'issue create', 'issue dep', 'issue history', 'issue label',
    'issue link', 'issue list', 'issue ready', 'issue reopen', 'issue show', 'issue topo', 'issue update',
    'lock acquire', 'lock break', 'lock list', 'lock release', 'lock renew', 'lock status', 'mcp',
    'runtime actors', 'runtime close', 'runtime move', 'runtime restart', 'runtime watch', 'sync', 'ui',
  ])
})

t.test('an unknown flag on every command: exit 2 and a message, as text and as JSON', async (t) => {
  // Required options are checked before unknown ones: give them.
  const required: Record<string, string[]> = { 'lock acquire': ['--ttl', '1000'], 'lock break': ['--reason', 'r'], 'runtime move': ['--to', '1'] }
  for (const leaf of commands) {
    const c = [...leaf, ...(required[leaf.join(' ')] ?? [])]
    const text = await cli([...c, '--bogus-flag'], environment)
    t.equal(text.code, EXIT_CODES.INVALID_ARGUMENT, `${leaf.join(' ')} --bogus-flag exits 2`)
    t.match(text.stderr, /^cairn: INVALID_ARGUMENT: unknown option '--bogus-flag'/, 'with the problem on stderr')
    t.equal(text.stdout, '', 'and nothing on stdout')
    const json = await cli([...c, '--bogus-flag', '--json'], environment)
    t.equal(json.code, EXIT_CODES.INVALID_ARGUMENT)
    t.same(envelope(json), { ok: false, error: { code: 'INVALID_ARGUMENT', message: "unknown option '--bogus-flag'" } }, `${leaf.join(' ')}: the JSON envelope, field by field`)
    t.equal(json.stderr, '', 'and nothing on stderr in JSON mode')
  }
})

t.test('missing arguments, bad numbers, bad choices, unknown commands', async (t) => {
  const cases: [string[], RegExp][] = [
    [['issue', 'show'], /missing required argument 'id'/],
    [['issue', 'create'], /missing required argument 'title'/],
    [['issue', 'comment', 'abcd'], /missing required argument 'body'/],
    [['issue', 'list', '--state', 'later'], /must be one of open, closed, all/],
    [['issue', 'dep', 'abcd', 'ef01', '--type', 'likes'], /must be one of blocks, depends_on, related_to/],
    [['issue', 'claim', '--ttl', 'soon'], /--ttl.*must be an integer/],
    [['issue', 'comment', 'abcd', 'x', '--lease', '0'], /--lease.*must be an integer from 1/],
    [['lock', 'acquire', 'path:x'], /required option '--ttl <ms>' not specified/],
    [['lock', 'acquire', 'path:x', '--ttl', '1.5'], /must be an integer/],
    [['lock', 'renew', 'path:x', 'abc'], /token.*must be an integer/],
    [['lock', 'release'], /missing required argument 'resource'/],
    [['lock', 'release', 'path:x', '--lease-id', 'abc'], /--lease-id needs the lease's token/],
    [['lock', 'renew', 'path:x', '--ttl', '0'], /--ttl.*must be an integer from 1/],
    [['lock', 'break', 'path:x'], /required option '--reason <text>' not specified/],
    [['lock', 'acquire', 'path:x', '--ttl', '10', '--pid', '-3'], /--pid.*must be an integer from 1/],
    [['issue', 'claim', '--pid', 'me'], /--pid.*must be an integer/],
    [['events', '--since-seq', '0'], /must be an integer from 1/],
    [['daemon', 'start', '--max-connections', '0'], /must be an integer from 1/],
    [['issue'], /a command is required/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['issue', 'update', 'abcd'], /needs --title and\/or --body/],
    [['issue', 'label', 'abcd'], /needs --add and\/or --remove/],
    [['sync', '--no-pull', '--no-push'], /leave nothing to do/],
    [['mcp', '--lease-ttl', '0'], /--lease-ttl.*must be an integer from 1/],
    [['demo', '--agents', '0'], /--agents.*must be an integer from 1 to 1000/],
    [['demo', '--seconds', '0'], /--seconds.*must be a number of seconds above 0/],
    [['demo', '--seconds', 'soon'], /--seconds.*must be a number of seconds/],
    [['demo', '--issues', '5'], /--issues only go with --board/],
    [['demo', '--no-ui'], /--no-ui only go with --board/],
    [['demo', '--board', '--agents', '500'], /--agents.*from 1 to 200 with --board/],
    [['demo', '--seconds', '4000'], /--seconds.*at most 3600 without --board/],
    [['runtime', 'move', '/x'], /required option '--to <thread>' not specified/],
    [['runtime', 'move', '/x', '--to', '-1'], /--to.*must be an integer from 0/],
    [['runtime', 'move', '/x', '--to', 'two'], /--to.*must be an integer/],
    [['runtime', 'watch', '--limit', '0'], /--limit.*must be an integer from 1/],
    [['issue', 'list', '--limit', '0'], /--limit.*must be an integer from 1/],
    [['issue', 'ready', '-n', 'ten'], /--limit.*must be an integer/],
    [['runtime', 'watch', '--buffer', '70000'], /--buffer.*must be an integer from 1 to 65536/],
    [['daemon', 'start', '--idle-close', '-1'], /--idle-close.*must be an integer from 0/],
    [['daemon', 'start', '--repos-per-thread', '0'], /--repos-per-thread.*must be an integer from 1/],
  ]
  for (const [args, message] of cases) {
    const r = await cli([...args, '--json'], environment)
    const e = envelope(r)
    t.same({ exit: r.code, ok: e.ok, code: e.error?.code }, { exit: 2, ok: false, code: 'INVALID_ARGUMENT' }, `${args.join(' ')} → INVALID_ARGUMENT, exit 2`)
    t.match(e.error?.message, message, 'naming the problem')
  }
  t.notOk(existsSync(box.home), 'no bad invocation created the home (none reached a runtime)')
})

t.test('help and version exit 0', async (t) => {
  const help = await cli(['--help'], environment)
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: cairn/)
  t.equal((await cli(['issue', 'create', '--help'], environment)).code, 0)
  const { version } = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal((await cli(['--version'], environment)).stdout.trim(), version, "the package's version")
})
