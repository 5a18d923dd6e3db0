/**
 * `cairn issue ...`: the issue board. Every write takes `--op-id` (apply
 * once) and `--lease <token>` (fenced write). `claim` keeps the claim as a
 * hold of the agent: every later command of the agent renews it, `close`
 * ends it (README "Claims and liveness").
 */
import { Command } from 'commander'
import { collect, usage, type Cli } from '../context.ts'
import { EXIT_NOTHING_TO_CLAIM, EXIT_OK } from '../exit-codes.ts'
import { DEP_TYPES, FLAGS, ISSUE_STATES } from '../flags.ts'
import { issueDetail, issueList, leaseLine, writeLine, eventLine, issueLine, when, type Names } from '../output.ts'

type Opts = Record<string, unknown>
type ReadyLine = { id: string; title: string; state: string; labels?: string[]; claimedBy?: { actor: string; agent?: string; expiresAt: number } }

function writeArgs(o: Opts): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (o.opId !== undefined) out.opId = o.opId
  if (o.lease !== undefined) out.lease = o.lease
  return out
}

function withWriteFlags(c: Command): Command {
  return c.option('--op-id <id>', 'idempotency key: a retry with the same id applies once')
    .option('--lease <token>', 'fence the write on this lease token', FLAGS.token)
}

export function issueCommand(cli: Cli): Command {
  const issue = new Command('issue').description('the issue board of the repository')

  withWriteFlags(issue.command('create <title>').description('create an issue')
    .option('-b, --body <text>', 'description')
    .option('-l, --label <label>', 'label (repeatable)', collect))
    .action(async (title: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'issues.create', { title, ...(o.body !== undefined ? { body: o.body } : {}), ...(o.label ? { labels: o.label } : {}), ...writeArgs(o) },
        (i: never) => `created ${issueLine(i)}\n${(i as { id: string }).id}`)
    })

  issue.command('show <id>').description('show an issue (full id or unique prefix of 4+ hex)')
    .action(async (id: string, _o: Opts, cmd: Command) => { await cli.call(cmd, 'issues.show', { id }, issueDetail as never, { names: true }) })

  issue.command('list').description('list issues, earliest created first')
    .option('-s, --state <state>', ISSUE_STATES.join(', '), FLAGS.state)
    .option('-l, --label <label>', 'only issues with this label')
    .option('-a, --assignee <name>', 'only issues assigned to this name')
    .option('-n, --limit <n>', 'at most this many issues', FLAGS.listLimit)
    .option('--after <id>', 'start after this issue (the full id of the last of the previous page)')
    .action(async (o: Opts, cmd: Command) => {
      const args: Record<string, unknown> = {}
      for (const k of ['state', 'label', 'assignee', 'limit', 'after']) if (o[k] !== undefined) args[k] = o[k]
      await cli.call(cmd, 'issues.list', args, issueList as never)
    })

  withWriteFlags(issue.command('update <id>').description('change the title and/or body')
    .option('-t, --title <title>', 'new title')
    .option('-b, --body <text>', 'new body'))
    .action(async (id: string, o: Opts, cmd: Command) => {
      if (o.title === undefined && o.body === undefined) { cli.fail(cmd, usage('issue update needs --title and/or --body')); return }
      await cli.call(cmd, 'issues.update', { id, ...(o.title !== undefined ? { title: o.title } : {}), ...(o.body !== undefined ? { body: o.body } : {}), ...writeArgs(o) }, writeLine('updated') as never)
    })

  withWriteFlags(issue.command('comment <id> <body>').description('add a comment'))
    .action(async (id: string, body: string, o: Opts, cmd: Command) => { await cli.call(cmd, 'issues.comment', { id, body, ...writeArgs(o) }, writeLine('commented on') as never) })

  withWriteFlags(issue.command('close <id>').description('close an issue; ends your claim on it (its lease is released)')
    .option('-r, --reason <text>', 'why: recorded as a comment with the close'))
    .action(async (id: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'issues.close', { id, ...(o.reason !== undefined ? { reason: o.reason } : {}), ...writeArgs(o) }, writeLine('closed') as never)
    })

  withWriteFlags(issue.command('reopen <id>').description('reopen an issue'))
    .action(async (id: string, o: Opts, cmd: Command) => { await cli.call(cmd, 'issues.reopen', { id, ...writeArgs(o) }, writeLine('reopened') as never) })

  for (const [name, what] of [['label', 'label'], ['assign', 'assignee']] as const) {
    withWriteFlags(issue.command(`${name} <id>`).description(`add or remove ${what}s`)
      .option('--add <value>', `${what} to add (repeatable)`, collect)
      .option('--remove <value>', `${what} to remove (repeatable)`, collect))
      .action(async (id: string, o: Opts, cmd: Command) => {
        if (!o.add && !o.remove) { cli.fail(cmd, usage(`issue ${name} needs --add and/or --remove`)); return }
        await cli.call(cmd, `issues.${name}`, { id, ...(o.add ? { add: o.add } : {}), ...(o.remove ? { remove: o.remove } : {}), ...writeArgs(o) }, writeLine(`${name === 'label' ? 'labelled' : 'assigned'}`) as never)
      })
  }

  withWriteFlags(issue.command('link <id> <url>').description('attach a link').option('-n, --note <text>', 'what the link is'))
    .action(async (id: string, url: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'issues.link', { id, url, ...(o.note !== undefined ? { note: o.note } : {}), ...writeArgs(o) }, writeLine('linked') as never)
    })

  withWriteFlags(issue.command('dep <id> <target>').description('add (or --remove) a dependency from <id> to <target>')
    .option('-t, --type <type>', DEP_TYPES.join(', '), FLAGS.depType, 'depends_on')
    .option('--remove', 'remove the dependency instead'))
    .action(async (id: string, target: string, o: Opts, cmd: Command) => {
      await cli.call(cmd, 'issues.depend', { id, target, type: o.type, ...(o.remove ? { remove: true } : {}), ...writeArgs(o) }, writeLine(o.remove ? 'undepended' : 'depended') as never)
    })

  issue.command('ready').description('open issues with no open blocker that nobody has claimed')
    .option('-l, --label <label>', 'only this label')
    .option('--include-claimed', 'list claimed issues too, with who holds them')
    .option('-n, --limit <n>', 'at most this many issues', FLAGS.listLimit)
    .option('--after <id>', 'start after this issue (the full id of the last of the previous page)')
    .action(async (o: Opts, cmd: Command) => {
      const args: Record<string, unknown> = o.includeClaimed ? { includeClaimed: true } : {}
      for (const k of ['label', 'limit', 'after']) if (o[k] !== undefined) args[k] = o[k]
      await cli.call(cmd, 'issues.ready', args,
        ((l: ReadyLine[], names: Names) => (l.length === 0 ? '(no issues)' : l.map((i) => issueLine(i) + (i.claimedBy
          ? `  claimed by ${i.claimedBy.agent ?? names(i.claimedBy.actor)} until ${when(i.claimedBy.expiresAt)}` : '')).join('\n'))) as never,
        { names: o.includeClaimed === true })
    })

  issue.command('claim').description(`lease and assign the next ready issue; exits ${EXIT_NOTHING_TO_CLAIM} when there is nothing to claim`)
    .option('-l, --label <label>', 'only this label')
    .option('--ttl <ms>', 'lease time to live in ms (every later command of the agent renews it)', FLAGS.ttlMs, 60_000)
    .option('--op-id <id>', 'idempotency key: a retried claim answers the same issue')
    .option('--pid <pid>', 'keep the claim while this process lives (the daemon renews it)', FLAGS.pid)
    .action(async (o: Opts, cmd: Command) => {
      await cli.call(cmd, 'issues.claim', {
        ttlMs: o.ttl, ...(o.label !== undefined ? { label: o.label } : {}), ...(o.opId !== undefined ? { opId: o.opId } : {}), ...(o.pid !== undefined ? { pid: o.pid } : {}),
      }, ((r: { issue: { id: string; title: string; state: string }; lease: { resource: string; token: number; expiresAt: number }; duplicate: boolean } | null) =>
        (r === null ? 'nothing to claim' : `${r.duplicate ? 'already claimed' : 'claimed'} ${issueLine(r.issue)}\n${r.issue.id}\nlease ${leaseLine(r.lease)}`)) as never,
      { exit: ((r: unknown) => (r === null ? EXIT_NOTHING_TO_CLAIM : EXIT_OK)) as never })
    })

  issue.command('history <id>').description("the issue's events, in order")
    .action(async (id: string, _o: Opts, cmd: Command) => {
      await cli.call(cmd, 'issues.history', { id }, ((l: never[], names: Names) => l.map((e) => eventLine(e, names)).join('\n')) as never, { names: true })
    })

  issue.command('topo').description('open issues in dependency order')
    .option('-n, --limit <n>', 'only the first this many of the order', FLAGS.listLimit)
    .action(async (o: Opts, cmd: Command) => { await cli.call(cmd, 'issues.topo', o.limit !== undefined ? { limit: o.limit } : {}) })

  return issue
}
