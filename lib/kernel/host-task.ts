/**
 * The contract between the Supervisor and a repository thread: what the one
 * long-lived Piscina task per repository is started with. Plain data plus
 * one transferred MessagePort (Piscina has no thread affinity, so the port is
 * how the Supervisor keeps talking to the same thread).
 */
import type { MessagePort } from 'node:worker_threads'
import type { ClockDescriptor } from './ports/clock.ts'

export interface HostTask {
  port: MessagePort
  repoId: string
  storeDir: string
  clock: ClockDescriptor
  mailboxCapacity: number
  faultInjection: boolean
}

/** What a repository thread is started with (its `workerData`). */
export interface HostWorkerData {
  /** Load the hosting code at once rather than at the thread's first task. */
  loadNow: boolean
}
