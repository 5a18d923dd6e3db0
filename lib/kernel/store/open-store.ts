/**
 * Opens a Cairn LMDB environment and proves it is sound and ours before
 * LMDB maps it or a byte is written.
 *
 * Every store records `{ application: 'cairn', kind, schemaVersion }` in its
 * `meta` database. A store with another application id, or with data but no
 * Cairn meta, is FOREIGN_STORE; a newer schema is STORE_TOO_NEW. A data file
 * that is not what LMDB writes (empty, cut short, zeroed or overwritten
 * pages, another file altogether) is STORE_CORRUPT: LMDB would crash the
 * process on it (store-file.ts). All three are decided by reading the file
 * with plain reads, so the files (`lock.mdb` included) are left exactly as
 * found. A store on a read-only file system opens for reading
 * (openReadableStore); its writers get STORE_READ_ONLY.
 *
 * Durability contract: writes are acknowledged by callers only after
 * `env.flushed` resolves; without overlapping sync (OPEN_OPTIONS) each
 * commit is synced before lmdb-js reports it.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'
import { PageError } from './lmdb-pages.ts'
import { readStoreFile, type StoreFileFacts } from './store-file.ts'
import { storeInUse } from './store-users.ts'
import { breakSeal, isSealed } from './seal.ts'
import { withCheckedDecoding } from './checked-decoding.ts'

export const APPLICATION_ID = 'cairn'

export type StoreKind = 'repo' | 'home'

/**
 * The on-disk layout each kind of store has now. Repository stores went to 2
 * when a comment's body moved into the per-issue index (`issue-events`): a
 * Cairn that reads that index as plain seqs must refuse such a store
 * (STORE_TOO_NEW) instead of misreading it. A store of an older version is
 * upgraded in place when its repository first opens (store/rebuild.ts).
 */
export const STORE_SCHEMA_VERSIONS: Readonly<Record<StoreKind, number>> = { repo: 2, home: 1 }

export interface StoreMeta {
  application: string
  kind: StoreKind
  schemaVersion: number
  createdAt: number
}

/**
 * How every Cairn store is opened. Overlapping sync (lmdb-js's default) is
 * off because several processes share a repository's store: it adds a sync
 * mutex shared by all of them, and when one is SIGKILLed holding it, the
 * next process to commit a large transaction takes the dead owner's mutex
 * inside its write transaction and LMDB declares that process's
 * environment broken (MDB_PANIC: every later write fails until the process
 * restarts). The recovery also resets the shared id of the last commit
 * without the writer lock. scripts/store-kill/run.ts shows the panic within
 * a minute with it on, and none with it off; durable writes cost the same
 * here either way, since Cairn waits for the sync before it answers.
 */
export const OPEN_OPTIONS = { maxDbs: 32, compression: false, cache: false, overlappingSync: false } as const

/**
 * How long a store a live process has open may read as damaged before it
 * is called so: reads 10, 20, 40 … ms apart, at most 320, for about 3 s. A
 * process creating the store makes an empty data.mdb, then writes its meta
 * pages; that takes microseconds, but a process stalled by a loaded disk or
 * CPU took over 0.3 s in CI, and two runtimes opening a new clone at once
 * then got STORE_CORRUPT. Only a store that keeps failing beside a live
 * user pays the wait.
 */
export const LIVE_WAIT_MS = 3_000
const LIVE_PAUSE_MAX_MS = 320
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

/**
 * Reads `<dir>/data.mdb` without mapping it: the whole page walk while no
 * other process has the store open, the meta pages and main tree while one
 * has (store-file.ts says why) or when the file is exactly as a clean close
 * left it (seal.ts). A walk that fails beside a live writer is
 * tried again a little later (the writer may have been rewriting a page just
 * then, or creating the store).
 */
export function readChecked(dir: string): StoreFileFacts {
  const path = join(dir, 'data.mdb')
  const started = performance.now()
  for (let attempt = 0; ; attempt++) {
    // Whether another process has the store open is asked only when it
    // decides something: reading /proc/locks takes the kernel's file-lock
    // lock for writing and waits out an RCU grace period, 5-15 ms of a
    // blocked thread here, at every open. A sealed file is read shallow
    // either way (a live writer would have broken its seal).
    const sealed = isSealed(dir)
    try {
      return readStoreFile(path, { deep: !sealed && !storeInUse(dir) })
    } catch (err) {
      if (!(err instanceof PageError)) {
        const code = (err as NodeJS.ErrnoException).code
        throw new CairnError(code === 'EACCES' ? 'STORE_READ_ONLY' : 'UNAVAILABLE', `cannot read ${path}: ${(err as Error).message}`, { dir })
      }
      // Asked (again) now: a writer that opened the store after the question
      // above holds its lock from before it created the file we just read.
      const waited = performance.now() - started
      if (waited < LIVE_WAIT_MS && storeInUse(dir)) {
        // A live writer may be rewriting that page, or creating the store: give it a moment.
        Atomics.wait(PAUSE, 0, 0, Math.min(10 * 2 ** attempt, LIVE_PAUSE_MAX_MS, LIVE_WAIT_MS - waited))
        continue
      }
      throw new CairnError('STORE_CORRUPT', `${path} is damaged: ${err.message}; \`cairn doctor --fix\` rebuilds it from the git WAL`,
        { dir, file: 'data.mdb', ...(err.page !== null ? { page: err.page } : {}) })
    }
  }
}

/**
 * Checks an existing environment without mapping it. Returns silently when
 * the directory holds no environment yet (a new store).
 */
export function inspectStore(dir: string, kind: StoreKind): StoreMeta | null {
  if (!existsSync(join(dir, 'data.mdb'))) return null
  const facts = readChecked(dir)
  if (!facts.names.includes('meta')) {
    if (facts.names.length === 0) return null
    throw new CairnError('FOREIGN_STORE', `${dir} holds an LMDB store that is not Cairn's (no meta)`, { dir })
  }
  const meta = facts.meta as StoreMeta | undefined
  // Nothing but an empty meta database: a store another process is creating right now
  // (openDB commits before the record); openStore's ifNoExists settles it.
  if (meta === undefined && facts.names.length === 1 && facts.dbFlags.has('meta') && facts.metaEntries === 0) return null
  if (!meta || typeof meta !== 'object') throw new CairnError('FOREIGN_STORE', `${dir} has a meta database without Cairn meta`, { dir })
  if (meta.application !== APPLICATION_ID) {
    throw new CairnError('FOREIGN_STORE', `${dir} belongs to application '${String(meta.application)}'`, { dir, application: meta.application })
  }
  if (meta.kind !== kind) {
    throw new CairnError('FOREIGN_STORE', `${dir} is a Cairn ${String(meta.kind)} store, not a ${kind} store`, { dir, kind: meta.kind })
  }
  const supported = STORE_SCHEMA_VERSIONS[kind]
  if (typeof meta.schemaVersion !== 'number' || meta.schemaVersion > supported) {
    throw new CairnError('STORE_TOO_NEW', `${dir} has schema version ${meta.schemaVersion}; this Cairn understands up to ${supported}`,
      { dir, schemaVersion: meta.schemaVersion, supported })
  }
  return meta
}

/** A store as opened: `readOnly` when its files cannot be written (read-only file system, no permission). */
export interface OpenedStore { env: RootDatabase; readOnly: boolean }

/** Whether `dir` (or, before it exists, the directory that would hold it) can be written. */
function writable(dir: string): boolean {
  let at = dir
  for (const file of ['data.mdb', 'lock.mdb']) {
    if (existsSync(join(dir, file))) {
      try { accessSync(join(dir, file), constants.W_OK) } catch { return false }
    }
  }
  while (!existsSync(at)) at = join(at, '..')
  try {
    accessSync(at, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Opens (creating if needed) a Cairn store for writing; one that cannot be
 * written is refused with STORE_READ_ONLY.
 * @example const env = await openStore('/repo/.git/cairn', 'repo')
 */
export async function openStore(dir: string, kind: StoreKind): Promise<RootDatabase> {
  const opened = await openReadableStore(dir, kind)
  if (!opened.readOnly) return opened.env
  await opened.env.close()
  throw new CairnError('STORE_READ_ONLY', `${dir} is not writable`, { dir })
}

/**
 * Opens a Cairn store for writing, or for reading only when its files
 * cannot be written: a store on a read-only file system can still be read.
 * @example const { env, readOnly } = await openReadableStore('/repo/.git/cairn', 'repo')
 */
export async function openReadableStore(dir: string, kind: StoreKind): Promise<OpenedStore> {
  const existing = inspectStore(dir, kind)
  if (!writable(dir)) {
    if (!existing) throw new CairnError('STORE_READ_ONLY', `${dir} holds no store and cannot be written to create one`, { dir })
    // LMDB omits the lock file of a read-only environment it cannot write (mdb_env_setup_locks).
    return { env: withCheckedDecoding(open({ path: dir, readOnly: true, ...OPEN_OPTIONS }), dir), readOnly: true }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  breakSeal(dir)
  const env = withCheckedDecoding(open({ path: dir, ...OPEN_OPTIONS }), dir)
  if (!existing) {
    const metaDb = env.openDB({ name: 'meta' })
    // ifNoExists: two processes creating the same store race benignly.
    await metaDb.ifNoExists('meta', () => {
      metaDb.put('meta', { application: APPLICATION_ID, kind, schemaVersion: STORE_SCHEMA_VERSIONS[kind], createdAt: Date.now() } satisfies StoreMeta)
    })
    await env.flushed
  }
  return { env, readOnly: false }
}

/**
 * Records that `env` now has the current layout of its kind. Call it inside
 * the write transaction that converts the data, so no reader ever sees the
 * new layout under the old version number.
 */
export function markSchemaCurrent(env: RootDatabase, kind: StoreKind): void {
  const metaDb = env.openDB({ name: 'meta' })
  const meta = metaDb.get('meta') as StoreMeta | undefined
  if (meta && meta.schemaVersion !== STORE_SCHEMA_VERSIONS[kind]) void metaDb.put('meta', { ...meta, schemaVersion: STORE_SCHEMA_VERSIONS[kind] })
}

/** The layout version `env` records (the current one for a store without meta). */
export function schemaVersionOf(env: RootDatabase, kind: StoreKind): number {
  return (env.openDB({ name: 'meta' }).get('meta') as StoreMeta | undefined)?.schemaVersion ?? STORE_SCHEMA_VERSIONS[kind]
}

/**
 * Opens a store another thread of this process created and writes, to read
 * it here. lmdb-js shares one native environment per file within a process,
 * so this costs no second map and takes no lock; it never creates anything.
 */
export function openShared(dir: string): RootDatabase {
  if (!existsSync(join(dir, 'data.mdb'))) throw new CairnError('UNAVAILABLE', `no store at ${dir}`, { dir })
  // A store the host could open for reading only is shared the same way (lmdb-js refuses writes to it anyway).
  return withCheckedDecoding(open({ path: dir, ...OPEN_OPTIONS, ...(writable(dir) ? {} : { readOnly: true }) }), dir)
}
