/**
 * What one daemon operation is on the wire: its arguments (a zod schema,
 * the one definition the daemon, the CLI and the MCP tools check and
 * advertise), what it replies, and whether it streams.
 */
import type { z } from 'zod'

export interface OperationSpec<A extends z.ZodObject = z.ZodObject> {
  /** One line: what the operation does. */
  summary: string
  /** The `args` map of the request; unknown fields are refused. */
  args: A
  /** What the reply's `data` holds. */
  reply: string
  /** Sends `stream.item` frames before its reply. */
  stream?: boolean
  /** Needs no repository: the request's `repo` and `agent` are ignored. */
  global?: boolean
}

/** Keeps each spec's own schema type (for typed `run` arguments) while checking the shape. */
export function specs<T extends Record<string, OperationSpec>>(table: T): T {
  return table
}
