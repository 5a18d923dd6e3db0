/**
 * Notices a thread that stopped answering (a busy loop, a stuck native call)
 * and terminates it; its pool then rejects its tasks and each host machine
 * restarts its repository. Real time on purpose: a manual test clock must
 * not be able to make a live thread look hung.
 */

/** What the watchdog needs from the Supervisor: probes of live hosts, and the last resort. */
export interface Watched {
  live(): { threadId: number; ping(timeoutMs: number): Promise<unknown> }[]
  terminateThread(threadId: number, why: string): Promise<boolean>
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
      if (await heard(host.ping(timeoutMs * 4), timeoutMs)) answered.add(host.threadId)
      else silent.add(host.threadId)
    }))
    for (const threadId of silent) {
      if (!answered.has(threadId)) await supervisor.terminateThread(threadId, `by the watchdog: no answer to its ping within ${timeoutMs} ms`)
    }
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}

/** How many times a wait stretched by the main thread's own stall is started afresh. */
const STALL_RETRIES = 3

/**
 * Whether `answer` settles (an answer or a refusal: either way the thread
 * is alive) within `timeoutMs` of time the main thread was free to hear it.
 * A main thread blocked past the deadline (a long synchronous job) fires the
 * timer late, with the thread's answer possibly queued behind it: queued
 * messages are let in first, and a wait the main thread itself overran is
 * started again instead of blaming the thread for the main thread's stall.
 */
export async function heard(answer: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let settled = false
  const done = answer.then(() => { settled = true }, () => { settled = true })
  for (let wait = 0; wait <= STALL_RETRIES; wait++) {
    const start = Date.now()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); timer.unref() })
    await Promise.race([done, late])
    clearTimeout(timer)
    if (settled) return true
    // The poll phase (port messages) runs before setImmediate's callbacks.
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (settled) return true
    const overran = Date.now() - start - timeoutMs
    if (overran < timeoutMs / 2) return false
  }
  return false
}
