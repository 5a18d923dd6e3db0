/**
 * The daemon's watch over holds tied to a process (`--pid`): while the
 * process lives, the daemon renews the hold when a third of its ttl is
 * left, so an agent's claim stays held however long it works between
 * commands; once the process is gone, renewals stop and the hold lapses
 * after its ttl and grace, like any silent agent's (the agent's next
 * command, or anyone's `agent.heartbeat` for it, reports the lapse).
 *
 * A pid can be reused by another process after the watched one exits:
 * the hold records the process's start time (Linux /proc/<pid>/stat), and
 * a live pid with another start time counts as gone.
 */
import { readFileSync } from 'node:fs'
import type { Repo } from '../api/repo.ts'
import type { HoldStore, Hold } from './holds.ts'
import { isLapse, renewHold } from './operations/holding.ts'

/** How often the watch looks: well under any ttl a CLI agent would use (ttls are ≥ 1 s). */
export const WATCH_MS = 500

/** The start time of process `pid` (clock ticks since boot, as text), or null when it does not run. */
export function processStart(pid: number): string | null {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 2 (comm) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
  } catch {
    return ''
  }
}

export class HoldWatch {
  readonly #holds: HoldStore
  readonly #open: (path: string, actor: string) => Promise<Repo>
  readonly #now: () => number
  readonly #log: (line: string) => void
  #timer: NodeJS.Timeout | null = null
  #busy = false
  #active = false

  constructor(holds: HoldStore, open: (path: string, actor: string) => Promise<Repo>, now: () => number, log: (line: string) => void) {
    this.#holds = holds
    this.#open = open
    this.#now = now
    this.#log = log
  }

  /** Whether some watched process still runs: the daemon then does not stop for idleness. */
  get active(): boolean { return this.#active }

  start(): void {
    this.#timer ??= setInterval(() => { void this.tick() }, WATCH_MS)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }

  /** One look at every watched hold (exported for tests; the timer calls it). */
  async tick(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      let active = false
      for (const w of this.#holds.watched()) {
        const holds = this.#holds.of(w.repo, w.actor, w.path)
        for (const hold of w.holds) {
          if (!alive(hold)) {
            const { pid: _pid, pidStart: _start, ...rest } = hold
            holds.put(rest)
            continue
          }
          active = true
          if (this.#now() < hold.expiresAt - Math.floor((hold.ttlMs * 2) / 3)) continue
          try {
            const got = await renewHold(await this.#open(w.path, w.actor), holds, hold)
            if (isLapse(got)) holds.note(got)
          } catch (err) {
            this.#log(`could not renew ${hold.resource} for process ${hold.pid}: ${(err as Error).message}`)
          }
        }
      }
      this.#active = active
    } finally {
      this.#busy = false
    }
  }
}

function alive(h: Hold): boolean {
  if (h.pid === undefined) return false
  const start = processStart(h.pid)
  return start !== null && (h.pidStart === undefined || h.pidStart === '' || start === '' || start === h.pidStart)
}
