/**
 * MCP sessions for the tests: real `cairn mcp` processes (lib/cli/bin.ts)
 * driven by the official SDK client over stdio, against a real daemon the
 * first session starts. Every session is closed (or SIGKILLed) and the
 * daemon stopped in teardown.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { CAIRN_COMMAND, stopDaemonOf } from '../daemon/daemon-helpers.ts'

type Teardown = { teardown(fn: () => unknown): void }

export interface Session {
  client: Client
  pid: number
  stderr(): string
  /** Calls a tool; the result as the client got it (tool errors included). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>
  /** The structured content of a successful call; throws with the text of a tool error. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>
  close(): Promise<void>
}

export interface SessionOptions {
  home: string
  repo: string
  /** `--agent`; without it the session is named after the client. */
  agent?: string
  clientName?: string
  leaseTtlMs?: number
  env?: NodeJS.ProcessEnv
}

/** Starts `cairn mcp` and connects the SDK client to it (initialize done). */
export async function mcpSession(t: Teardown, o: SessionOptions): Promise<Session> {
  const args = [...CAIRN_COMMAND, 'mcp', '--home', o.home, '-C', o.repo]
  if (o.agent !== undefined) args.push('--agent', o.agent)
  if (o.leaseTtlMs !== undefined) args.push('--lease-ttl', String(o.leaseTtlMs))
  const env = { ...process.env, ...o.env } as Record<string, string>
  delete env.CAIRN_AGENT
  delete env.NODE_V8_COVERAGE
  const transport = new StdioClientTransport({ command: process.execPath, args, env, stderr: 'pipe', cwd: o.repo })
  let err = ''
  transport.stderr?.on('data', (b: Buffer) => { err += b.toString() })
  const client = new Client({ name: o.clientName ?? 'cairn-test', version: '1.0.0' })
  await client.connect(transport)
  const pid = transport.pid!
  const call = async (name: string, a: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: a })) as CallToolResult
  const session: Session = {
    client,
    pid,
    stderr: () => err,
    call,
    ok: async <T>(name: string, a: Record<string, unknown> = {}) => {
      const r = await call(name, a)
      if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`)
      return r.structuredContent as T
    },
    close: async () => { await client.close().catch(() => undefined) },
  }
  t.teardown(async () => {
    await session.close()
    try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
  })
  return session
}

/** Stops the daemon the sessions started (teardown). */
export function stopDaemonAfter(t: Teardown, home: string): void {
  t.teardown(() => stopDaemonOf(home))
}

/** The text of a result's first content block. */
export function textOf(r: CallToolResult): string {
  const c = r.content[0]
  return c && c.type === 'text' ? c.text : ''
}
