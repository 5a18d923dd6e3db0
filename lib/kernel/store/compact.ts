/**
 * Compaction of a repository store: LMDB never gives pages back to the file
 * system. Pages freed by a large transaction (an ingest, a rebuild, the
 * outbox emptied after a long offline stretch) stay in the file on LMDB's
 * free list, and the first commits after it walk that list. A generated
 * board of 95k events held a third of its 148 MiB as free pages.
 *
 * {@link compactStore} writes LMDB's compacting copy of the store beside it,
 * checks the copy page by page as any open does (store-file.ts), syncs it,
 * and renames it over `data.mdb`: a crash leaves either the old file or the
 * new one, never a mix (a leftover copy is removed by the next run). It
 * runs only while no process has the store open, asked twice: before the
 * copy and right before the rename (a process that opened the old file in
 * between would keep writing to it).
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'
import { OPEN_OPTIONS, openStore, readChecked, type StoreKind } from './open-store.ts'
import { storeLockHolders } from './store-users.ts'
import { breakSeal, closeAndSeal, sealStore } from './seal.ts'

const COPY_DIR = 'compacting'

export interface StoreSpace {
  /** Bytes of `data.mdb` on disk. */
  fileBytes: number
  /** Bytes of the pages LMDB has handed out (the rest of the file is free pages or not yet used). */
  usedBytes: number
  /** Bytes of pages on LMDB's free list and past the last used page: what compaction gives back. */
  freeBytes: number
}

export interface Compacted { dir: string; before: StoreSpace; afterBytes: number }

interface TreeStats { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number }
interface EnvStats extends TreeStats { pageSize: number; lastPageNumber: number; free: TreeStats }

const pagesOf = (s: TreeStats): number => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages

/** How the file of an open store divides into used and free pages (named databases that cannot be opened count as free). */
export function storeSpace(env: RootDatabase, dataFile: string): StoreSpace {
  const stats = env.getStats() as EnvStats
  // Two meta pages, the main tree (the names of the databases), the free list's own tree.
  let used = 2 + pagesOf(stats) + pagesOf(stats.free)
  // Names first: opening a database while the main tree's cursor is open fails (MDB_BAD_TXN) in a read-only environment.
  const names = [...env.getKeys({}) as Iterable<unknown>].filter((k): k is string => typeof k === 'string')
  for (const name of names) {
    try {
      used += pagesOf(env.openDB({ name }).getStats() as TreeStats)
    } catch { /* not a database Cairn opens this way: its pages count as free */ }
  }
  const fileBytes = statSync(dataFile).size
  const usedBytes = Math.min(fileBytes, used * stats.pageSize)
  return { fileBytes, usedBytes, freeBytes: fileBytes - usedBytes }
}

/**
 * The space of the store in `dir` without writing anything: checked as any
 * open is (a damaged file is never mapped), then opened for reading, also
 * while a daemon has it open.
 */
export async function measureStoreSpace(dir: string): Promise<StoreSpace> {
  readChecked(dir)
  const env = open({ path: dir, readOnly: true, ...OPEN_OPTIONS })
  try {
    return storeSpace(env, join(dir, 'data.mdb'))
  } finally {
    await env.close()
  }
}

/** Bytes as MiB with one decimal, as the CLI prints store sizes. */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`
}

function inUse(dir: string, when: string): CairnError | null {
  // This process counts too: a runtime of its own with the store open would keep writing to the old file.
  const pids = [...storeLockHolders(dir)]
  if (pids.length === 0) return null
  return new CairnError('UNAVAILABLE', `the store in ${dir} is open in pid ${pids.join(', ')} ${when}: stop it (\`cairn daemon stop\`) and compact again`,
    { reason: 'store-in-use', pids, retryable: true })
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}

/**
 * The store in `dir`'s space (`dryRun`: read only, also beside a running
 * daemon), or the store rewritten without its free pages. UNAVAILABLE
 * (`store-in-use`) while any process has it open; NOT_FOUND without a store; the store's own open errors
 * (STORE_CORRUPT, FOREIGN_STORE, ...) as they are.
 * @example const { before, afterBytes } = await compactStore('/src/app/.git/cairn')
 */
export async function compactStore(dir: string, opts: { kind?: StoreKind; dryRun?: boolean } = {}): Promise<Compacted> {
  const dataFile = join(dir, 'data.mdb')
  if (!existsSync(dataFile)) throw new CairnError('NOT_FOUND', `no store in ${dir}`, { dir })
  if (opts.dryRun) {
    const before = await measureStoreSpace(dir)
    return { dir, before, afterBytes: before.fileBytes }
  }
  const busy = inUse(dir, 'now')
  if (busy) throw busy
  const copyDir = join(dir, COPY_DIR)
  rmSync(copyDir, { recursive: true, force: true })
  const env = await openStore(dir, opts.kind ?? 'repo')
  let before: StoreSpace
  try {
    before = storeSpace(env, dataFile)
    mkdirSync(copyDir, { mode: 0o700 })
    await (env as unknown as { backup(path: string, compact: boolean): Promise<void> }).backup(copyDir, true)
  } finally {
    await closeAndSeal(env, dir)
  }
  const copy = join(copyDir, 'data.mdb')
  try {
    // The copy is checked as any store file is before it is mapped: it must be sound before it replaces one that is.
    readChecked(copyDir)
    chmodSync(copy, statSync(dataFile).mode & 0o777)
    fsyncPath(copy)
    const late = inUse(dir, 'since the copy began')
    if (late) throw late
    breakSeal(dir)
    renameSync(copy, dataFile)
    fsyncPath(dir)
  } finally {
    rmSync(copyDir, { recursive: true, force: true })
  }
  sealStore(dir)
  return { dir, before, afterBytes: statSync(dataFile).size }
}
