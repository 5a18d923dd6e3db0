/**
 * Notices a thread that stopped answering (a busy loop, a stuck native call)
 * and terminates it; the pool then rejects its tasks and the Supervisor
 * re-places its repositories. Real time on purpose: a manual test clock must
 * not be able to make a live thread look hung.
 */
import type { HostRecord } from './hosts.ts'

/** What the watchdog needs from the Supervisor: the hosts, a probe, and the last resort. */
export interface Watched {
  readonly hosts: ReadonlyMap<string, HostRecord>
  ping(rec: HostRecord, timeoutMs: number): Promise<unknown>
  terminateThread(threadId: number): Promise<boolean>
}

export class Watchdog {
  #timer: NodeJS.Timeout
  #busy = false

  constructor(supervisor: Watched, opts: { intervalMs: number; timeoutMs: number }) {
    this.#timer = setInterval(() => {
      if (this.#busy) return
      this.#busy = true
      void this.#check(supervisor, opts.timeoutMs).finally(() => { this.#busy = false })
    }, opts.intervalMs)
    this.#timer.unref()
  }

  async #check(supervisor: Watched, timeoutMs: number): Promise<void> {
    const silent = new Set<number>()
    const answered = new Set<number>()
    await Promise.all([...supervisor.hosts.values()].filter((r) => r.state === 'ready' && r.threadId !== null).map(async (rec) => {
      const start = Date.now()
      const timeout = new Promise<'timeout'>((resolve) => { const t = setTimeout(() => resolve('timeout'), timeoutMs); t.unref() })
      const res = await Promise.race([supervisor.ping(rec, timeoutMs * 4).then(() => 'ok' as const, () => 'error' as const), timeout])
      if (res === 'timeout' && Date.now() - start >= timeoutMs) silent.add(rec.threadId!)
      else answered.add(rec.threadId!)
    }))
    for (const threadId of silent) if (!answered.has(threadId)) await supervisor.terminateThread(threadId)
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
