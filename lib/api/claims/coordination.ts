/**
 * A repository's coordination remote: `git config cairn.remote <remote>`
 * (a configured remote's name, a URL or a path). When it is set, claims go
 * through it (coordinated.ts); `repo.coordination.set()` and
 * `cairn remote coordination` write the same key, so git, the CLI and the
 * library agree on one setting that travels with the clone.
 *
 * Read on each claim but remembered for a second: a claim is a network round
 * trip, a config read is a process; a change applies within a second.
 * claimNext goes further (speculate()): once the second is over it starts
 * its push on the last value read while a new read runs beside it, and
 * writes nothing here before that read confirmed the value (coordinated.ts),
 * so the read costs no time on its path and the value it acts on is never
 * older than the claim itself.
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

/** A value to start with, and the read that decides whether it was right. */
export interface Speculation {
  /** The last value read (undefined: none yet, wait for `fresh`). */
  guess: string | null | undefined
  /** The setting as of now (a read started by this call, or one less than a second old). */
  fresh: Promise<string | null>
}

/**
 * What each repository's setting read as, and when (`last`: the latest value a
 * read settled with, kept across reads): shared by every handle on it in this process.
 */
const cache = new Map<string, { value: Promise<string | null>; at: number; last: string | null | undefined }>()
const MAX_CACHED = 1_024

export function coordination(gitDir: string, now: () => number = Date.now): CoordinationApi & { speculate(): Speculation } {
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
  const get = (): Promise<string | null> => {
    const hit = cache.get(place.gitDir)
    if (hit && now() - hit.at < REMEMBER_MS) return hit.value
    const value = read()
    cache.delete(place.gitDir)
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string)
    const entry = { value, at: now(), last: hit?.last }
    cache.set(place.gitDir, entry)
    value.then((v) => { entry.last = v }, () => { if (cache.get(place.gitDir) === entry) cache.delete(place.gitDir) })
    return value
  }
  return {
    get: async () => get(),
    speculate: () => {
      const guess = cache.get(place.gitDir)?.last
      return { guess, fresh: get() }
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
