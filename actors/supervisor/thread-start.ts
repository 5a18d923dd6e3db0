/**
 * The task a spare thread runs at boot: it starts the thread (Piscina starts
 * workers for tasks) and answers its id, loading nothing else. The host
 * module (lib/host/host.ts: LMDB, xstate, the three actors) is imported by a
 * thread's first host task instead, so a thread that hosts no repository
 * holds only Node's own worker (about 8 MiB less RSS per idle thread).
 */
import { threadId } from 'node:worker_threads'

export default function threadStart(): number {
  return threadId
}

/** URL of this module for Piscina's `filename`: `.ts` from the sources, `.js` compiled. */
export const THREAD_START: string = import.meta.url
