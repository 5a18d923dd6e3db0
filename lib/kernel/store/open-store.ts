/**
 * Opens a Cairn LMDB environment and proves it is ours before writing a byte.
 *
 * Every store records `{ application: 'cairn', kind, schemaVersion }` in its
 * `meta` database. A store with another application id, or with data but no
 * Cairn meta, is FOREIGN_STORE; a newer schema is STORE_TOO_NEW. Both are
 * refused after a read-only look, so the files are left exactly as found.
 *
 * Durability contract: writes are acknowledged by callers only after
 * `env.flushed` resolves (overlappingSync commits first and syncs after).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'

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

const OPEN_OPTIONS = { maxDbs: 32, compression: false, cache: false } as const

/**
 * Checks an existing environment read-only. Returns silently when the
 * directory holds no environment yet (a new store).
 */
export function inspectStore(dir: string, kind: StoreKind): StoreMeta | null {
  if (!existsSync(join(dir, 'data.mdb'))) return null
  const root = open({ path: dir, readOnly: true, ...OPEN_OPTIONS })
  try {
    const names = [...root.getKeys({ limit: 64 })].map(String)
    if (!names.includes('meta')) {
      if (names.length === 0) return null
      throw new CairnError('FOREIGN_STORE', `${dir} holds an LMDB store that is not Cairn's (no meta)`, { dir })
    }
    // A plain root key called 'meta' (another app's data) opens no database.
    const metaDb = root.openDB({ name: 'meta' }) as ReturnType<typeof root.openDB> | undefined
    const meta = metaDb?.get('meta') as StoreMeta | undefined
    if (!meta) throw new CairnError('FOREIGN_STORE', `${dir} has a meta database without Cairn meta`, { dir })
    if (meta.application !== APPLICATION_ID) {
      throw new CairnError('FOREIGN_STORE', `${dir} belongs to application '${meta.application}'`, { dir, application: meta.application })
    }
    if (meta.kind !== kind) {
      throw new CairnError('FOREIGN_STORE', `${dir} is a Cairn ${meta.kind} store, not a ${kind} store`, { dir, kind: meta.kind })
    }
    const supported = STORE_SCHEMA_VERSIONS[kind]
    if (typeof meta.schemaVersion !== 'number' || meta.schemaVersion > supported) {
      throw new CairnError('STORE_TOO_NEW', `${dir} has schema version ${meta.schemaVersion}; this Cairn understands up to ${supported}`,
        { dir, schemaVersion: meta.schemaVersion, supported })
    }
    return meta
  } finally {
    root.close()
  }
}

/**
 * Opens (creating if needed) a Cairn store.
 * @example const env = await openStore('/repo/.git/cairn', 'repo')
 */
export async function openStore(dir: string, kind: StoreKind): Promise<RootDatabase> {
  const existing = inspectStore(dir, kind)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const env = open({ path: dir, ...OPEN_OPTIONS })
  if (!existing) {
    const metaDb = env.openDB({ name: 'meta' })
    // ifNoExists: two processes creating the same store race benignly.
    await metaDb.ifNoExists('meta', () => {
      metaDb.put('meta', { application: APPLICATION_ID, kind, schemaVersion: STORE_SCHEMA_VERSIONS[kind], createdAt: Date.now() } satisfies StoreMeta)
    })
    await env.flushed
  }
  return env
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
  return open({ path: dir, ...OPEN_OPTIONS })
}
