/**
 * `cairn mcp`: serve this agent's session to an MCP client (Claude Code,
 * Codex, Cursor, ...) over stdin/stdout, until the client goes away.
 * stdout carries only the protocol; diagnostics go to stderr.
 *
 * The session acts as `--agent`, else `$CAIRN_AGENT`, else the name the
 * client gives when it connects. Its tool calls run on the home's daemon
 * (started on demand), or with `--no-daemon` on an embedded runtime this
 * session holds alone.
 */
import { Command } from 'commander'
import { FLAGS } from '../flags.ts'
import type { Cli } from '../context.ts'

type Opts = Record<string, unknown>

export const DEFAULT_LEASE_TTL_MS = 30_000

export function mcpCommand(cli: Cli, version: string): Command {
  return new Command('mcp')
    .description('serve an MCP session (tools for the issue board, leases, sync and the event log) on stdin/stdout')
    .option('--lease-ttl <ms>', 'TTL of the claims and leases the session takes when a tool names none; they are renewed every third of it while the session lives',
      FLAGS.ttlMs, DEFAULT_LEASE_TTL_MS)
    .action(async (o: Opts, cmd: Command) => {
      const g = cli.globals(cmd)
      const { serveMcp } = await import('../../mcp/server.ts')
      const session = serveMcp({
        home: g.home, repo: g.repo, ...(g.agent ? { agent: g.agent } : {}), leaseTtlMs: o.leaseTtl as number, noDaemon: g.noDaemon, version,
        log: (line) => cli.io.err(`${line}\n`),
      })
      const stop = (): void => { void session.stop() }
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
      for (const s of signals) process.on(s, stop)
      try {
        await session.done
      } finally {
        for (const s of signals) process.off(s, stop)
      }
    })
}
