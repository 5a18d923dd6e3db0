/**
 * Reads what can still be read from a damaged LMDB data file, without
 * mapping it: every named database's entries on the pages that are intact,
 * and a count of the pages that are not (their entries are lost to this
 * reader). The repair (`cairn doctor --fix`) rebuilds the event store from
 * git and takes the rest (identities, records, leases, the outbox of
 * events not yet in git) from here.
 *
 * Both snapshots are tried, newest first: a damaged newest root may leave
 * the previous snapshot (one commit older) readable.
 */
import { F_SUBDATA, NO_PAGE, P_BRANCH, PageError, PageFile, subDbRecord, type DbRecord, type Meta } from './lmdb-pages.ts'

export interface SalvagedDb {
  /** LMDB's database flags (0x08: integer keys). */
  flags: number
  entries: { key: Buffer; value: Buffer }[]
  /** Pages of this database that could not be read. */
  damagedPages: number
}

export interface Salvage {
  /** Databases by name; a database whose record could not be read is missing. */
  dbs: Map<string, SalvagedDb>
  /** Why nothing could be read (the meta pages or the main tree are gone), or null. */
  unreadable: string | null
  /** Which snapshot the entries come from (its transaction id), when any. */
  txnid: number | null
}

/** Best-effort read of every named database of `path`. Never throws for damage. */
export function salvageStoreFile(path: string): Salvage {
  let file: PageFile
  try {
    file = new PageFile(path)
  } catch (err) {
    return { dbs: new Map(), unreadable: err instanceof Error ? err.message : String(err), txnid: null }
  }
  try {
    const metas = [...file.metas].sort((a, b) => b.txnid - a.txnid)
    let why = 'no snapshot is readable'
    for (const meta of metas) {
      try {
        return { dbs: readAll(file, meta), unreadable: null, txnid: meta.txnid }
      } catch (err) {
        why = err instanceof Error ? err.message : String(err)
      }
    }
    return { dbs: new Map(), unreadable: why, txnid: null }
  } finally {
    file.close()
  }
}

/** The main tree must be intact (it names the databases); inside each database, damaged pages are skipped. */
function readAll(file: PageFile, meta: Meta): Map<string, SalvagedDb> {
  const records = new Map<string, DbRecord>()
  const main = collect(file, meta.main, meta)
  if (main.damagedPages > 0) throw new PageError(`the main tree has ${main.damagedPages} damaged pages`)
  for (const { key, flags, record } of main.nodes) {
    if ((flags & F_SUBDATA) === 0 || record === null) continue
    const end = key.length > 0 && key[key.length - 1] === 0 ? key.length - 1 : key.length
    records.set(key.toString('utf8', 0, end), record)
  }
  const out = new Map<string, SalvagedDb>()
  for (const [name, db] of records) {
    const got = collect(file, db, meta)
    out.set(name, {
      flags: db.flags,
      entries: got.nodes.filter((n) => n.value !== null).map((n) => ({ key: n.key, value: n.value! })),
      damagedPages: got.damagedPages,
    })
  }
  return out
}

interface Collected { key: Buffer; flags: number; value: Buffer | null; record: DbRecord | null }

/** Every leaf entry of one tree in key order, skipping (and counting) what cannot be read. */
function collect(file: PageFile, db: DbRecord, meta: Meta): { nodes: Collected[]; damagedPages: number } {
  const nodes: Collected[] = []
  let damagedPages = 0
  if (db.root === NO_PAGE) return { nodes, damagedPages }
  const seen = new Set<number>()
  const stack = [db.root]
  while (stack.length > 0 && seen.size < 10_000_000) {
    const pgno = stack.pop()!
    if (seen.has(pgno)) continue
    seen.add(pgno)
    let page
    try {
      page = file.page(pgno, meta.lastPage)
    } catch {
      damagedPages++
      continue
    }
    if (page.flags & P_BRANCH) {
      for (let i = page.nodes.length - 1; i >= 0; i--) stack.push(page.nodes[i]!.child)
      continue
    }
    for (const node of page.nodes) {
      let value: Buffer | null = node.data
      let record: DbRecord | null = null
      try {
        if (value === null) value = file.overflow(node, meta.lastPage)
        if (node.flags & F_SUBDATA) record = subDbRecord(node)
      } catch {
        damagedPages++
        value = null
      }
      nodes.push({ key: Buffer.from(node.key), flags: node.flags, value: value && Buffer.from(value), record })
    }
  }
  return { nodes, damagedPages }
}
