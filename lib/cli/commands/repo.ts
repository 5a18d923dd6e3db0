/** `cairn init`, `events`, `sync`, `import-grite`, `compact`: repository-wide commands. */
import { Command } from 'commander'
import { CairnError } from '../../../protocol/errors.ts'
import { redactUrl } from '../../../protocol/redact.ts'
import { intFlag, type Cli } from '../context.ts'
import { FLAGS } from '../flags.ts'
import { eventLine, type Names } from '../output.ts'
import { terminalText } from '../safe-text.ts'

type Opts = Record<string, unknown>

export function repoCommands(cli: Cli): Command[] {
  const init = new Command('init').description('open the repository in Cairn (creates its store) and show who you are in it')
    .action(async (_o: Opts, cmd: Command) => {
      await cli.call(cmd, 'repo.init', {}, ((r: { path: string; repoId: string; agent: string | null; actor: string; issues: number }) =>
        `cairn: ready in ${r.path} (repository ${r.repoId}); agent ${r.agent ?? '-'} is actor ${r.actor}; ${r.issues} issues`) as never)
    })

  const events = new Command('events').description('the local event log: a page of it, or --follow it live')
    .option('-f, --follow', 'keep streaming new events until interrupted')
    .option('--since-seq <n>', 'first seq to show', FLAGS.fromSeq, 1)
    .option('-n, --limit <n>', 'stop after this many events', intFlag(1, 1_000_000))
    .action(async (o: Opts, cmd: Command) => {
      if (!o.follow) {
        await cli.call(cmd, 'events.read', { fromSeq: o.sinceSeq, limit: Math.min((o.limit as number | undefined) ?? 256, 1000) },
          ((l: never[], names: Names) => l.map((e) => eventLine(e, names)).join('\n')) as never, { names: true })
        return
      }
      await cli.stream(cmd, 'events.follow', { fromSeq: o.sinceSeq, ...(o.limit ? { limit: o.limit } : {}) },
        (e) => terminalText(eventLine(e as never)))
    })

  const sync = new Command('sync').description('fetch, ingest and push Cairn refs with a git remote')
    .option('-r, --remote <name>', 'the git remote', 'origin')
    .option('--no-pull', 'only push')
    .option('--no-push', 'only pull')
    .action(async (o: Opts, cmd: Command) => {
      if (o.pull === false && o.push === false) { cli.fail(cmd, new CairnError('INVALID_ARGUMENT', '--no-pull and --no-push leave nothing to do')); return }
      // cli-progress is loaded only when a bar will be drawn.
      const bar = cli.io.isTTY && !cli.globals(cmd).json ? (await import('../progress.ts')).progressBar() : null
      try {
        await cli.call(cmd, 'sync', { remote: o.remote, pull: o.pull !== false, push: o.push !== false },
          ((r: { pulled: number; pushed: number; durationMs: number; diverged: string[]; quarantined?: { ref: string; commit: string; code: string }[] }) => [
            `synced with ${redactUrl(String(o.remote))}: pulled ${r.pulled}, pushed ${r.pushed} in ${r.durationMs} ms${r.diverged?.length ? `; diverged: ${r.diverged.join(', ')}` : ''}`,
            ...(r.quarantined ?? []).map((q) => `quarantined ${q.ref} at ${q.commit} (${q.code}): not ingested`),
          ].join('\n')) as never,
          { onItem: (p) => bar?.update(p as never) })
      } finally {
        bar?.stop()
      }
    })

  const importGrite = new Command('import-grite').description("import this repository's grite WAL (refs/grite/wal) into Cairn")
    .action(async (_o: Opts, cmd: Command) => {
      const bar = cli.io.isTTY && !cli.globals(cmd).json ? (await import('../progress.ts')).progressBar() : null
      try {
        await cli.call(cmd, 'import-grite', {}, ((r: { pulled: number; duplicates: number; durationMs: number }) =>
          `imported ${r.pulled} grite events (${r.duplicates} already known) in ${r.durationMs} ms`) as never,
        { onItem: (p) => bar?.update(p as never) })
      } finally {
        bar?.stop()
      }
    })

  const compact = new Command('compact').description("rewrite the repository's store without its free pages (LMDB never shrinks its file); only while no process has it open")
    .option('--dry-run', 'only say how much would be given back')
    .action(async (o: Opts, cmd: Command) => {
      await cli.guard(cmd, async () => {
        // In this process, never through a daemon: the store must be closed by everyone.
        const { compactStore, mib } = await import('../../kernel/store/compact.ts')
        const { repoStoreDir } = await import('../../kernel/store/common-dir.ts')
        const dir = repoStoreDir(cli.globals(cmd).repo)
        const dryRun = o.dryRun === true
        const r = await compactStore(dir, { dryRun })
        cli.print(cmd, { ...r, dryRun }, (() => dryRun
          ? `${dir}: ${mib(r.before.fileBytes)}, of which ${mib(r.before.freeBytes)} free pages${r.before.freeBytes > 0 ? ' (`cairn compact` gives them back)' : ''}`
          : `compacted ${dir}: ${mib(r.before.fileBytes)} → ${mib(r.afterBytes)}`) as never)
      })
    })

  return [init, events, sync, importGrite, compact]
}
