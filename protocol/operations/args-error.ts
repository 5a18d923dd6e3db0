/**
 * Turns a schema's complaint into Cairn's INVALID_ARGUMENT: the message
 * reads `<field> <problem>` in the library's wording, and `details.field`
 * names the field the way a caller spells it (`labels[2]` for an entry of
 * a list), so a program (or an LLM) can fix exactly that argument.
 */
import type { z } from 'zod'
import { CairnError } from '../errors.ts'

type Issue = z.core.$ZodIssue

const TYPES: Record<string, string> = {
  string: 'a string', int: 'an integer', number: 'a number', boolean: 'a boolean', array: 'a list', object: 'a map',
}

/** `['labels', 2, 'x']` → `labels[2].x` */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`
  return out
}

/**
 * The problem, in the library's words, for issues whose schema gives no
 * message of its own: the error map of every parse (`PARSE_OPTIONS`).
 */
export function problem(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${TYPES[issue.expected] ?? issue.expected}`
    case 'too_small':
      return issue.origin === 'string' ? `must be at least ${issue.minimum} characters`
        : issue.origin === 'array' ? `must hold at least ${issue.minimum} entries` : `must be ≥ ${issue.minimum}`
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${issue.maximum} characters`
        : issue.origin === 'array' ? `must hold at most ${issue.maximum} entries` : `must be ≤ ${issue.maximum}`
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`
    default:
      return 'is malformed'
  }
}

/** How every argument parse runs: inputs kept on issues (to tell missing from bad), messages in our words. */
export const PARSE_OPTIONS = { reportInput: true, error: problem } as const

/**
 * The INVALID_ARGUMENT for the first of `issues`, raised by the arguments
 * of `method` (whose fields are `known`). An unknown field goes first: it is
 * most often a misspelt one, which would otherwise read as missing.
 */
export function argsError(method: string, issues: readonly Issue[], known: readonly string[] = []): CairnError {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]
  if (issue === undefined) return new CairnError('INVALID_ARGUMENT', `bad arguments for ${method}`, { field: 'args' })
  if (issue.code === 'unrecognized_keys') {
    const field = fieldOf([...issue.path, issue.keys[0]!])
    const list = issue.path.length === 0 ? (known.length === 0 ? '; it takes none' : `; it takes ${known.join(', ')}`) : ''
    return new CairnError('INVALID_ARGUMENT', `${field} is not an argument of ${method}${list}`, { field })
  }
  if (issue.path.length === 0) {
    return new CairnError('INVALID_ARGUMENT', `args must be a map of ${method}'s arguments`, { field: 'args' })
  }
  // A missing required field says so, whatever message its schema gives bad values.
  const field = fieldOf(issue.path)
  const why = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message
  return new CairnError('INVALID_ARGUMENT', `${field} ${why}`, { field })
}
