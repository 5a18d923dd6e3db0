/**
 * Command-line flags built from the operations' argument schemas
 * (protocol/operations): a flag's range or choices are the schema's, so the
 * CLI, the daemon and the MCP tools accept exactly the same values, and a
 * limit changes in one place.
 *
 * @example
 *   cmd.option('--ttl <ms>', 'time to live in ms', argFlag('locks.acquire', 'ttlMs'))
 */
import type { z } from 'zod'
import { OPERATION_SPECS, type Method } from '../../protocol/operations/index.ts'
import { choiceFlag, intFlag } from './context.ts'

/** The schema of `field`, without its optional wrapper. */
export function fieldSchema(method: Method, field: string): z.ZodType {
  const shape = OPERATION_SPECS[method].args.shape as Record<string, z.ZodType | undefined>
  let s = shape[field]
  if (s === undefined) throw new Error(`${method} has no argument ${field}`)
  while (s.def.type === 'optional' || s.def.type === 'default') s = (s as unknown as { unwrap(): z.ZodType }).unwrap()
  return s
}

/** A commander parser for `field` of `method`: integers in the schema's range, one of the schema's choices, or text as is. */
export function argFlag(method: Method, field: string): (value: string) => string | number {
  const s = fieldSchema(method, field)
  if (s.def.type === 'number') {
    const n = s as unknown as { minValue: number | null; maxValue: number | null }
    return intFlag(n.minValue ?? Number.MIN_SAFE_INTEGER, n.maxValue ?? Number.MAX_SAFE_INTEGER)
  }
  if (s.def.type === 'enum') return choiceFlag((s as unknown as { options: string[] }).options)
  return (value) => value
}

/** The choices of an enum field (for help texts). */
export function choicesOf(method: Method, field: string): string[] {
  const s = fieldSchema(method, field)
  if (s.def.type !== 'enum') throw new Error(`${method}.${field} is not a choice`)
  return [...(s as unknown as { options: string[] }).options]
}
