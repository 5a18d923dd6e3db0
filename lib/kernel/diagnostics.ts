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
} as const

export type ChannelName = (typeof CHANNELS)[keyof typeof CHANNELS]

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
