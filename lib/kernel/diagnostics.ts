/**
 * Diagnostics channels: the only way library code reports what happens.
 * Subscribe with `diagnostics_channel.subscribe('cairn:actor:failed', fn)`.
 * Worker threads forward their reports to the main thread, which publishes
 * them here, so subscribers see one stream whatever thread an actor runs on.
 */
import diagnosticsChannel from 'node:diagnostics_channel'

export const CHANNELS = {
  runtimeServing: 'cairn:runtime:serving',
  runtimeStopped: 'cairn:runtime:stopped',
  actorStarted: 'cairn:actor:started',
  actorRestarted: 'cairn:actor:restarted',
  actorFailed: 'cairn:actor:failed',
  threadDied: 'cairn:thread:died',
  threadUnresponsive: 'cairn:thread:unresponsive',
  mailboxFull: 'cairn:mailbox:full',
  reconciled: 'cairn:reconcile:done',
  timerFired: 'cairn:timer:fired',
  /** A lease was granted: `{ repo, resource, holder, token, expiresAt }`. */
  leaseGranted: 'cairn:lease:granted',
  /** A holder lost its lease (refused renewal, lapsed TTL, taken over): `{ repo, resource, token, reason }`. */
  leaseLost: 'cairn:lease:lost',
  /** A lease was ended early by someone other than its holder (a recorded break): `{ repo, resource, token, by }`. */
  leaseBroken: 'cairn:lease:broken',
  /** A sync run completed: `{ repo, remote, pulled, pushed, durationMs }`. */
  syncRun: 'cairn:sync:run',
  /** A sync run failed: `{ repo, remote, code, message, retryAt }`. */
  syncFailed: 'cairn:sync:failed',
  /** A WAL drain round put events into git: `{ repo, events, commits }`. */
  walDrained: 'cairn:wal:drained',
  /** A WAL drain round failed; its events stay in the outbox: `{ repo, code, message, retryAt }`. */
  walFailed: 'cairn:wal:failed',
} as const

export type ChannelName = (typeof CHANNELS)[keyof typeof CHANNELS]

const NAMES: ReadonlySet<string> = new Set(Object.values(CHANNELS))

/** Whether `name` is one of Cairn's channels (a report forwarded from a thread names one). */
export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && NAMES.has(name)
}

const channels = new Map<string, diagnosticsChannel.Channel>()

/** Publishes `message` on `name` when anyone listens; free otherwise. */
export function publish(name: ChannelName, message: object): void {
  let ch = channels.get(name)
  if (!ch) {
    ch = diagnosticsChannel.channel(name)
    channels.set(name, ch)
  }
  if (ch.hasSubscribers) ch.publish(message)
}
