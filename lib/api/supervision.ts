/**
 * The scriptable half of the runtime: what an operator or an orchestrator
 * asks the Supervisor. Inspect the actors, watch supervision events, bring a
 * repository back after it gave up, passivate one, move one to another thread.
 *
 * Every call validates its arguments here (INVALID_ARGUMENT naming the
 * field); a repository this runtime does not have open is NOT_FOUND, a thread
 * it does not have is NOT_FOUND with `details.field: 'thread'`.
 */
import { invalidArgument } from '../../protocol/errors.ts'
import { MAX_WATCH_BUFFER } from '../../protocol/limits.ts'
import type { ActorInfo, WatchItem } from '../../protocol/supervision.ts'
import type { HandOff, Supervisor } from '../../actors/supervisor/supervisor.ts'

export type { ActorInfo, HandOff, WatchItem }

export interface WatchOptions {
  /** Ends the iteration when it aborts. */
  signal?: AbortSignal
  /**
   * Events held for this watcher while it is slow, 1..65536 (default 1024):
   * past that, newer ones are dropped for it and a `missed` item says how many.
   */
  buffer?: number
}

export interface SupervisionApi {
  /** A snapshot of every actor of every open repository (runtime.ts `ActorInfo`). */
  actors(): Promise<ActorInfo[]>
  /**
   * Supervision events from now on (`placed`, `started`, `failed` with its
   * cause, `restarted`, `gave-up`, `thread-died`, `closed`, `moved`), each with
   * a sequence number, until `signal` aborts or the runtime stops.
   * @example for await (const e of runtime.watch({ signal })) if (e.type === 'gave-up') alert(e)
   */
  watch(opts?: WatchOptions): AsyncIterable<WatchItem>
  /**
   * Restarts the repository containing `path` on its thread with a fresh
   * restart history: brings it back from ACTOR_FAILED once the cause is
   * fixed, or restarts a live one. Requests meanwhile wait, then go on.
   */
  restart(path: string): Promise<HandOff>
  /**
   * Passivates the repository containing `path`: requests in flight finish,
   * the WAL drains, actors persist and stop, its thread slot and store
   * handles are freed. Its next use (this handle or `repo()`) opens it again.
   */
  close(path: string): Promise<HandOff>
  /**
   * Hands the repository containing `path` off to thread `threadId` (one of
   * `status().threads` or `actors()`): drain and persist, reopen there.
   * Requests in flight are answered; those sent meanwhile wait and go on.
   */
  move(path: string, threadId: number): Promise<HandOff>
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'must be a non-empty string')
  return path
}

export function supervisionApi(sup: Supervisor): SupervisionApi {
  return {
    actors: () => sup.actors(),
    watch(opts) {
      if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw invalidArgument('options', 'must be an object')
      if (opts?.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArgument('signal', 'must be an AbortSignal')
      const buffer = opts?.buffer ?? 1024
      if (!Number.isSafeInteger(buffer) || buffer < 1 || buffer > MAX_WATCH_BUFFER) throw invalidArgument('buffer', `must be an integer from 1 to ${MAX_WATCH_BUFFER}`)
      return sup.watch({ signal: opts?.signal, buffer })
    },
    restart: async (path) => sup.restart(checkPath(path)),
    close: async (path) => sup.close(checkPath(path)),
    move: async (path, threadId) => {
      checkPath(path)
      if (!Number.isSafeInteger(threadId) || threadId < 0) throw invalidArgument('thread', 'must be a thread id (a non-negative integer)')
      return sup.move(path, threadId)
    },
  }
}
