/**
 * What the Supervisor is built with: the fully-defaulted options the public
 * facade (lib/api/options.ts) validated, plus the module every repository
 * thread runs (lib/host/entry.ts says where it is, compiled or in sources).
 */
import type { Clock, ClockDescriptor } from '../../lib/kernel/ports/clock.ts'
import type { RestartPolicy } from './restart-policy.ts'
import type { ThreadSlot } from './thread-slot.ts'

export interface SupervisorOptions {
  home: string
  threads: number
  reposPerThread: number
  mailboxCapacity: number
  requestTimeoutMs: number
  restart: RestartPolicy
  watchdog: { intervalMs: number; timeoutMs: number } | false
  clock: Clock & { describe(): ClockDescriptor }
  coalesceRequests: boolean
  /** Close (passivate) a repository nobody used for this long, on the runtime clock; 0 never. */
  idleCloseMs: number
  faultInjection: boolean
  /** URL of the host task module Piscina loads in each thread. */
  hostEntry: string
  /**
   * Thread slots already started for this runtime (createRuntime starts
   * them before it loads the rest of the runtime); the Supervisor owns them
   * from then on. Without them it starts its own.
   */
  slots?: ThreadSlot[]
}
