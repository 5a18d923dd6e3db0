/**
 * The WAL commit format, without git: validating what a caller asks to write,
 * encoding meta.json, and checking what a commit holds. Pure functions, so
 * the rules are tested by value and shared by every adapter of the port.
 *
 * Wire contract (grite's layout, libgrite-git `wal.rs`): a WAL commit's tree
 * holds exactly its own chunk and its meta:
 *   meta.json                           { schema_version: 1, actor_id, chunk_hash, prev_wal }
 *   events/YYYY/MM/DD/<chunk_hash>.bin  chunk_hash = BLAKE2b-256 hex of the chunk bytes
 * and `prev_wal` is the commit's only parent (null for a root commit).
 */
import { chunkHashOf } from '../../../protocol/events/chunk.ts'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { isHexId } from '../../../protocol/events/hex.ts'
import type { WalCommitInput, WalEntry, WalMeta } from '../../kernel/ports/git-wal.ts'

/** WAL (and lease) refs live here; appendWal refuses to move anything else. */
export const CAIRN_REF_PREFIX = 'refs/cairn/'
/** `events/YYYY/MM/DD/<64 hex>.bin`; group 1 is the chunk hash. */
export const CHUNK_PATH = /^events\/\d{4}\/\d{2}\/\d{2}\/([0-9a-f]{64})\.bin$/
export const META_FILE = 'meta.json'
export const WAL_SCHEMA_VERSION = 1
/** Bytes of a git object id (SHA-1). */
const OID_BYTES = 20

/** True when `value` is a 40-char lowercase hex commit id. */
export function isOid(value: unknown): value is string {
  return isHexId(value, OID_BYTES)
}

/**
 * The bytes of meta.json: pretty JSON, 2-space indent, keys in grite's field
 * order, and a trailing newline (grite's serde output has none; readers parse
 * JSON and never compare bytes, so both spellings interoperate).
 *
 * @example
 *   encodeMeta({ schema_version: 1, actor_id: 'ab'.repeat(16), chunk_hash: 'cd'.repeat(32), prev_wal: null })
 *   // '{\n  "schema_version": 1,\n  "actor_id": "abab…",\n  …\n  "prev_wal": null\n}\n'
 */
export function encodeMeta(meta: WalMeta): string {
  const ordered = {
    schema_version: meta.schema_version,
    actor_id: meta.actor_id,
    chunk_hash: meta.chunk_hash,
    prev_wal: meta.prev_wal,
  }
  return `${JSON.stringify(ordered, null, 2)}\n`
}

function validateAuthor(author: unknown): void {
  if (!author || typeof author !== 'object') throw invalidArgument('author', 'must be an object { name, email, timeMs }')
  const a = author as Record<string, unknown>
  for (const field of ['name', 'email'] as const) {
    const v = a[field]
    // libgit2 rejects empty names and angle brackets; a newline would forge a header line.
    if (typeof v !== 'string' || v.trim() === '' || /[<>\n\0]/.test(v)) {
      throw invalidArgument(`author.${field}`, 'must be a non-empty string without <, >, newline or NUL')
    }
  }
  if (typeof a.timeMs !== 'number' || !Number.isSafeInteger(a.timeMs) || a.timeMs < 0) {
    throw invalidArgument('author.timeMs', 'must be a non-negative integer (ms since the epoch)')
  }
}

/**
 * Checks an appendWal input, throwing `INVALID_ARGUMENT` naming the field.
 * `isValidRefName` is git's own rule (libgit2's), passed in to keep this pure.
 *
 * @example
 *   validateWalInput({ ...input, ref: 'refs/heads/main' }, isValid) // throws: ref must start with refs/cairn/
 */
export function validateWalInput(input: WalCommitInput, isValidRefName: (name: string) => boolean): void {
  if (!input || typeof input !== 'object') throw invalidArgument('input', 'must be an object')
  const { ref, expectedTip, meta, chunkPath, chunk, message } = input
  if (typeof ref !== 'string' || !ref.startsWith(CAIRN_REF_PREFIX)) {
    throw invalidArgument('ref', `must be a string starting with ${CAIRN_REF_PREFIX}`)
  }
  if (!isValidRefName(ref)) throw invalidArgument('ref', `is not a valid git ref name: ${JSON.stringify(ref)}`)
  if (expectedTip !== null && !isOid(expectedTip)) {
    throw invalidArgument('expectedTip', 'must be null or a 40-char lowercase hex commit id')
  }
  if (!meta || typeof meta !== 'object') throw invalidArgument('meta', 'must be an object')
  const problem = metaProblem(meta as unknown as Record<string, unknown>)
  if (problem) throw invalidArgument(`meta.${problem.field}`, problem.message)
  // prev_wal names the parent, and the parent is expectedTip: one fact, stated twice.
  if (meta.prev_wal !== expectedTip) throw invalidArgument('meta.prev_wal', 'must equal expectedTip')
  if (typeof chunkPath !== 'string') throw invalidArgument('chunkPath', 'must be a string')
  const match = CHUNK_PATH.exec(chunkPath)
  if (!match) throw invalidArgument('chunkPath', 'must be events/YYYY/MM/DD/<64 lowercase hex>.bin')
  if (match[1] !== meta.chunk_hash) throw invalidArgument('meta.chunk_hash', 'must equal the hash in chunkPath')
  if (!(chunk instanceof Uint8Array)) throw invalidArgument('chunk', 'must be a Uint8Array')
  // Refuse to write what every reader (ours included) would reject as corrupt.
  if (chunkHashOf(chunk) !== meta.chunk_hash) throw invalidArgument('chunk', 'BLAKE2b-256 does not match meta.chunk_hash')
  if (typeof message !== 'string' || message.includes('\0')) throw invalidArgument('message', 'must be a string without NUL')
  validateAuthor(input.author)
}

interface MetaProblem { field: string; message: string }

/** The first thing wrong with a meta object, or null. Shared by the writer (argument) and the reader (format). */
function metaProblem(m: Record<string, unknown>): MetaProblem | null {
  if (m.schema_version !== WAL_SCHEMA_VERSION) return { field: 'schema_version', message: `must be ${WAL_SCHEMA_VERSION}` }
  if (!isHexId(m.actor_id, 16)) return { field: 'actor_id', message: 'must be 32 lowercase hex characters' }
  if (!isHexId(m.chunk_hash, 32)) return { field: 'chunk_hash', message: 'must be 64 lowercase hex characters' }
  if (m.prev_wal !== null && !isOid(m.prev_wal)) return { field: 'prev_wal', message: 'must be null or a 40-char lowercase hex commit id' }
  return null
}

/**
 * Parses and validates a commit's meta.json. Malformed bytes are
 * `INVALID_FORMAT`; a well-formed meta of another schema version is
 * `SCHEMA_MISMATCH` (written by a newer grite or Cairn, not corrupt).
 * Unknown extra keys are ignored; the result holds exactly the four fields.
 */
export function parseMeta(bytes: Uint8Array, commit: string): WalMeta {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw malformed(commit, `meta.json is not valid UTF-8 JSON (${(err as Error).message})`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw malformed(commit, 'meta.json is not a JSON object')
  const m = value as Record<string, unknown>
  if (Number.isInteger(m.schema_version) && m.schema_version !== WAL_SCHEMA_VERSION) {
    throw new CairnError('SCHEMA_MISMATCH', `WAL commit ${commit}: meta.json schema_version ${String(m.schema_version)} is not ${WAL_SCHEMA_VERSION}`, { commit })
  }
  const problem = metaProblem(m)
  if (problem) throw malformed(commit, `meta.json ${problem.field} ${problem.message}`)
  return {
    schema_version: WAL_SCHEMA_VERSION,
    actor_id: m.actor_id as string,
    chunk_hash: m.chunk_hash as string,
    prev_wal: m.prev_wal as string | null,
  }
}

/** An `INVALID_FORMAT` naming the WAL commit, so an operator can `git show` it. */
export function malformed(commit: string, problem: string): CairnError {
  return new CairnError('INVALID_FORMAT', `WAL commit ${commit}: ${problem}`, { commit })
}

/**
 * Which file of a WAL commit's tree is its chunk: the tree (its regular
 * files, by path) must hold meta.json and exactly one `.bin`. Shared by
 * every reader, so all refuse the same trees with the same words.
 */
export function walChunkPath(commit: string, files: Iterable<string>): string {
  const r = walChunkOf(files)
  if ('problem' in r) throw malformed(commit, r.problem)
  return r.chunkPath
}

/** {@link walChunkPath} as a value: the chunk's path, or what is wrong with the tree. */
export function walChunkOf(files: Iterable<string>): { chunkPath: string } | { problem: string } {
  let meta = false
  const bins: string[] = []
  for (const p of files) {
    if (p === META_FILE) meta = true
    else if (p.endsWith('.bin')) bins.push(p)
  }
  if (!meta) return { problem: 'has no meta.json' }
  if (bins.length !== 1) return { problem: `holds ${bins.length} .bin files, expected exactly one` }
  return { chunkPath: bins[0] as string }
}

/**
 * A WAL commit's entry from its bytes, checked: meta.json parses, the chunk
 * path is the layout's and names meta's chunk_hash, the chunk hashes to it,
 * and prev_wal is the commit's first parent.
 */
export function walEntryOf(commit: string, parent: string | null, chunkPath: string, metaBytes: Uint8Array, chunkBytes: Uint8Array): WalEntry {
  const meta = parseMeta(metaBytes, commit)
  const match = CHUNK_PATH.exec(chunkPath)
  if (!match) throw malformed(commit, `chunk path ${chunkPath} is not events/YYYY/MM/DD/<hash>.bin`)
  if (match[1] !== meta.chunk_hash) throw malformed(commit, `chunk path ${chunkPath} does not match meta.json chunk_hash ${meta.chunk_hash}`)
  const actual = chunkHashOf(chunkBytes)
  if (actual !== meta.chunk_hash) throw malformed(commit, `chunk hash is ${actual}, meta.json says ${meta.chunk_hash}`)
  if (meta.prev_wal !== parent) throw malformed(commit, `meta.json prev_wal ${String(meta.prev_wal)} is not the first parent ${String(parent)}`)
  return { commit, meta, chunkPath, chunk: chunkBytes }
}
