/**
 * Notices a thread that stopped answering (a busy loop, a stuck native call)
 * and terminates it; its pool then rejects its tasks and each host machine
 * restarts its repository. Real time on purpose: a manual test clock must
 * not be able to make a live thread look hung.
 */

/** What the watchdog needs from the Supervisor: probes of live hosts, and the last resort. */
export interface Watched {
  live(): { threadId: number; ping(timeoutMs: number): Promise<unknown> }[]
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
    await Promise.all(supervisor.live().map(async (host) => {
      const start = Date.now()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); timer.unref() })
      const res = await Promise.race([host.ping(timeoutMs * 4).then(() => 'ok' as const, () => 'error' as const), timeout])
      clearTimeout(timer)
      if (res === 'timeout' && Date.now() - start >= timeoutMs) silent.add(host.threadId)
      else answered.add(host.threadId)
    }))
    for (const threadId of silent) if (!answered.has(threadId)) await supervisor.terminateThread(threadId)
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
