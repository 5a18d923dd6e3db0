/**
 * Ports the actors of one repository offer each other on their thread, set
 * by the offering actor while it runs (null before it started, while it
 * restarts, after it stopped). One object per repository host; a user
 * reads the port when it needs it, never keeps it.
 */
import type { LeaseGate } from './lease-gate.ts'

export interface ThreadPorts {
  /** The LockKeeper's lease gate, for the RepoWorker. */
  leaseGate: LeaseGate | null
}

/** The ports of a new host: none offered yet. */
export function threadPorts(): ThreadPorts {
  return { leaseGate: null }
}
