/**
 * The actor ids this repository's agents write as, for an actor that must
 * not read the RepoWorker's store itself: Sync pushes only the WAL refs of
 * these actors (another clone's refs are relayed, never claimed as ours).
 * Adapter: actors/sync/index.ts asks the RepoWorker (`identity.list`).
 */
export interface IdentityReader {
  /** Every actor id an agent of this clone has written as (so far). */
  ownActors(): Promise<ReadonlySet<string>>
}
