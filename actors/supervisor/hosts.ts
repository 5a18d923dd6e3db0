/**
 * The placement table: one record per open repository, saying which thread
 * hosts its three actors, in what state, and with what restart history.
 */
import type { FramePort } from '../../lib/kernel/frame-port.ts'
import type { ActorKind, HostReady, RepoReconciliation } from '../../protocol/messages.ts'
import { CHANNELS, publish } from '../../lib/kernel/diagnostics.ts'
import { EventFeed } from './event-feed.ts'
import { EMPTY_HISTORY, type RestartHistory } from './restart-policy.ts'

export type HostState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped'
export type ActorState = 'running' | 'restarting' | 'failed'

export interface HostRecord {
  repoId: string
  path: string
  storeDir: string
  state: HostState
  generation: number
  port: FramePort | null
  threadId: number | null
  /** Settles when the current generation is ready (or could not start). */
  ready: Promise<void>
  /** Settles when the current generation's host task has returned (its store closed) or died. */
  ended: Promise<void>
  reconciliation: RepoReconciliation | null
  actors: Map<ActorKind, { state: ActorState; history: RestartHistory; lastError: string | null }>
  /** Cancels a scheduled restart, if any. */
  cancelRestart: (() => void) | null
  failure: Error | null
  /** "The log has grown" signal for this repository's subscribers; outlives restarts. */
  feed: EventFeed
}

export function newHostRecord(repoId: string, path: string, storeDir: string, kinds: readonly ActorKind[]): HostRecord {
  return {
    repoId,
    path,
    storeDir,
    state: 'starting',
    generation: 0,
    port: null,
    threadId: null,
    ready: Promise.resolve(),
    ended: Promise.resolve(),
    reconciliation: null,
    actors: new Map(kinds.map((k) => [k, { state: 'running' as ActorState, history: EMPTY_HISTORY, lastError: null }])),
    cancelRestart: null,
    failure: null,
    feed: new EventFeed(),
  }
}

/**
 * The host thread of `rec` reported ready: its actors run (again). Each
 * repository's first open is added to `firstOpens`, whether at boot or later.
 */
export function markReady(rec: HostRecord, ready: HostReady, generation: number, firstOpens: RepoReconciliation[]): void {
  if (generation === 1) firstOpens.push(ready.reconciliation)
  rec.threadId = ready.threadId
  rec.reconciliation = ready.reconciliation
  rec.state = 'ready'
  for (const a of rec.actors.values()) if (a.state === 'restarting') a.state = 'running'
  for (const kind of rec.actors.keys()) {
    publish(generation === 1 ? CHANNELS.actorStarted : CHANNELS.actorRestarted, { actor: `${kind}:${rec.repoId}`, thread: ready.threadId })
  }
}
