/**
 * The handle of one open repository, bound to one actor identity: the issue
 * board and event log, leases, the git WAL and sync.
 */
import { MESSAGE_TYPES as M, type AgentIdentity, type EventStats, type LoggedEvent } from '../../protocol/messages.ts'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { EncodedValue, encodeValue } from '../../protocol/codec.ts'
import { StoreReader } from '../../actors/repo-worker/store/reader.ts'
import { checkPlainFields } from './plain-data.ts'
import { locksApi, type LocksApi } from './locks.ts'
import { claimNext, type ClaimOptions, type ClaimResult } from './claim.ts'
import { issuesApi, type IssuesApi } from './issues.ts'
import { checkSubscribeOptions, subscribe, type SubscribeOptions } from './subscribe.ts'
import { syncApi, type SyncApi } from './sync.ts'
import type { RequestOptions } from '../../actors/supervisor/router.ts'
import type { RepoLink, Supervisor } from '../../actors/supervisor/supervisor.ts'
import type { WalFlushReport } from '../../protocol/results.ts'
import { checkOpts, type Call, type CallOptions } from './call.ts'
import { attachChannels, type RepoReads } from './repo-channels.ts'
import { coordinatedLocks } from './claims/coordinated-locks.ts'
import { coordinated, type CoordinatedClaimOptions, type CoordinatedWriteOptions } from './claims/coordinated.ts'
import { coordination, type CoordinationApi } from './claims/coordination.ts'
import { claimsFor, type CollectReport } from './claims/remote-claims.ts'
import type { ClaimRecord } from '../../protocol/claim-record.ts'
export { checkOpts, type Call, type CallOptions }
export type { WalFlushReport }

export interface Repo extends SyncApi {
  readonly id: string
  /** The repository's git common dir. */
  readonly path: string
  /** This handle's actor id (32 hex): the author of every event it writes. */
  readonly actor: string
  /** The agent name the actor was resolved from, or null when given explicitly. */
  readonly agent: string | null
  readonly issues: IssuesApi & {
    /**
     * Atomically picks the next ready issue (open, no open blocker, not
     * leased), leases `issue:<id>` to this actor and records the claim
     * (assigning the agent), in one step on the repository's thread.
     * Resolves to `{ issue, lease, duplicate }`, or null when nothing is
     * claimable. Two callers never win the same issue; `opId` makes a retry
     * answer the same issue.
     */
    claimNext(opts: ClaimOptions & Pick<CoordinatedClaimOptions, 'local'>): Promise<ClaimResult>
    /** With a coordination remote, marks the issue's claim done there first (`local: true`: this clone only). */
    close(id: string, opts?: CoordinatedWriteOptions): ReturnType<IssuesApi['close']>
  }
  /**
   * The repository's coordination remote (`git config cairn.remote`): when
   * set, claimNext and close go through its claim refs, so one issue is
   * claimed once across every machine sharing it.
   */
  readonly coordination: CoordinationApi & {
    /** The remote's claim on an issue now (one fetch); null when it has none. */
    claim(issueId: string): Promise<ClaimRecord | null>
    /** Deletes finished and lapsed claims from the remote (done ones after `doneRetentionMs`, default 15 min). */
    collect(opts?: { doneRetentionMs?: number }): Promise<CollectReport>
  }
  /** Leases on `repo:`, `path:` and `issue:` resources, held by this handle's actor. */
  readonly locks: LocksApi
  /**
   * The agent names that have acted in this repository and their actor ids,
   * so a surface can show `agent-3` where events and leases carry actor hex.
   */
  agents(opts?: CallOptions): Promise<AgentIdentity[]>
  readonly wal: {
    /**
     * Drains the outbox into `refs/cairn/wal/<actor>` now and resolves when
     * every event acknowledged so far is in git (the drain also runs by
     * itself after each write).
     */
    flush(opts?: CallOptions): Promise<WalFlushReport>
  }
  readonly events: {
    /**
     * The local log from `fromSeq` on, then live. Ends when `signal` aborts or
     * the runtime stops. Resume with `fromSeq: lastSeen.seq + 1`.
     * @example for await (const { seq, event } of repo.events.subscribe({ fromSeq: 1 })) ...
     */
    subscribe(opts?: SubscribeOptions): AsyncIterable<LoggedEvent>
    /** One page of the local log from `fromSeq` (default 1), at most `limit` (1..1000, default 256) events. */
    read(range?: { fromSeq?: number; limit?: number }, opts?: CallOptions): Promise<LoggedEvent[]>
    stats(opts?: CallOptions): Promise<EventStats>
  }
}


/** What a repository handle needs of its runtime besides the repository's link. */
export type RepoRuntime = Pick<Supervisor, 'sessionId' | 'clock' | 'requestTimeoutMs' | 'onStop'>

export function repoCall(link: RepoLink): Call {
  return async <T>(type: string, body: unknown, opts?: CallOptions): Promise<T> => {
    checkOpts(opts)
    return (await link.request('repo-worker', type, body, { timeoutMs: opts?.timeoutMs, signal: opts?.signal })) as T
  }
}

/** A handle's reads (see repo-channels.ts). */
export function repoReads(link: RepoLink, call: Call): RepoReads {
  const local = (type: string, body: Record<string, unknown>, opts: CallOptions | undefined): boolean => {
    checkOpts(opts)
    if (!StoreReader.answers(type, body)) return false
    if (opts?.signal?.aborted) throw new CairnError('ABORTED', 'request aborted before it was sent')
    return true
  }
  return {
    query: async <T>(type: string, body: unknown, opts?: CallOptions): Promise<T> => {
      const fields = body as Record<string, unknown>
      return (local(type, fields, opts) ? (await link.reader()).query(type, fields) : await call<T>(type, body, opts)) as T
    },
    encoded: async (type, body, opts) => {
      checkPlainFields(body)
      return local(type, body, opts) ? (await link.reader()).encoded(type, body) : new EncodedValue(encodeValue(await call(type, body, opts)))
    },
  }
}

export function repoHandle(sup: RepoRuntime, link: RepoLink, identity: { actor: string; agent: string | null }): Repo {
  const call = repoCall(link)
  const reads = repoReads(link, call)
  const query = reads.query
  const locks = locksApi(
    async (type, body, opts) => {
      checkOpts(opts)
      return (await link.request('lock-keeper', type, body, opts)) as never
    },
    { actor: identity.actor, session: sup.sessionId(), ...(identity.agent !== null ? { agent: identity.agent } : {}), repo: link.id },
    sup.clock(), sup.requestTimeoutMs(), (fn) => sup.onStop(fn))
  const who = { actor: identity.actor, session: sup.sessionId(), user: identity.agent ?? identity.actor }
  const coord = coordination(link.path)
  const claims = claimsFor(link.path, sup.sessionId(), (fn) => sup.onStop(fn))
  const leases = coordinatedLocks(locks, { who, coordination: coord, claims })
  const repo: Repo = {
    id: link.id,
    path: link.path,
    actor: identity.actor,
    agent: identity.agent,
    issues: coordinated({ ...issuesApi(call, query, identity.actor), claimNext: claimNext(call, locks, who) },
      { call, locks, who, coordination: coord, claims }) as Repo['issues'],
    coordination: {
      get: coord.get,
      set: coord.set,
      claim: async (issueId) => {
        const remote = await coord.get()
        if (remote === null) throw new CairnError('NOT_FOUND', 'this repository names no coordination remote (git config cairn.remote)')
        return claims.status(remote, issueId)
      },
      collect: async (opts) => {
        const remote = await coord.get()
        if (remote === null) throw new CairnError('NOT_FOUND', 'this repository names no coordination remote (git config cairn.remote)')
        return claims.collect(remote, opts)
      },
    },
    locks: leases,
    agents: (opts) => query(M.identityList, {}, opts),
    wal: {
      flush: (opts) => call(M.walFlush, {}, opts),
    },
    ...syncApi((type, body, opts) => link.request('sync', type, body, opts)),
    events: {
      subscribe: (opts) => {
        const o = checkSubscribeOptions(opts)
        return subscribe((fromSeq, limit, signal) => call<LoggedEvent[]>(M.eventsRead, { fromSeq, limit }, { signal }), link.feed, o)
      },
      read: async (range, opts) => {
        if (range !== undefined && (typeof range !== 'object' || range === null)) throw invalidArgument('range', 'must be an object')
        const body = { fromSeq: range?.fromSeq, limit: range?.limit }
        checkPlainFields(body)
        return query(M.eventsRead, body, opts)
      },
      stats: (opts) => query(M.eventsStats, {}, opts),
    },
  }
  return attachChannels(repo, {
    reads,
    request: async (to, type, body, opts) => {
      checkOpts(opts)
      return link.request(to, type, body, opts)
    },
  })
}
