/**
 * The runtime home's store: known repositories and runtime sessions. A session
 * left without a clean shutdown by a process that is gone is a crash: boot
 * reconciliation reopens the repositories that session had open.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Database, RootDatabase } from 'lmdb'
import { openStore } from '../../lib/kernel/store/open-store.ts'

export interface SessionRecord { id: string; pid: number; startedAt: number; repos: string[]; clean: boolean }
export interface RepoRecord { repoId: string; path: string; storeDir: string; lastOpenedAt: number }

export class HomeStore {
  readonly env: RootDatabase
  readonly sessions: Database<SessionRecord, string>
  readonly repos: Database<RepoRecord, string>

  private constructor(env: RootDatabase) {
    this.env = env
    this.sessions = env.openDB({ name: 'sessions' }) as unknown as Database<SessionRecord, string>
    this.repos = env.openDB({ name: 'repos' }) as unknown as Database<RepoRecord, string>
  }

  static async open(home: string): Promise<HomeStore> {
    return new HomeStore(await openStore(join(home, 'store'), 'home'))
  }

  /** Sessions that ended without a clean stop and whose process is gone. */
  crashedSessions(current: string): SessionRecord[] {
    const out: SessionRecord[] = []
    for (const { value } of this.sessions.getRange({})) {
      if (value.id !== current && !value.clean && !processAlive(value.pid)) out.push(value)
    }
    return out
  }

  async put(session: SessionRecord): Promise<void> {
    await this.sessions.put(session.id, session)
    if (session.clean) await this.sessions.remove(session.id)
    await this.env.flushed
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  // kill(pid, 0) also succeeds for a zombie: a SIGKILLed runtime its parent
  // has not reaped yet must count as dead, or its crash goes unreported.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}
