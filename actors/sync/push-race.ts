/**
 * A push that lost a race (another runtime on this clone pushed the same
 * refs meanwhile): what the remote holds now decides, ref by ref. Already
 * there or ahead (the other pusher sent ours): done. An ancestor of ours:
 * pushed again. Anything else diverged from ours: refused.
 */
import type { GitSync } from '../../lib/kernel/ports/git-sync.ts'
import type { RefReport } from '../../protocol/results.ts'

const WAL_PREFIX = 'refs/cairn/wal/'

/** The push specs to send again; `refused` gets the refs (without `refs/cairn/`) that diverged. */
export async function afterRace(git: GitSync, remote: string, raced: string[], refs: Map<string, RefReport>, refused: string[]): Promise<string[]> {
  const theirsAll = await git.listRemote(remote, WAL_PREFIX)
  const again: string[] = []
  for (const name of raced) {
    const ref = name.slice('refs/cairn/'.length)
    const entry = refs.get(ref)
    const theirs = theirsAll.get(name) ?? null
    const ours = await git.readRef(name)
    if (ours === null || theirs === ours) {
      if (entry) entry.status = 'unchanged'
    } else if (theirs === null || await git.isAncestor(theirs, ours)) {
      again.push(`${ours}:${name}`)
    } else if (await git.isAncestor(ours, theirs)) {
      if (entry) entry.status = 'behind'
    } else {
      if (entry) entry.status = 'rejected'
      refused.push(ref)
    }
  }
  return again
}
