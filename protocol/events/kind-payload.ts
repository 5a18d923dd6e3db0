/**
 * Event kind <-> grite's `(kind_tag, kind_payload)` pair.
 *
 * The layouts mirror grite's `kind_to_tag_and_payload` (libgrite-core
 * `hash.rs`) and its chunk parser (libgrite-git `chunk.rs`): one positional
 * CBOR array per kind, optional strings as null, ids and hashes as byte
 * strings. Both the event hash and the chunk record use this payload, so a
 * change here changes every event id: the vectors test pins it.
 *
 * Encoding validates API input (`INVALID_ARGUMENT`, naming the field);
 * decoding validates bytes from elsewhere (`INVALID_FORMAT`).
 */

import { CairnError, invalidArgument } from '../errors.ts'
import type { CborValue } from './cbor.ts'
import { bytesToHex, hexToBytes } from './hex.ts'
import { KIND_TAGS } from './types.ts'
import type { DepType, EventKind, EventKindType, IssueState, SymbolInfo } from './types.ts'

const DEP_TYPES: readonly DepType[] = ['blocks', 'depends_on', 'related_to']
const ISSUE_STATES: readonly IssueState[] = ['open', 'closed']
const U32_MAX = 0xffff_ffff

// Matches lone surrogates only (pairs are one code point in unicode mode);
// UTF-8 cannot carry them, so such a string would hash as U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** grite kind tag -> kind name; the inverse of {@link KIND_TAGS}. */
export const TAG_KINDS: ReadonlyMap<number, EventKindType> = new Map(
  (Object.entries(KIND_TAGS) as [EventKindType, number][]).map(([type, tag]) => [tag, type]),
)

/**
 * Orders strings as Rust's `String::cmp` does: by UTF-8 bytes, which for
 * well-formed strings is code point order. JS's default sort compares UTF-16
 * units and disagrees for astral vs U+E000..U+FFFF characters.
 *
 * @example
 *   ['b', 'a'].sort(compareUtf8) // ['a', 'b']
 */
export function compareUtf8(a: string, b: string): number {
  let i = 0
  while (i < a.length && i < b.length) {
    const ca = a.codePointAt(i) as number
    const cb = b.codePointAt(i) as number
    if (ca !== cb) return ca < cb ? -1 : 1
    i += ca > 0xffff ? 2 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidArgument(field, 'must be a string')
  if (LONE_SURROGATE.test(value)) throw invalidArgument(field, 'must be well-formed Unicode (no lone surrogates)')
  return value
}

function optStr(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : str(value, field)
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) throw invalidArgument(field, `must be one of ${allowed.join(', ')}`)
  return value as T
}

function u32(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw invalidArgument(field, `must be an integer in 0..${U32_MAX}`)
  }
  return value
}

function symbolsPayload(value: unknown): CborValue[] {
  if (!Array.isArray(value)) throw invalidArgument('kind.symbols', 'must be an array')
  const symbols = value.map((s: unknown, i): SymbolInfo => {
    const field = `kind.symbols[${i}]`
    if (typeof s !== 'object' || s === null) throw invalidArgument(field, 'must be an object')
    const o = s as Record<string, unknown>
    return {
      name: str(o.name, `${field}.name`),
      kind: str(o.kind, `${field}.kind`),
      lineStart: u32(o.lineStart, `${field}.lineStart`),
      lineEnd: u32(o.lineEnd, `${field}.lineEnd`),
    }
  })
  // grite sorts by (name, kind) with a stable sort; Array#sort is stable too,
  // so equal keys keep the caller's order in both implementations.
  symbols.sort((a, b) => compareUtf8(a.name, b.name) || compareUtf8(a.kind, b.kind))
  return symbols.map((s) => [s.name, s.kind, s.lineStart, s.lineEnd])
}

/**
 * grite's positional payload for `kind`, validated (`INVALID_ARGUMENT`).
 * Labels and symbols come out sorted, as grite hashes them.
 *
 * @example
 *   kindPayload({ type: 'LinkAdded', url: 'https://x', note: null }) // ['https://x', null]
 */
export function kindPayload(kind: EventKind): CborValue[] {
  if (typeof kind !== 'object' || kind === null) throw invalidArgument('kind', 'must be an object')
  const k = kind as unknown as Record<string, unknown>
  switch (kind.type) {
    case 'IssueCreated': {
      if (!Array.isArray(k.labels)) throw invalidArgument('kind.labels', 'must be an array of strings')
      const labels = k.labels.map((l: unknown, i) => str(l, `kind.labels[${i}]`)).sort(compareUtf8)
      return [str(k.title, 'kind.title'), str(k.body, 'kind.body'), labels]
    }
    case 'IssueUpdated':
      return [optStr(k.title, 'kind.title'), optStr(k.body, 'kind.body')]
    case 'CommentAdded':
      return [str(k.body, 'kind.body')]
    case 'LabelAdded':
    case 'LabelRemoved':
      return [str(k.label, 'kind.label')]
    case 'StateChanged':
      return [oneOf(k.state, ISSUE_STATES, 'kind.state')]
    case 'LinkAdded':
      return [str(k.url, 'kind.url'), optStr(k.note, 'kind.note')]
    case 'AssigneeAdded':
    case 'AssigneeRemoved':
      return [str(k.user, 'kind.user')]
    case 'AttachmentAdded':
      return [str(k.name, 'kind.name'), hexToBytes(k.sha256, 32, 'kind.sha256'), str(k.mime, 'kind.mime')]
    case 'DependencyAdded':
    case 'DependencyRemoved':
      return [hexToBytes(k.target, 16, 'kind.target'), oneOf(k.depType, DEP_TYPES, 'kind.depType')]
    case 'ContextUpdated':
      return [
        str(k.path, 'kind.path'),
        str(k.language, 'kind.language'),
        symbolsPayload(k.symbols),
        str(k.summary, 'kind.summary'),
        hexToBytes(k.contentHash, 32, 'kind.contentHash'),
      ]
    case 'ProjectContextUpdated':
      return [str(k.key, 'kind.key'), str(k.value, 'kind.value')]
    default:
      throw invalidArgument('kind.type', `must be one of ${Object.keys(KIND_TAGS).join(', ')}`)
  }
}

/**
 * grite's kind tag for `kind`, validated.
 *
 * @example
 *   kindTag({ type: 'CommentAdded', body: 'hi' }) // 3
 */
export function kindTag(kind: EventKind): number {
  const tag = typeof kind === 'object' && kind !== null ? KIND_TAGS[kind.type] : undefined
  if (typeof tag !== 'number' || !Object.hasOwn(KIND_TAGS, kind.type)) {
    throw invalidArgument('kind.type', `must be one of ${Object.keys(KIND_TAGS).join(', ')}`)
  }
  return tag
}

// ---- decoding: bytes from elsewhere, so INVALID_FORMAT ----

function bad(message: string): CairnError {
  return new CairnError('INVALID_FORMAT', `event payload: ${message}`)
}

function dStr(v: CborValue | undefined, field: string): string {
  if (typeof v !== 'string') throw bad(`${field} must be a text string`)
  return v
}

function dOptStr(v: CborValue | undefined, field: string): string | null {
  return v === null ? null : dStr(v, field)
}

function dBytesHex(v: CborValue | undefined, length: number, field: string): string {
  if (!(v instanceof Uint8Array) || v.length !== length) throw bad(`${field} must be a ${length}-byte string`)
  return bytesToHex(v)
}

function dOneOf<T extends string>(v: CborValue | undefined, allowed: readonly T[], field: string): T {
  const s = dStr(v, field)
  if (!allowed.includes(s as T)) throw bad(`${field} must be one of ${allowed.join(', ')}`)
  return s as T
}

function dU32(v: CborValue | undefined, field: string): number {
  if (typeof v !== 'number' || v < 0 || v > U32_MAX) throw bad(`${field} must be an integer in 0..${U32_MAX}`)
  return v
}

function dArray(v: CborValue | undefined, field: string): CborValue[] {
  if (!Array.isArray(v)) throw bad(`${field} must be an array`)
  return v
}

function dSymbol(v: CborValue, i: number): SymbolInfo {
  const a = dArray(v, `symbols[${i}]`)
  if (a.length !== 4) throw bad(`symbols[${i}] must have 4 elements, got ${a.length}`)
  return {
    name: dStr(a[0], `symbols[${i}].name`),
    kind: dStr(a[1], `symbols[${i}].kind`),
    lineStart: dU32(a[2], `symbols[${i}].line_start`),
    lineEnd: dU32(a[3], `symbols[${i}].line_end`),
  }
}

const ARITY: Readonly<Record<EventKindType, number>> = {
  IssueCreated: 3,
  IssueUpdated: 2,
  CommentAdded: 1,
  LabelAdded: 1,
  LabelRemoved: 1,
  StateChanged: 1,
  LinkAdded: 2,
  AssigneeAdded: 1,
  AssigneeRemoved: 1,
  AttachmentAdded: 3,
  DependencyAdded: 2,
  DependencyRemoved: 2,
  ContextUpdated: 5,
  ProjectContextUpdated: 2,
}

/**
 * Rebuilds a kind from grite's tag and payload, strictly: an unknown tag,
 * wrong arity or a wrong element type is `INVALID_FORMAT`. Optional strings
 * come back as explicit nulls.
 *
 * @example
 *   kindFromPayload(3, ['Looks good']) // { type: 'CommentAdded', body: 'Looks good' }
 */
export function kindFromPayload(tag: CborValue, payload: CborValue): EventKind {
  const type = typeof tag === 'number' ? TAG_KINDS.get(tag) : undefined
  if (type === undefined) throw bad(`unknown kind tag ${String(tag)}`)
  const a = dArray(payload, `${type} payload`)
  if (a.length !== ARITY[type]) throw bad(`${type} expects ${ARITY[type]} elements, got ${a.length}`)
  switch (type) {
    case 'IssueCreated':
      return {
        type,
        title: dStr(a[0], 'title'),
        body: dStr(a[1], 'body'),
        labels: dArray(a[2], 'labels').map((l, i) => dStr(l, `labels[${i}]`)),
      }
    case 'IssueUpdated':
      return { type, title: dOptStr(a[0], 'title'), body: dOptStr(a[1], 'body') }
    case 'CommentAdded':
      return { type, body: dStr(a[0], 'body') }
    case 'LabelAdded':
    case 'LabelRemoved':
      return { type, label: dStr(a[0], 'label') }
    case 'StateChanged':
      return { type, state: dOneOf(a[0], ISSUE_STATES, 'state') }
    case 'LinkAdded':
      return { type, url: dStr(a[0], 'url'), note: dOptStr(a[1], 'note') }
    case 'AssigneeAdded':
    case 'AssigneeRemoved':
      return { type, user: dStr(a[0], 'user') }
    case 'AttachmentAdded':
      return { type, name: dStr(a[0], 'name'), sha256: dBytesHex(a[1], 32, 'sha256'), mime: dStr(a[2], 'mime') }
    case 'DependencyAdded':
    case 'DependencyRemoved':
      return { type, target: dBytesHex(a[0], 16, 'target'), depType: dOneOf(a[1], DEP_TYPES, 'dep_type') }
    case 'ContextUpdated':
      return {
        type,
        path: dStr(a[0], 'path'),
        language: dStr(a[1], 'language'),
        symbols: dArray(a[2], 'symbols').map(dSymbol),
        summary: dStr(a[3], 'summary'),
        contentHash: dBytesHex(a[4], 32, 'content_hash'),
      }
    case 'ProjectContextUpdated':
      return { type, key: dStr(a[0], 'key'), value: dStr(a[1], 'value') }
  }
}
