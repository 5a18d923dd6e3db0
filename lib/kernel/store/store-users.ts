/**
 * Whether another process has an LMDB environment open right now, asked
 * without opening it: every process with an environment open holds POSIX
 * locks on its `lock.mdb` (a shared lock on byte 0 and one on its pid's
 * byte), and Linux lists every such lock in `/proc/locks` by inode.
 * Reading that file writes nothing, so a store can be inspected without
 * touching `lock.mdb` (a foreign or newer store must be left as found).
 *
 * Elsewhere (no `/proc/locks`) the answer is "no": the caller then does the
 * full check, which is right unless a writer is live at that moment.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Pids holding locks on `<dir>/lock.mdb`, this process included. */
export function storeLockHolders(dir: string): Set<number> {
  let ino: number
  let locks: string
  try {
    ino = statSync(join(dir, 'lock.mdb')).ino
    locks = readFileSync('/proc/locks', 'utf8')
  } catch {
    return new Set()
  }
  const pids = new Set<number>()
  // "3: POSIX  ADVISORY  WRITE 4431 fe:00:2171099 4431 4431": pid, then major:minor:inode.
  for (const line of locks.split('\n')) {
    const m = /^\d+:\s+(?:->\s+)?\S+\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line)
    if (m && Number(m[2]) === ino) pids.add(Number(m[1]))
  }
  return pids
}

/** Whether a process (this one included) has the environment in `dir` open. */
export function storeInUse(dir: string): boolean {
  return storeLockHolders(dir).size > 0
}
