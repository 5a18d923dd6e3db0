/**
 * The reads of one repository handle in their two forms, and how the
 * daemon's operations reach them. In a module of its own with only protocol
 * imports, so the CLI's daemon path (which loads the operation table) does
 * not load the runtime.
 */
import type { EncodedValue } from '../../protocol/codec.ts'
import { CairnError } from '../../protocol/errors.ts'
import type { Call, CallOptions } from './call.ts'

/**
 * Answered on the calling thread from the store where the store reader can
 * (actors/repo-worker/store/reader.ts), by the RepoWorker otherwise.
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

/** Where a handle keeps its reads: not part of the public Repo. */
const READS = Symbol('cairn.repo.reads')

/** Gives a handle made by the runtime (lib/api/repo.ts) its reads. */
export function attachReads<T extends object>(repo: T, reads: RepoReads): T {
  Object.defineProperty(repo, READS, { value: reads })
  return repo
}

/**
 * The reads of a handle the runtime made, for the daemon's and the CLI's
 * operations (lib/daemon/operations), which answer with encoded bytes.
 * @example const answer = await readsOf(repo).encoded('issues.show', { id })
 */
export function readsOf(repo: object): RepoReads {
  const reads = (repo as { [READS]?: RepoReads })[READS]
  if (reads === undefined) throw new CairnError('INTERNAL', 'not a repository handle made by createRuntime')
  return reads
}
