/**
 * What the runtime's own surfaces reach of a repository handle beyond the
 * public Repo: its reads in encoded form (the daemon's and the CLI's
 * operations) and its request channel to the repository's actors
 * (`cairn/testing`'s hooks). In a module of its own with only protocol
 * imports, so the CLI's daemon path (which loads the operation table) does
 * not load the runtime.
 */
import type { EncodedValue } from '../../protocol/codec.ts'
import { CairnError } from '../../protocol/errors.ts'
import type { ActorKind } from '../../protocol/messages.ts'
import type { Call, CallOptions } from './call.ts'

/**
 * The reads of one repository. Answered on the calling thread from the
 * store where the store reader can (actors/repo-worker/store/reader.ts), by
 * the RepoWorker otherwise.
 */
export interface RepoReads {
  /** The answer, the caller's own copy. */
  query: Call
  /**
   * The answer as msgpack bytes, for a caller that forwards it unchanged
   * (the daemon splices them into its reply, the CLI decodes them to print):
   * an unchanged shown issue is not decoded and encoded again per request.
   */
  encoded(type: string, body: Record<string, unknown>, opts?: CallOptions): Promise<EncodedValue>
}

export interface RepoChannels {
  readonly reads: RepoReads
  /** One request to an actor of the repository, or to its host, as the handle's own methods send them. */
  request(to: ActorKind | 'host', type: string, body: unknown, opts?: CallOptions): Promise<unknown>
}

/** Where a handle keeps its channels: not part of the public Repo. */
const CHANNELS = Symbol('cairn.repo.channels')

/** Gives a handle made by the runtime (lib/api/repo.ts) its channels. */
export function attachChannels<T extends object>(repo: T, channels: RepoChannels): T {
  Object.defineProperty(repo, CHANNELS, { value: channels })
  return repo
}

/**
 * The channels of a handle the runtime made (INTERNAL for any other object).
 * @example const answer = await channelsOf(repo).reads.encoded('issues.show', { id })
 */
export function channelsOf(repo: object): RepoChannels {
  const channels = (repo as { [CHANNELS]?: RepoChannels })[CHANNELS]
  if (channels === undefined) throw new CairnError('INTERNAL', 'not a repository handle made by createRuntime')
  return channels
}
