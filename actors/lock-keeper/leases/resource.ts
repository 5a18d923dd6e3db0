/**
 * Lease resources: `repo:<name>`, `path:<path>` and `issue:<id>`, parsed into
 * one normal spelling (the table key) and compared for conflicts.
 *
 * `repo:` is the whole repository and conflicts with every resource, any
 * `repo:` included; paths conflict with themselves, their ancestors and their
 * descendants, segment-wise; an issue only with itself; paths and issues
 * never with each other.
 */
import { invalidArgument, type CairnError } from '../../../protocol/errors.ts'
import { MAX_RESOURCE_NAME } from '../../../protocol/limits.ts'

export type ResourceKind = 'repo' | 'path' | 'issue'

export interface Resource {
  kind: ResourceKind
  /** The name after the prefix, normalised (issue ids lowercased). */
  name: string
  /** `${kind}:${name}`: the one spelling used as a table key. */
  key: string
}

export { MAX_RESOURCE_NAME }

// C0, DEL and C1: invisible in logs, and a newline would forge log lines.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const ISSUE_ID = /^[0-9a-f]{4,32}$/i

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}...` : s)
}

function badResource(problem: string): CairnError {
  return invalidArgument('resource', problem)
}

/**
 * Parses and normalises a resource string. Paths are never repaired: a path
 * spelt two ways would be two keys that do not conflict, so anything not
 * already normal (`/a`, `a/`, `a//b`, `a/./b`, `a/../b`) is refused.
 * @example parseResource('issue:BEEF') // { kind: 'issue', name: 'beef', key: 'issue:beef' }
 */
export function parseResource(s: unknown): Resource {
  if (typeof s !== 'string') throw badResource('must be a string')
  const colon = s.indexOf(':')
  const kind = colon < 0 ? '' : s.slice(0, colon)
  if (kind !== 'repo' && kind !== 'path' && kind !== 'issue') {
    throw badResource(`must start with repo:, path: or issue: (got ${quote(s)})`)
  }
  let name = s.slice(colon + 1)
  if (name.length === 0) throw badResource(`has an empty name (got ${quote(s)})`)
  if (name.length > MAX_RESOURCE_NAME) throw badResource(`name is longer than ${MAX_RESOURCE_NAME} characters`)
  if (CONTROL.test(name)) throw badResource(`contains a control character (got ${quote(s)})`)
  if (kind === 'path') {
    if (name.startsWith('/')) throw badResource(`path must be relative, without a leading / (got ${quote(s)})`)
    if (name.endsWith('/')) throw badResource(`path must not end with / (got ${quote(s)})`)
    for (const segment of name.split('/')) {
      if (segment === '') throw badResource(`path has an empty segment (got ${quote(s)})`)
      if (segment === '.' || segment === '..') throw badResource(`path has a . or .. segment (got ${quote(s)})`)
    }
  } else if (kind === 'issue') {
    if (!ISSUE_ID.test(name)) throw badResource(`issue id must be 4 to 32 hex digits (got ${quote(s)})`)
    name = name.toLowerCase()
  }
  return { kind, name, key: `${kind}:${name}` }
}

/** True when path `a` is `b` or a segment-wise ancestor of it (`a` is no ancestor of `ab`). */
function pathCovers(a: string, b: string): boolean {
  return a === b || (b.startsWith(a) && b.charCodeAt(a.length) === 0x2f /* / */)
}

/**
 * True when two resources cannot be leased at the same time. Symmetric.
 * @example conflicts(parseResource('path:a'), parseResource('path:a/b')) // true
 * @example conflicts(parseResource('path:a'), parseResource('path:ab'))  // false
 */
export function conflicts(a: Resource, b: Resource): boolean {
  if (a.kind === 'repo' || b.kind === 'repo') return true
  if (a.kind !== b.kind) return false
  if (a.kind === 'issue') return a.name === b.name
  return pathCovers(a.name, b.name) || pathCovers(b.name, a.name)
}
