/**
 * What each agent holds through the daemon or the CLI: its claims and
 * leases, with the lease ids that prove holding them. A CLI process exits
 * after one command, so the holds outlive it here, in the runtime home:
 * the agent's next command renews them (every command does, see
 * operations/agent.ts), releases or closes them by resource alone, and
 * learns when one lapsed. The daemon also renews a hold tied to a process
 * (`--pid`) for as long as that process lives (hold-watch.ts).
 *
 * On disk: `<home>/holds/<32 hex>.json`, one file per (repository, agent),
 * written whole and atomically (temp file, rename), mode 0600 in a 0700
 * directory: the lease ids are credentials of the user's own agents, kept
 * where the daemon's socket is, never in a repository. Only one process
 * writes a home at a time (the daemon, or one embedded CLI holding the
 * home's mutex), so there are no concurrent writers to merge.
 */
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Hold {
  resource: string
  token: number
  /** The proof of holding (LeaseInfo.id). */
  leaseId: string
  ttlMs: number
  expiresAt: number
  /** A claim's issue. */
  issueId?: string
  /** A remote lease: its remote. */
  remote?: string
  /** A process the daemon watches: while it lives, the daemon renews this hold. */
  pid?: number
  /** That process's start time (Linux: /proc/<pid>/stat field 22), so a reused pid is not taken for it. */
  pidStart?: string
}

/** A hold found over while no command of its agent ran (the daemon's process watch): reported on the agent's next command. */
export interface LapseNote { code: 'CLAIM_LAPSED'; resource: string; token: number; issueId?: string; expiresAt: number; message: string }

/** Holds of one (repository, agent); `path` opens the repository again (the process watch after a restart). */
interface HoldFile { v: 1; repo: string; path: string; actor: string; holds: Hold[]; lapsed: LapseNote[] }

/** An agent's holds in one repository. */
export interface AgentHolds {
  list(): Hold[]
  find(resource: string): Hold | undefined
  put(hold: Hold): void
  remove(resource: string): void
  /** Keeps a lapse for the agent's next command. */
  note(lapse: LapseNote): void
  /** The lapses kept so far, forgotten once taken. */
  takeNotes(): LapseNote[]
}

/** Bounds what a hand-edited or corrupt file can make us hold. */
const MAX_HOLDS = 1024

export class HoldStore {
  readonly #dir: string
  readonly #cache = new Map<string, HoldFile>()

  /** `home`: the runtime home (created 0700 by the daemon's paths). */
  constructor(home: string) {
    this.#dir = join(home, 'holds')
  }

  /**
   * The holds of `actor` in the repository `repo` (its repository id, and
   * its path to open it again).
   * @example holds.of(repo.id, repo.actor, repo.path).put({ resource, token, leaseId, ttlMs, expiresAt })
   */
  of(repo: string, actor: string, path = ''): AgentHolds {
    const file = this.#load(repo, actor, path)
    const save = (): void => this.#save(file)
    return {
      list: () => file.holds.map((h) => ({ ...h })),
      find: (resource) => file.holds.find((h) => h.resource === resource),
      put: (hold) => {
        file.holds = [...file.holds.filter((h) => h.resource !== hold.resource), { ...hold }].slice(-MAX_HOLDS)
        save()
      },
      remove: (resource) => {
        const before = file.holds.length
        file.holds = file.holds.filter((h) => h.resource !== resource)
        if (file.holds.length !== before) save()
      },
      note: (lapse) => {
        file.lapsed = [...file.lapsed, lapse].slice(-MAX_HOLDS)
        save()
      },
      takeNotes: () => {
        const notes = file.lapsed
        if (notes.length === 0) return []
        file.lapsed = []
        save()
        return notes
      },
    }
  }

  /** Every (repository, agent) with holds tied to a process: what the daemon watches, also after a restart. */
  watched(): Array<{ repo: string; path: string; actor: string; holds: Hold[] }> {
    let names: string[]
    try {
      names = readdirSync(this.#dir).filter((n) => /^[0-9a-f]{32}\.json$/.test(n))
    } catch {
      return []
    }
    const out: Array<{ repo: string; path: string; actor: string; holds: Hold[] }> = []
    for (const n of names) {
      const key = n.slice(0, 32)
      const f = this.#cache.get(key) ?? this.#read(join(this.#dir, n))
      if (!f || f.path === '') continue
      const holds = f.holds.filter((h) => h.pid !== undefined)
      if (holds.length > 0) out.push({ repo: f.repo, path: f.path, actor: f.actor, holds })
    }
    return out
  }

  #key(repo: string, actor: string): string {
    return createHash('sha256').update(`${repo}\0${actor}`).digest('hex').slice(0, 32)
  }

  #load(repo: string, actor: string, path: string): HoldFile {
    const key = this.#key(repo, actor)
    let f = this.#cache.get(key)
    if (!f) {
      f = this.#read(join(this.#dir, `${key}.json`)) ?? { v: 1, repo, path, actor, holds: [], lapsed: [] }
      if (this.#cache.size >= 1024) this.#cache.delete(this.#cache.keys().next().value as string)
      this.#cache.set(key, f)
    }
    if (path !== '' && f.path !== path) f.path = path
    return f
  }

  /** A file that does not parse as holds is treated as none: renewals would only fail on it. */
  #read(path: string): HoldFile | null {
    try {
      const v = JSON.parse(readFileSync(path, 'utf8')) as HoldFile
      if (v?.v !== 1 || typeof v.repo !== 'string' || typeof v.actor !== 'string' || !Array.isArray(v.holds)) return null
      v.holds = v.holds.filter(isHold).slice(-MAX_HOLDS)
      v.path = typeof v.path === 'string' ? v.path : ''
      v.lapsed = Array.isArray(v.lapsed) ? v.lapsed.filter((l) => typeof l?.resource === 'string' && typeof l.message === 'string').slice(-MAX_HOLDS) : []
      return v
    } catch {
      return null
    }
  }

  #save(f: HoldFile): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
    chmodSync(this.#dir, 0o700)
    const path = join(this.#dir, `${this.#key(f.repo, f.actor)}.json`)
    if (f.holds.length === 0 && f.lapsed.length === 0) {
      rmSync(path, { force: true })
      return
    }
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(f), { mode: 0o600 })
    renameSync(tmp, path)
  }
}

function isHold(h: unknown): h is Hold {
  const o = h as Record<string, unknown>
  return o !== null && typeof o === 'object' && typeof o.resource === 'string' && Number.isSafeInteger(o.token)
    && typeof o.leaseId === 'string' && Number.isSafeInteger(o.ttlMs) && Number.isSafeInteger(o.expiresAt)
    && (o.pid === undefined || Number.isSafeInteger(o.pid))
}
