/**
 * Builders for the git WAL tests: real grite chunks (encodeChunk over events
 * with content-derived ids) wrapped in appendWal inputs, and the git CLI used
 * to check, and to forge, what the adapter reads and writes.
 */
import { execFileSync } from 'node:child_process'
import { blake2b } from '@noble/hashes/blake2.js'
import type { WalCommitInput } from '../../../../../lib/kernel/ports/git-wal.ts'
import { bytesToHex, computeEventId, encodeChunk } from '../../../../../protocol/events/index.ts'
import type { CairnEvent, EventInput } from '../../../../../protocol/events/index.ts'

export const ACTOR = '0123456789abcdef0123456789abcdef'
export const ISSUE = 'fedcba9876543210fedcba9876543210'
export const walRef = (actor: string = ACTOR): string => `refs/cairn/wal/${actor}`
export const T0 = Date.UTC(2024, 1, 29, 23, 59, 58) // 2024-02-29, so the path is events/2024/02/29/

/** A chunk of `count` comment events; `tag` makes chunks of different writers differ. */
export function chunkOf(tag: string, seq: number, count = 2, actor = ACTOR): Uint8Array {
  const events: CairnEvent[] = []
  for (let i = 0; i < count; i++) {
    const input: EventInput = {
      issueId: ISSUE, actor, tsUnixMs: T0 + seq * 10 + i, parent: null,
      kind: { type: 'CommentAdded', body: `${tag} #${seq}.${i}` },
    }
    events.push({ ...input, eventId: computeEventId(input) })
  }
  return encodeChunk(events)
}

export const hashOf = (bytes: Uint8Array): string => bytesToHex(blake2b(bytes, { dkLen: 32 }))

/** The events/YYYY/MM/DD/<hash>.bin path of a chunk written at `timeMs` (UTC). */
export function chunkPathOf(chunk: Uint8Array, timeMs = T0): string {
  const d = new Date(timeMs)
  const p2 = (n: number) => String(n).padStart(2, '0')
  return `events/${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${hashOf(chunk)}.bin`
}

/** An appendWal input building on `tip`. */
export function walInput(tip: string | null, opts: { tag?: string; seq?: number; actor?: string; ref?: string } = {}): WalCommitInput {
  const actor = opts.actor ?? ACTOR
  const chunk = chunkOf(opts.tag ?? 'w', opts.seq ?? 0, 2, actor)
  return {
    ref: opts.ref ?? walRef(actor),
    expectedTip: tip,
    meta: { schema_version: 1, actor_id: actor, chunk_hash: hashOf(chunk), prev_wal: tip },
    chunkPath: chunkPathOf(chunk),
    chunk,
    message: `WAL: 2 events from ${actor.slice(0, 8)}`,
    author: { name: 'cairn', email: 'cairn@localhost', timeMs: T0 + 123 },
  }
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'forger', GIT_AUTHOR_EMAIL: 'forger@localhost',
  GIT_COMMITTER_NAME: 'forger', GIT_COMMITTER_EMAIL: 'forger@localhost',
}

/** Runs git against a git dir and returns its stdout as text (gitBytes: as bytes). */
export function git(gitDir: string, args: string[], input?: string | Uint8Array): string {
  return execFileSync('git', ['--git-dir', gitDir, ...args], { input, env: GIT_ENV }).toString()
}
export function gitBytes(gitDir: string, args: string[]): Buffer {
  return execFileSync('git', ['--git-dir', gitDir, ...args], { env: GIT_ENV })
}

/** Writes a nested tree of files with `git hash-object` and `git mktree`; returns its id. */
export function mkTree(gitDir: string, files: Record<string, string | Uint8Array>): string {
  const dirs = new Map<string, Record<string, string | Uint8Array>>()
  const lines: string[] = []
  for (const [path, content] of Object.entries(files)) {
    const slash = path.indexOf('/')
    if (slash === -1) {
      const blob = git(gitDir, ['hash-object', '-w', '--stdin'], content).trim()
      lines.push(`100644 blob ${blob}\t${path}`)
    } else {
      const dir = path.slice(0, slash)
      dirs.set(dir, { ...dirs.get(dir), [path.slice(slash + 1)]: content })
    }
  }
  for (const [dir, sub] of dirs) lines.push(`040000 tree ${mkTree(gitDir, sub)}\t${dir}`)
  return git(gitDir, ['mktree'], `${lines.join('\n')}\n`).trim()
}

/** `git commit-tree` (with `parent` if given) then `git update-ref ref`; returns the commit. */
export function forgeCommit(gitDir: string, ref: string, files: Record<string, string | Uint8Array>, parent: string | null): string {
  const tree = mkTree(gitDir, files)
  const commit = git(gitDir, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', 'forged']).trim()
  git(gitDir, ['update-ref', ref, commit])
  return commit
}

/** meta.json as the adapter writes it. */
export function metaJson(chunkHash: string, prev: string | null, actor = ACTOR): string {
  return `${JSON.stringify({ schema_version: 1, actor_id: actor, chunk_hash: chunkHash, prev_wal: prev }, null, 2)}\n`
}
