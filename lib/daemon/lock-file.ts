/**
 * `$CAIRN_HOME/daemon.lock`: who serves this home, for people and `doctor`.
 * It is written atomically (temp file + rename) so a reader never sees half a
 * record, and its heartbeat is refreshed while the daemon runs.
 *
 * It is not the mutex (home-mutex.ts is): a lock file survives `kill -9`, so
 * it is only ever evidence, and liveness is always decided by a round trip.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'

export interface LockRecord {
  pid: number
  startedAt: number
  protocol: number
  heartbeatAt: number
  socket: string
}

export const HEARTBEAT_MS = 5_000

/** Writes the record atomically with mode 0600. */
export function writeLockFile(path: string, record: LockRecord): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 })
  renameSync(tmp, path)
}

/** The record, or null when the file is missing or unreadable (a torn or foreign file counts as stale). */
export function readLockFile(path: string): LockRecord | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return null
  }
  try {
    const r = JSON.parse(text) as Record<string, unknown>
    if (!Number.isSafeInteger(r.pid) || !Number.isSafeInteger(r.startedAt) || !Number.isSafeInteger(r.heartbeatAt)) return null
    return r as unknown as LockRecord
  } catch {
    return null
  }
}

export function removeLockFile(path: string): void {
  rmSync(path, { force: true })
}

/** True when `pid` names a live process (EPERM counts as alive: it exists, we may not signal it). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
