/**
 * MCP's stdio transport (newline-delimited JSON-RPC on stdin/stdout), for a
 * server that must outlive any bad input from its client.
 *
 * The SDK's StdioServerTransport drops a line that is not JSON-RPC without
 * a word, and closes the session on a line past its buffer limit. Here a
 * bad line is answered as JSON-RPC 2.0 says (-32700 parse error, -32600
 * invalid request, with the request's id when it has one) and the session
 * goes on; a line longer than MAX_LINE_BYTES is skipped up to its newline
 * (memory stays bounded) and answered -32600. The session ends only when
 * stdin ends or stdout breaks: the client is gone.
 */
import type { Readable, Writable } from 'node:stream'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'

/** Longest line read; a longer one is refused, not buffered. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024

type RpcId = string | number | null

export class LineTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void

  readonly #in: Readable
  readonly #out: Writable
  #parts: Buffer[] = []
  #size = 0
  /** Skipping the rest of an oversized line. */
  #skipping = false
  #closed = false

  constructor(input: Readable, output: Writable) {
    this.#in = input
    this.#out = output
  }

  async start(): Promise<void> {
    this.#in.on('data', this.#onData)
    this.#in.on('end', this.#onEnd)
    this.#in.on('error', this.#onEnd)
    this.#out.on('error', this.#onEnd)
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.#write(`${JSON.stringify(message)}\n`)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#in.off('data', this.#onData)
    this.#in.off('end', this.#onEnd)
    this.#in.pause()
    this.#parts = []
    this.onclose?.()
  }

  #write(line: string): Promise<void> {
    if (this.#closed || this.#out.destroyed || this.#out.writableEnded) return Promise.resolve()
    return new Promise((resolve) => {
      if (this.#out.write(line)) resolve()
      else this.#out.once('drain', resolve)
    })
  }

  readonly #onEnd = (): void => { void this.close() }

  readonly #onData = (chunk: Buffer): void => {
    let start = 0
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl)
      start = nl + 1
      if (this.#skipping) {
        this.#skipping = false
        continue
      }
      const line = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece])
      this.#parts = []
      this.#size = 0
      this.#line(line)
      if (this.#closed) return
    }
    const rest = chunk.subarray(start)
    if (rest.length === 0 || this.#skipping) return
    if (this.#size + rest.length > MAX_LINE_BYTES) {
      this.#parts = []
      this.#size = 0
      this.#skipping = true
      this.#refuse(null, -32600, `Invalid Request: a message longer than ${MAX_LINE_BYTES} bytes was skipped`)
      return
    }
    // The chunk's buffer may be reused by the stream: keep a copy.
    this.#parts.push(Buffer.from(rest))
    this.#size += rest.length
  }

  #line(bytes: Buffer): void {
    const text = bytes.toString('utf8').replace(/\r$/, '')
    if (text.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      this.#refuse(null, -32700, `Parse error: ${(err as Error).message}`)
      return
    }
    const parsed = JSONRPCMessageSchema.safeParse(value)
    if (!parsed.success) {
      this.#refuse(idOf(value), -32600, 'Invalid Request: not a JSON-RPC 2.0 request, notification or response')
      return
    }
    try {
      this.onmessage?.(parsed.data)
    } catch (err) {
      this.onerror?.(err as Error)
    }
  }

  #refuse(id: RpcId, code: number, message: string): void {
    this.onerror?.(new Error(message))
    void this.#write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`)
  }
}

/** The id of a malformed request, when it has a usable one. */
function idOf(value: unknown): RpcId {
  if (typeof value !== 'object' || value === null) return null
  const id = (value as { id?: unknown }).id
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null
}
