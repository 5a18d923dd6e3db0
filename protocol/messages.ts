/**
 * Every message type that crosses a thread boundary, in one place (piscina
 * keeps its thread messages in one file for the same reason: the wire is
 * reviewable at a glance). Bodies are plain data; optional fields default as
 * documented and receivers validate before use.
 */
import type { WireError } from './errors.ts'
import type { ReconciledOperation } from '../lib/store/journal.ts'

/** Actor kinds hosted per repository, all three on the same thread. */
export type ActorKind = 'repo-worker' | 'lock-keeper' | 'sync'
export const ACTOR_KINDS: readonly ActorKind[] = ['repo-worker', 'lock-keeper', 'sync']

/** `<kind>:<repoId>`; the host of a repository is `host:<repoId>`. */
export const actorAddress = (kind: ActorKind, repoId: string): string => `${kind}:${repoId}`
export const hostAddress = (repoId: string): string => `host:${repoId}`
export const SUPERVISOR = 'supervisor'

/** What one host found and did while opening its repository. */
export interface RepoReconciliation {
  repoId: string
  operations: ReconciledOperation[]
  timersRestored: number
  timersOverdue: number
  snapshotsRestored: string[]
  snapshotsDiscarded: { actor: string; version: number }[]
}

export interface ActorStats {
  actor: string
  kind: ActorKind
  state: string
  mailbox: number
  capacity: number
}

// ---- host <-> supervisor -------------------------------------------------

export interface HostReady { threadId: number; reconciliation: RepoReconciliation; actors: ActorStats[] }
export interface HostFailed { error: WireError }
/** One-way: an actor's machine or effect failed; the supervisor decides. */
export interface ActorFailedBody { actor: string; kind: ActorKind; error: WireError }
export interface ActorRestartBody { kind: ActorKind }
export interface PingBody { at: number }
export interface PongBody { threadId: number; actors: ActorStats[] }
export type FaultMode = 'throw-actor' | 'throw-thread' | 'exit' | 'hang'
export interface FaultBody { mode: FaultMode; hangMs?: number }

// ---- requests to the RepoWorker (interim record log; grows into events) ----

export interface AppendBody { value: unknown; opId?: string }
export interface AppendResult { seq: number; opId: string; duplicate: boolean }
export interface GetBody { seq: number }
export interface ScanBody { fromSeq?: number; limit?: number }
export interface StoredRecord { seq: number; opId: string; at: number; value: unknown }
export interface ScheduleTimerBody { id: string; at: number; payload?: unknown }

export const MESSAGE_TYPES = {
  hostReady: 'host.ready',
  hostFailed: 'host.failed',
  hostStop: 'host.stop',
  ping: 'host.ping',
  clockTick: 'host.clock-tick',
  fault: 'host.fault',
  actorFailed: 'actor.failed',
  actorRestart: 'actor.restart',
  actorStatus: 'actor.status',
  append: 'records.append',
  get: 'records.get',
  scan: 'records.scan',
  count: 'records.count',
  scheduleTimer: 'timers.schedule',
  listTimers: 'timers.list',
} as const

export type MessageType = (typeof MESSAGE_TYPES)[keyof typeof MESSAGE_TYPES]
