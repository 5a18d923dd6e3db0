/**
 * A repository's coordination remote: `git config cairn.remote <remote>`
 * (a configured remote's name, a URL or a path). When it is set, claims go
 * through it (coordinated.ts); `repo.coordination.set()` and
 * `cairn remote coordination` write the same key, so git, the CLI and the
 * library agree on one setting that travels with the clone.
 *
 * Read on each claim but remembered for a second: a claim is a network round
 * trip, a config read is a process; a change applies within a second.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { runGit } from '../../adapters/git/git-cli.ts'
import { placeOf } from '../../adapters/git/cli-remote.ts'

export const COORDINATION_KEY = 'cairn.remote'
const REMEMBER_MS = 1_000
const TIMEOUT_MS = 30_000

export interface CoordinationApi {
  /** The coordination remote, or null when claims are local to this clone. */
  get(): Promise<string | null>
  /** Sets (or, with null, removes) `cairn.remote` in the repository's git config. */
  set(remote: string | null): Promise<void>
}

/** What each repository's setting read as, and when: shared by every handle on it in this process. */
const cache = new Map<string, { value: Promise<string | null>; at: number }>()
const MAX_CACHED = 1_024

export function coordination(gitDir: string, now: () => number = Date.now): CoordinationApi {
  const place = placeOf(gitDir)
  const read = async (): Promise<string | null> => {
    let r
    try {
      r = await runGit(['config', '--get', COORDINATION_KEY], { ...place, timeoutMs: TIMEOUT_MS })
    } catch (err) {
      // No git binary: nothing could have set the key through git, and no remote could be reached
      // anyway; local claims keep working for embedders without git installed.
      if (err instanceof CairnError && err.code === 'UNAVAILABLE') return null
      throw err
    }
    // 1: the key is not set.
    if (r.code !== 0 && r.code !== 1) throw new CairnError('INTERNAL', `git config --get ${COORDINATION_KEY} failed: ${r.stderr.trim().slice(0, 300)}`)
    return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null
  }
  return {
    async get() {
      const hit = cache.get(place.gitDir)
      if (hit && now() - hit.at < REMEMBER_MS) return hit.value
      const value = read()
      cache.delete(place.gitDir)
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string)
      cache.set(place.gitDir, { value, at: now() })
      value.catch(() => { if (cache.get(place.gitDir)?.value === value) cache.delete(place.gitDir) })
      return value
    },
    async set(remote) {
      if (remote !== null && (typeof remote !== 'string' || remote.length === 0 || remote.length > 4096 || /[\0\n\r]/.test(remote) || remote.startsWith('-'))) {
        throw invalidArgument('remote', 'must be null or a remote name, URL or path (1..4096 characters, no control characters, not starting with "-")')
      }
      const args = remote === null ? ['config', '--unset', COORDINATION_KEY] : ['config', COORDINATION_KEY, remote]
      const r = await runGit(args, { ...place, timeoutMs: TIMEOUT_MS })
      // --unset of a key that is not there exits 5: already so.
      if (r.code !== 0 && !(remote === null && r.code === 5)) throw new CairnError('INTERNAL', `git config ${COORDINATION_KEY} failed: ${r.stderr.trim().slice(0, 300)}`)
      cache.delete(place.gitDir)
    },
  }
}
