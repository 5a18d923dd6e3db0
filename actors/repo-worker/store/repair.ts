/**
 * Rebuilds a repository store that is damaged (STORE_CORRUPT): the damaged
 * files move aside, a new store is made, and it is filled from what
 * survives elsewhere.
 *
 * - Events: every event the git WAL holds (`refs/cairn/wal/*`, and the
 *   tracking refs of fetched remotes under `refs/cairn-sync/`). The drain
 *   puts every acknowledged event there, so these are all drained events.
 * - The outbox (acknowledged events not drained yet) is read from the
 *   damaged file's intact pages (store-salvage.ts): each entry holds its
 *   event's chunk record, so such an event comes back whole, and goes into
 *   the new outbox. An entry whose event cannot be read back is reported by
 *   id; outbox pages that cannot be read are reported as a count (their ids
 *   are unknown).
 * - Identities, records, op ids, leases, lease tokens and settings, actor
 *   snapshots and durable timers are copied entry by entry from the intact
 *   pages, each value checked to decode; what is lost is reported.
 * - Projections are folded from the new log (rebuild.ts); sync starts over
 *   from each remote's root (ingesting is idempotent).
 *
 * The caller makes sure no process has the store open.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { unpack } from 'msgpackr'
import type { RootDatabase } from 'lmdb'
import { chunkRecordBytes, decodeChunk, encodeChunkFromEncoded } from '../../../protocol/events/chunk.ts'
import { canonicalPreimage } from '../../../protocol/events/canonical.ts'
import type { CairnEvent } from '../../../protocol/events/types.ts'
import type { GitSync } from '../../../lib/kernel/ports/git-sync.ts'
import { openStore } from '../../../lib/kernel/store/open-store.ts'
import { breakSeal } from '../../../lib/kernel/store/seal.ts'
import { salvageStoreFile, type Salvage } from '../../../lib/kernel/store/store-salvage.ts'
import { eventKey } from './batch.ts'
import { openRepoDbs, type RepoDbs } from './dbs.ts'
import { prepareProjections } from './rebuild.ts'

/** Databases rebuilt rather than copied. */
const REBUILT = new Set(['meta', 'event-log', 'event-ids', 'issue-events', 'issues', 'issue-comments', 'outbox', 'event-meta', 'wal-state', 'write-fence', 'journal', 'sync'])
const INTEGER_KEYS = 0x08
const WAL_PAGE = 512
const MAX_CHAIN = 10_000_000
const WRITE_BATCH = 5_000

export interface RepairReport {
  /** Where the damaged files went. */
  movedTo: string
  /** The snapshot the salvaged entries come from, or why none could be read. */
  salvagedFrom: { txnid: number | null; unreadable: string | null }
  fromGit: { refs: number; commits: number; events: number; unreadable: { ref: string; reason: string }[] }
  outbox: { entries: number; inGit: number; restored: number; unrecoverable: string[]; damagedPages: number; readable: boolean }
  /** Entries copied per database, and databases with pages that could not be read. */
  copied: Record<string, number>
  damaged: Record<string, number>
  projections: { issues: number; events: number }
}

/**
 * @example
 *   const report = await repairStore('/src/app/.git/cairn', await openGitSync('/src/app/.git'))
 */
export async function repairStore(storeDir: string, git: GitSync, now: () => number = Date.now): Promise<RepairReport> {
  const salvage = salvageStoreFile(join(storeDir, 'data.mdb'))
  const movedTo = join(dirname(storeDir), 'cairn-damaged', new Date(now()).toISOString().replace(/[:.]/g, '-'))
  mkdirSync(movedTo, { recursive: true, mode: 0o700 })
  for (const f of ['data.mdb', 'lock.mdb']) if (existsSync(join(storeDir, f))) renameSync(join(storeDir, f), join(movedTo, f))
  breakSeal(storeDir)

  const fromGit = await readGitEvents(git)
  const env = await openStore(storeDir, 'repo')
  try {
    const dbs = openRepoDbs(env)
    const outbox = recoverOutbox(salvage, fromGit.events)
    await writeEvents(env, dbs, [...fromGit.events.values()], outbox.local)
    const { copied, damaged } = await copyEntries(env, salvage)
    const projections = await prepareProjections(env, dbs)
    return {
      movedTo,
      salvagedFrom: { txnid: salvage.txnid, unreadable: salvage.unreadable },
      fromGit: { refs: fromGit.refs, commits: fromGit.commits, events: fromGit.events.size, unreadable: fromGit.unreadable },
      outbox: outbox.report,
      copied,
      damaged,
      projections: { issues: dbs.issues.getCount(), events: projections.events },
    }
  } finally {
    await env.close()
  }
}

/** Every event on the clone's WAL refs (ours, mirrored and fetched), each once, in chain order per ref; a ref that cannot be read is named. */
async function readGitEvents(git: GitSync) {
  const refs = new Map([...await git.listRefs('refs/cairn/wal/'), ...[...await git.listRefs('refs/cairn-sync/')].filter(([name]) => name.includes('/wal/'))])
  const events = new Map<string, CairnEvent>()
  const unreadable: { ref: string; reason: string }[] = []
  let commits = 0
  const reader = git.walReader()
  try {
    for (const [ref, tip] of refs) {
      try {
        const [chain] = await reader.chains([{ tip, stopAt: null }], MAX_CHAIN)
        for (let at = 0; at < chain!.length; at += WAL_PAGE) {
          for (const e of await reader.read(chain!.slice(at, at + WAL_PAGE))) {
            for (const ev of decodeChunk(e.chunk)) if (!events.has(ev.eventId)) events.set(ev.eventId, ev)
            commits++
          }
        }
      } catch (err) {
        unreadable.push({ ref, reason: err instanceof Error ? err.message : String(err) })
      }
    }
  } finally {
    await reader.close()
  }
  return { refs: refs.size, commits, events, unreadable }
}

/** The salvaged outbox: events not in git come back (from their entry's record, or the salvaged log); the rest are named. */
function recoverOutbox(salvage: Salvage, inGit: Map<string, CairnEvent>) {
  const outbox = salvage.dbs.get('outbox')
  const log = new Map((salvage.dbs.get('event-log')?.entries ?? []).map((e) => [e.key.readUInt32LE(0), e.value]))
  const report = { entries: outbox?.entries.length ?? 0, inGit: 0, restored: 0, unrecoverable: [] as string[], damagedPages: outbox?.damagedPages ?? 0, readable: outbox !== undefined }
  const local: CairnEvent[] = []
  for (const { key, value } of outbox?.entries ?? []) {
    let entry: unknown
    try {
      entry = unpack(value)
    } catch {
      report.unrecoverable.push(`outbox entry ${key.readUInt32LE(0)} (its value does not decode)`)
      continue
    }
    const id = Array.isArray(entry) ? entry[0] : entry
    if (typeof id !== 'string') {
      report.unrecoverable.push(`outbox entry ${key.readUInt32LE(0)} (not an outbox entry)`)
      continue
    }
    if (inGit.has(id)) {
      report.inGit++
      continue
    }
    const event = eventOf(entry, log.get(key.readUInt32LE(0)))
    if (event === null || event.eventId !== id) report.unrecoverable.push(id)
    else {
      local.push(event)
      report.restored++
    }
  }
  return { local, report }
}

/** An outbox entry's event: from its chunk record (checked against its id), or from the salvaged log. */
function eventOf(entry: unknown, logged: Buffer | undefined): CairnEvent | null {
  try {
    if (Array.isArray(entry) && entry[3] instanceof Uint8Array) return decodeChunk(encodeChunkFromEncoded([entry[3]]))[0] ?? null
    return logged ? (unpack(logged) as CairnEvent) : null
  } catch {
    return null
  }
}

/** Logs and indexes the events from git, then the recovered local ones with their outbox entries. */
async function writeEvents(env: RootDatabase, dbs: RepoDbs, fromGit: CairnEvent[], local: CairnEvent[]): Promise<void> {
  const all = [...fromGit.map((e) => [e, false] as const), ...local.map((e) => [e, true] as const)]
  let seq = 0
  for (let at = 0; at < all.length; at += WRITE_BATCH) {
    await env.transaction(() => {
      for (const [event, isLocal] of all.slice(at, at + WRITE_BATCH)) {
        const stored: CairnEvent = { ...event }
        if (!stored.sig) delete stored.sig
        seq++
        dbs.log.put(seq, stored)
        dbs.byIssue.put(eventKey(event), event.kind.type === 'CommentAdded' ? [seq, event.kind.body] : seq)
        if (isLocal) dbs.outbox.put(seq, [event.eventId, event.actor, event.tsUnixMs, chunkRecordBytes(event.eventId, canonicalPreimage(event))])
      }
    })
  }
}

/** Copies the other databases' intact entries byte for byte, each value checked to decode first. */
async function copyEntries(env: RootDatabase, salvage: Salvage): Promise<{ copied: Record<string, number>; damaged: Record<string, number> }> {
  const copied: Record<string, number> = {}
  const damaged: Record<string, number> = {}
  for (const [name, db] of salvage.dbs) {
    if (REBUILT.has(name)) continue
    const integer = (db.flags & INTEGER_KEYS) !== 0
    const raw = env.openDB({ name, encoding: 'binary', keyEncoding: integer ? 'uint32' : 'binary' })
    let n = 0
    let bad = db.damagedPages
    await env.transaction(() => {
      for (const { key, value } of db.entries) {
        try {
          unpack(value)
        } catch {
          bad++
          continue
        }
        void raw.put(integer ? key.readUInt32LE(0) : key, value)
        n++
      }
    })
    copied[name] = n
    if (bad > 0) damaged[name] = bad
  }
  return { copied, damaged }
}
