/** Reads Cairn's WAL refs with the git CLI only, so tests check what plain git sees. */
import { execFileSync } from 'node:child_process'
import { decodeChunk } from '../../protocol/events/chunk.ts'

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()

export const walRefName = (actor: string): string => `refs/cairn/wal/${actor}`

/** Every event id in one actor's WAL, oldest commit first. */
export function walEventIds(repo: string, actor: string): string[] {
  const ids: string[] = []
  for (const c of git(repo, 'rev-list', '--reverse', walRefName(actor)).split('\n').filter(Boolean)) {
    const bin = git(repo, 'ls-tree', '-r', '--name-only', c).split('\n').find((f) => f.endsWith('.bin'))!
    for (const e of decodeChunk(execFileSync('git', ['cat-file', 'blob', `${c}:${bin}`], { cwd: repo }))) ids.push(e.eventId)
  }
  return ids
}

/** Every WAL ref's actor. */
export function walActors(repo: string): string[] {
  const out = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/cairn/wal/')
  return out.split('\n').filter(Boolean).map((r) => r.slice('refs/cairn/wal/'.length))
}
