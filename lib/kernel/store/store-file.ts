/**
 * Proves an LMDB data file is safe to map before LMDB maps it, and reads
 * what Cairn needs to know about a store (its named databases and its
 * `meta` record) without mapping it or touching `lock.mdb`.
 *
 * The walk reads every page reachable from both meta pages (LMDB may open
 * either snapshot: a store last written with lmdb-js's overlapping sync, as
 * Cairn's were before OPEN_OPTIONS turned it off, opens the previous one
 * after a crash), through the free-page tree, the main tree and every named
 * database's tree, and checks each page's header, node bounds, child page
 * numbers, tree depth and overflow runs (lmdb-pages.ts). What it cannot
 * see is a flipped bit inside a value or a key; values are checked when
 * they are decoded (checked-decoding.ts).
 *
 * Cost: one `pread` per page, each page once (a store of 228 MB, 55,000
 * pages, took 0.4-1.2 s here), so the walk runs only while no other process
 * has the store open (`deep: false` then: meta pages, file length, main
 * tree). A live writer reuses free pages as it commits, so a walk beside it
 * could read a page in the middle of being rewritten and call a healthy
 * store corrupt; a store that a live process has mapped is also one that
 * LMDB already opened without harm.
 */
import { unpack } from 'msgpackr'
import { F_DUPDATA, F_SUBDATA, NO_PAGE, P_BRANCH, P_LEAF, P_SUBP, PageError, PageFile, subDbRecord, type DbRecord, type Meta, type PageNode } from './lmdb-pages.ts'

/** LMDB's cursor stack depth: no real tree is deeper. */
const MAX_DEPTH = 32

export interface StoreFileFacts {
  /** Names in the main tree (named databases and plain keys), as of the newest snapshot. */
  names: string[]
  /** Each named database's LMDB flags (0x08 integer keys, 0x100 lmdb-js versions). */
  dbFlags: Map<string, number>
  /** The decoded `meta` record of the `meta` database, when there is one. */
  meta: unknown
  /** Records in the `meta` database (0 while another process is creating the store: openDB commits before the record). */
  metaEntries: number
  pages: number
}

/**
 * Reads `path` (a `data.mdb`) page by page and returns what it holds;
 * throws {@link PageError} naming the first thing that is wrong.
 */
export function readStoreFile(path: string, { deep = true }: { deep?: boolean } = {}): StoreFileFacts {
  const file = new PageFile(path)
  try {
    const checked = new Set<number>()
    for (const m of deep ? file.metas : []) {
      walkTree(file, m.free, m, checked, null)
      walkTree(file, m.main, m, checked, (node) => {
        if ((node.flags & F_SUBDATA) === 0) return
        walkTree(file, subDbRecord(node), m, checked, (inner) => checkDuplicates(file, inner, m, checked))
      })
    }
    const current = file.current
    const names: string[] = []
    const dbFlags = new Map<string, number>()
    let metaDb: DbRecord | null = null
    walkTree(file, current.main, current, null, (node) => {
      const name = dbName(node.key)
      names.push(name)
      if ((node.flags & F_SUBDATA) === 0) return
      const record = subDbRecord(node)
      dbFlags.set(name, record.flags)
      if (name === 'meta') metaDb = record
    })
    let meta: unknown
    if (metaDb !== null) {
      walkTree(file, metaDb, current, null, (node) => {
        if (node.key.toString('latin1') !== 'meta') return
        const bytes = node.data ?? file.overflow(node, current.lastPage)
        try {
          meta = unpack(bytes)
        } catch {
          throw new PageError('the store\'s meta record does not decode')
        }
      })
    }
    return { names, dbFlags, meta, metaEntries: (metaDb as DbRecord | null)?.entries ?? 0, pages: checked.size }
  } finally {
    file.close()
  }
}

/** A main-tree key: a named database's name is stored with a trailing NUL. */
function dbName(key: Buffer): string {
  const end = key.length > 0 && key[key.length - 1] === 0 ? key.length - 1 : key.length
  return key.toString('utf8', 0, end)
}

/**
 * Walks one tree, checking each page once (`checked`, when given, is shared
 * by every tree of the file: a page both snapshots share is read once), and
 * calls `leaf` for every leaf node.
 */
function walkTree(file: PageFile, db: DbRecord, meta: Meta, checked: Set<number> | null, leaf: ((node: PageNode) => void) | null): void {
  if (db.root === NO_PAGE) return
  if (db.depth < 1 || db.depth > MAX_DEPTH) throw new PageError(`a tree rooted at page ${db.root} claims depth ${db.depth}`, db.root)
  const stack: [number, number][] = [[db.root, 1]]
  while (stack.length > 0) {
    const [pgno, depth] = stack.pop()!
    if (checked?.has(pgno)) continue
    const page = file.page(pgno, meta.lastPage)
    checked?.add(pgno)
    if (page.flags & P_BRANCH) {
      if (depth >= db.depth) throw new PageError(`branch page ${pgno} sits at depth ${depth} of a tree ${db.depth} deep`, pgno)
      for (let i = page.nodes.length - 1; i >= 0; i--) stack.push([page.nodes[i]!.child, depth + 1])
      continue
    }
    if (depth !== db.depth) throw new PageError(`leaf page ${pgno} sits at depth ${depth} of a tree ${db.depth} deep`, pgno)
    for (const node of page.nodes) {
      if (node.data === null) {
        const pages = file.overflowPages(node, meta.lastPage)
        for (let p = 0; p < pages; p++) checked?.add(node.overflow + p)
      }
      leaf?.(node)
    }
  }
}

/** A named database's node holding duplicates: a sub-tree to walk, or a sub-page to check. */
function checkDuplicates(file: PageFile, node: PageNode, meta: Meta, checked: Set<number>): void {
  if ((node.flags & F_DUPDATA) === 0) return
  if (node.flags & F_SUBDATA) return walkTree(file, subDbRecord(node), meta, checked, null)
  const sub = node.data
  if (!sub || sub.length < 24) throw new PageError('a duplicates sub-page is cut short')
  const flags = sub.readUInt16LE(18)
  if ((flags & P_SUBP) === 0 || (flags & P_LEAF) === 0) throw new PageError(`a duplicates sub-page has flags 0x${flags.toString(16)}`)
  const lower = sub.readUInt16LE(20)
  const upper = sub.readUInt16LE(22)
  if (lower > upper || upper > sub.length - 24) throw new PageError('a duplicates sub-page has bounds outside its node')
}
