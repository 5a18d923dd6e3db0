/**
 * The generated parts of docs/protocol.md: the operation reference (from
 * the operations' argument schemas, protocol/operations) and the error code
 * table (protocol/errors.ts, lib/cli/exit-codes.ts). `npm run docs:protocol`
 * rewrites them in place; test/docs/protocol-docs.test.ts fails when the
 * file is not what this renders, so the documentation cannot drift from
 * what the daemon checks.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { ERROR_CODES, type ErrorCode } from '../protocol/errors.ts'
import { OPERATION_SPECS, type OperationSpec } from '../protocol/operations/index.ts'
import { UI_OPERATIONS } from '../protocol/operations/ui.ts'
import { exitCodeOf } from '../lib/cli/exit-codes.ts'

export const DOC = fileURLToPath(new URL('../docs/protocol.md', import.meta.url))

interface Prop {
  type?: string; enum?: unknown[]; items?: Prop; description?: string
  minimum?: number; maximum?: number; minLength?: number; maxLength?: number; maxItems?: number; pattern?: string
}

function typeOf(p: Prop): string {
  if (p.enum) return p.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' | ')
  if (p.type === 'array') return `list of ${p.items ? typeOf(p.items) : 'values'}`
  return p.type ?? 'any'
}

function limitsOf(p: Prop): string {
  const out: string[] = []
  if (p.minimum !== undefined || p.maximum !== undefined) {
    const max = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : null
    out.push(max === null ? `≥ ${p.minimum}` : `${p.minimum ?? '…'}..${max}`)
  }
  if (p.maxLength !== undefined) out.push(p.minLength === undefined ? `≤ ${p.maxLength} chars` : `${p.minLength}..${p.maxLength} chars`)
  else if (p.minLength !== undefined) out.push(`≥ ${p.minLength} chars`)
  if (p.maxItems !== undefined) out.push(`≤ ${p.maxItems} entries`)
  if (p.items?.maxLength !== undefined) out.push(`each ${p.items.minLength === undefined ? '≤ ' : `${p.items.minLength}..`}${p.items.maxLength} chars`)
  if (p.pattern !== undefined) out.push(`\`${p.pattern}\``)
  return out.join(', ')
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** Every method of the socket: the operations, and the daemon's board methods. */
export const DOCUMENTED: Readonly<Record<string, OperationSpec>> = { ...OPERATION_SPECS, ...UI_OPERATIONS }

/** The reference of one operation: summary, argument table, reply. */
export function renderOperation(method: string): string {
  const spec = DOCUMENTED[method]!
  const json = z.toJSONSchema(spec.args, { io: 'input' }) as { properties?: Record<string, Prop>; required?: string[] }
  const props = Object.entries(json.properties ?? {})
  const lines = [`### \`${method}\``, '', `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.${spec.stream ? ' **Streams.**' : ''}${spec.global ? ' Needs no `repo`.' : ''}`, '']
  if (props.length === 0) lines.push('Arguments: none.')
  else {
    lines.push('| argument | type | required | limits | meaning |', '|---|---|---|---|---|')
    for (const [name, p] of props) {
      lines.push(`| \`${name}\` | ${cell(typeOf(p))} | ${json.required?.includes(name) ? 'yes' : ''} | ${cell(limitsOf(p))} | ${cell(p.description ?? '')} |`)
    }
  }
  lines.push('', `Reply \`data\`: ${spec.reply}.`, '')
  return lines.join('\n')
}

const GROUPS: [string, (m: string) => boolean][] = [
  ['Issues', (m) => m.startsWith('issues.')],
  ['Leases', (m) => m.startsWith('locks.')],
  ['Repository, log and sync', (m) => !m.startsWith('issues.') && !m.startsWith('locks.') && !DOCUMENTED[m]!.global],
  ["The runtime's Supervisor", (m) => m.startsWith('runtime.')],
  ['The daemon itself', (m) => DOCUMENTED[m]!.global === true && !m.startsWith('runtime.')],
]

export function renderOperations(): string {
  const methods = Object.keys(DOCUMENTED)
  return GROUPS.map(([title, pick]) => [`## ${title}`, '', ...methods.filter(pick).map(renderOperation)].join('\n')).join('\n')
}

export function renderErrors(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).map((c) => `| \`${c}\` | ${exitCodeOf(c)} | ${cell(ERROR_CODES[c])} |`)
  return ['| code | CLI exit code | meaning |', '|---|---|---|', ...rows].join('\n')
}

/** `doc` with its generated sections replaced by what the code says now. */
export function regenerate(doc: string): string {
  const put = (text: string, name: string, body: string): string => {
    const re = new RegExp(`(<!-- generated:${name}:start -->\\n)[\\s\\S]*?(<!-- generated:${name}:end -->)`)
    if (!re.test(text)) throw new Error(`docs/protocol.md lacks the generated:${name} markers`)
    return text.replace(re, (_, a: string, b: string) => `${a}${body}\n${b}`)
  }
  return put(put(doc, 'operations', renderOperations()), 'errors', renderErrors())
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = readFileSync(DOC, 'utf8')
  const after = regenerate(before)
  if (after !== before) writeFileSync(DOC, after)
  process.stdout.write(after === before ? 'docs/protocol.md is up to date\n' : 'docs/protocol.md regenerated\n')
}
