/**
 * `cairn mcp`: an MCP server over stdio, one per agent session, built on the
 * official SDK's low-level `Server` (the high-level McpServer turns an
 * unknown tool into a tool result; MCP says it is a protocol error).
 *
 * - tools/list: the tools of tools.ts, each with the JSON Schema of its
 *   arguments (from the operation's zod schema: one definition for the
 *   daemon, the CLI and here), a title, a description and hints.
 * - tools/call: arguments checked against the schema first: a bad one is a
 *   tool error naming the field (`isError`, text `INVALID_ARGUMENT: ...`,
 *   structured `{ error: { code, message, details: { field } } }`), which a
 *   model can read and fix; so is any Cairn error, with its stable code. An
 *   unknown tool is a JSON-RPC error (-32602). Nothing a client sends ends
 *   the session; only the end of stdin (the client is gone) or a signal does.
 * - The session acts as one agent: `--agent`, else the name the client gave
 *   in its initialize handshake. Leases it takes are renewed while it lives
 *   and released when it ends (session-leases.ts).
 */
import type { Readable, Writable } from 'node:stream'
import { z } from 'zod'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { ErrorCode, type CallToolRequest, type CallToolResult, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js'
import { CairnError } from '../../protocol/errors.ts'
import { checkArgs } from '../../protocol/operations/index.ts'
import { SystemClock } from '../adapters/system-clock.ts'
import type { Clock } from '../kernel/ports/clock.ts'
import { daemonBackend, embeddedBackend, type Backend } from './backend.ts'
import { SessionLeases } from './session-leases.ts'
import { jsonSafe } from './json-safe.ts'
import { LineTransport } from './stdio-transport.ts'
import { TOOLS, toolNamed, type Tool, type ToolContext } from './tools.ts'

export interface McpOptions {
  home: string
  repo: string
  /** The agent this session acts as; default the client's name. */
  agent?: string
  /** TTL of the leases the session takes when a tool names none. */
  leaseTtlMs: number
  noDaemon: boolean
  version: string
  input?: Readable
  output?: Writable
  /** Diagnostics (stderr): stdout belongs to the protocol. */
  log?: (line: string) => void
  clock?: Clock
}

/**
 * The requests this server answers, matched by method only: the SDK checks a
 * tools/call's params itself and answers a malformed one -32602 (Invalid
 * params); matched with its full schema, it would answer -32603 (Internal
 * error) with the schema's dump.
 */
const CALL_TOOL = z.object({ method: z.literal('tools/call') }).loose()
const LIST_TOOLS = z.object({ method: z.literal('tools/list') }).loose()

/** How long releasing the session's leases may take when it ends. */
const RELEASE_MS = 5_000

const INSTRUCTIONS = 'Cairn is the shared issue board and lease table of this git repository, used by several agents at once. '
  + 'Typical loop: claim_next (you get one ready issue nobody else holds), work on it, comment on progress, close it when done. '
  + 'Lease files or directories you edit with lock_acquire (path:<relative/path>) so no other agent edits them meanwhile. '
  + 'Claims and leases stay yours while this session lives (renewed for you) and are released when it ends. '
  + 'Errors carry a stable code (NOT_FOUND, LEASE_HELD, INVALID_ARGUMENT naming the field, ...). Ids may be shortened to a unique prefix of 4+ hex characters.'

/** A client's name, made into a valid agent name (one line, trimmed, at most 128 characters). */
export function agentFromClient(name: unknown): string {
  // eslint-disable-next-line no-control-regex
  const clean = typeof name === 'string' ? name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim().slice(0, 128).trim() : ''
  return clean.isWellFormed() && clean !== '' ? clean : 'mcp-agent'
}

/** The JSON Schema a tool advertises for its arguments. */
export function inputSchema(t: Tool): McpTool['inputSchema'] {
  const { $schema: _, ...schema } = z.toJSONSchema(t.args, { io: 'input' }) as Record<string, unknown>
  return schema as McpTool['inputSchema']
}

/**
 * Serves one MCP session on `input`/`output` (stdin/stdout) until the client
 * goes away or `stop()` is called; resolves once the session's leases are
 * released and its backend closed.
 */
export function serveMcp(opts: McpOptions): { done: Promise<void>; stop(): Promise<void> } {
  const log = opts.log ?? (() => undefined)
  const clock = opts.clock ?? new SystemClock()
  const server = new Server({ name: 'cairn', title: 'Cairn', version: opts.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS })
  let backend: Promise<Backend> | null = null
  const agent = (): string => opts.agent ?? agentFromClient(server.getClientVersion()?.name)
  const open = (): Promise<Backend> => {
    if (backend === null) {
      const target = { home: opts.home, repo: opts.repo, agent: agent() }
      backend = opts.noDaemon ? embeddedBackend(target) : Promise.resolve(daemonBackend(target))
      backend.catch(() => { backend = null })
    }
    return backend
  }
  const call: ToolContext['call'] = async (method, args, callOpts) => (await open()).call(method, args, callOpts)
  const leases = new SessionLeases((method, args) => call(method, args, { signal: AbortSignal.timeout(30_000) }), clock)

  server.setRequestHandler(LIST_TOOLS, async () => ({
    tools: TOOLS.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: inputSchema(t),
      annotations: { title: t.title, readOnlyHint: t.readOnly, destructiveHint: false, openWorldHint: t.name === 'sync' },
    })),
  }))

  server.setRequestHandler(CALL_TOOL, async (raw, extra): Promise<CallToolResult> => {
    const req = raw as unknown as CallToolRequest
    const t = toolNamed(req.params.name)
    // A JSON-RPC error (McpError would prefix its message with its code once more).
    if (t === undefined) throw Object.assign(new Error(`unknown tool ${JSON.stringify(req.params.name).slice(0, 140)}; tools/list names the tools`), { code: ErrorCode.InvalidParams })
    const token = req.params._meta?.progressToken
    const ctx: ToolContext = {
      call: (method, args, o) => call(method, args, { ...o, signal: extra.signal }),
      leases,
      leaseTtlMs: opts.leaseTtlMs,
      progress: (done, total, message) => {
        if (token === undefined) return
        void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: done, total, message } }).catch(() => undefined)
      },
    }
    try {
      const out = await t.run(ctx, checkArgs(t.name, t.args, req.params.arguments ?? {}))
      const notes = leases.takeNotes()
      const text = notes.length === 0 ? out.text : `${out.text}\n\nnote: ${notes.join('\nnote: ')}`
      return { content: [{ type: 'text', text }], structuredContent: jsonSafe(out.data) as Record<string, unknown> }
    } catch (err) {
      const e = CairnError.from(err)
      if (e.code === 'INTERNAL') log(`cairn mcp: ${t.name}: ${e.message}`)
      return { isError: true, content: [{ type: 'text', text: `${e.code}: ${e.message}` }], structuredContent: { error: jsonSafe(e.toWire()) as Record<string, unknown> } }
    }
  })
  server.onerror = (err) => log(`cairn mcp: ${err.message}`)

  let ending: Promise<void> | null = null
  let ended!: () => void
  const done = new Promise<void>((resolve) => { ended = resolve })
  const stop = (): Promise<void> => {
    ending ??= (async () => {
      await leases.releaseAll(RELEASE_MS)
      const b = backend
      backend = null
      await (await b?.catch(() => null))?.close().catch(() => undefined)
      await server.close().catch(() => undefined)
      ended()
    })()
    return ending
  }
  server.onclose = () => { void stop() }
  const transport = new LineTransport(opts.input ?? process.stdin, opts.output ?? process.stdout)
  server.connect(transport).catch((err: unknown) => {
    log(`cairn mcp: ${(err as Error).message}`)
    void stop()
  })
  return { done, stop }
}
