/**
 * Opened repository handles by (path, agent), so a warm daemon answers a
 * CLI call without re-resolving the repository or the agent's actor id.
 * Bounded: past `capacity` the oldest handle is dropped (the runtime keeps
 * the repository itself open; a handle is only an identity binding).
 */
import { invalidArgument } from '../../protocol/errors.ts'
import type { Runtime } from '../api/create-runtime.ts'
import type { Repo } from '../api/repo.ts'

export type RepoOpener = (path: unknown, agent: unknown) => Promise<Repo>

const MAX_PATH = 4096
const MAX_AGENT = 256

/** Validates the request's `repo` and `agent` fields (INVALID_ARGUMENT naming them). */
export function checkTarget(path: unknown, agent: unknown): { path: string; agent: string | undefined } {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH || path.includes('\0')) {
    throw invalidArgument('repo', `must be a path of 1..${MAX_PATH} characters`)
  }
  if (agent !== undefined && (typeof agent !== 'string' || agent.length === 0 || agent.length > MAX_AGENT)) {
    throw invalidArgument('agent', `must be a string of 1..${MAX_AGENT} characters`)
  }
  return { path, agent }
}

export function repoCache(runtime: Runtime, capacity = 1024): RepoOpener {
  const cache = new Map<string, Promise<Repo>>()
  return (rawPath, rawAgent) => {
    const { path, agent } = checkTarget(rawPath, rawAgent)
    const key = `${path}\0${agent ?? ''}`
    let p = cache.get(key)
    if (p === undefined) {
      if (cache.size >= capacity) cache.delete(cache.keys().next().value as string)
      p = runtime.repo(path, agent === undefined ? {} : { agent })
      cache.set(key, p)
      // A failed open is not remembered: the repository may exist next time.
      p.catch(() => { if (cache.get(key) === p) cache.delete(key) })
    }
    return p
  }
}
