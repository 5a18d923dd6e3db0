/**
 * What the public API holds for one open repository: a way to reach its
 * actors and its store, and nothing of the Supervisor's bookkeeping. The
 * Supervisor hands one out from `openRepo`; lib/api builds the `Repo` facade
 * over it.
 */
import type { ActorKind } from '../../protocol/messages.ts'
import type { StoreReader } from '../repo-worker/store/reader.ts'
import type { EventFeed } from './event-feed.ts'
import type { RequestOptions } from './router.ts'

export interface RepoLink {
  /** The repository's id (16 hex of its git common dir's hash). */
  readonly id: string
  /** The repository's git common dir. */
  readonly path: string
  /** "The log has grown" signal for subscribers; outlives restarts of the repository's thread. */
  readonly feed: EventFeed
  /** A request to one of the repository's actors (or its host), answered by its thread. */
  request(kind: ActorKind | 'host', type: string, body: unknown, opts?: RequestOptions): Promise<unknown>
  /**
   * The reader of the repository's store, answering RepoWorker queries on the
   * calling thread; refused as `request` would be. A promise while the
   * repository changes hands or is closed (it opens again for the read).
   */
  reader(): StoreReader | Promise<StoreReader>
}
