/**
 * LMDB's data file read with plain `read(2)`, never mapped: the page layout
 * of the LMDB that lmdb-js 3 builds (0.9.90, its mdb.master3 fork: data
 * version 2, 64-bit page numbers, 24-byte page headers), little endian.
 *
 * Why: LMDB trusts its file. It maps it and follows page numbers as
 * pointers, so a truncated file faults (SIGBUS), a garbage page number reads
 * outside the map (SIGSEGV) and a zeroed page trips an assertion (SIGABRT),
 * each taking the whole process (and every repository it serves) down.
 * Reading the same structures through this module first turns all of that
 * into a thrown {@link PageError}.
 *
 * Layout (mdb.c): a page starts with `pgno u64, txnid u64, pad u16, flags u16,
 * lower u16, upper u16` (an overflow page has `pages u32` in place of
 * lower/upper). Pages 0 and 1 are meta pages: the header, then
 * `magic u32, version u32, address u64, mapsize u64, dbs[2] (48 bytes each:
 * pad u32 (page size in dbs[0]), flags u16, depth u16, branch u64, leaf u64,
 * overflow u64, entries u64, root u64), last_pg u64, txnid u64`. Branch and
 * leaf pages hold `lower / 2` node offsets (relative to the end of the
 * header); a node is `lo u16, hi u16, flags u16, ksize u16, key, data`,
 * where a branch node's child page is `lo | hi << 16 | flags << 32` and a
 * leaf node's data size is `lo | hi << 16`.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

export const PAGE_HEADER = 24
const NODE_HEADER = 8
const DB_RECORD = 48
export const MDB_MAGIC = 0xbeefc0de
export const MDB_DATA_VERSION = 2

export const P_BRANCH = 0x01
export const P_LEAF = 0x02
export const P_OVERFLOW = 0x04
export const P_META = 0x08
export const P_LEAF2 = 0x20
export const P_SUBP = 0x40
export const F_BIGDATA = 0x01
export const F_SUBDATA = 0x02
export const F_DUPDATA = 0x04

/** An empty tree's root (`P_INVALID`, all ones). */
export const NO_PAGE = -1

/** Something in the file is not what LMDB would have written. */
export class PageError extends Error {
  readonly page: number | null
  constructor(message: string, page: number | null = null) {
    super(message)
    this.name = 'PageError'
    this.page = page
  }
}

/** One B-tree's record (`MDB_db`). */
export interface DbRecord { flags: number; depth: number; entries: number; root: number }

export interface Meta { page: 0 | 1; pageSize: number; txnid: number; lastPage: number; free: DbRecord; main: DbRecord }

export interface PageNode {
  flags: number
  key: Buffer
  /** Branch: the child page. */
  child: number
  /** Leaf: the data size, and the data itself unless it lives on overflow pages (F_BIGDATA). */
  dataSize: number
  data: Buffer | null
  /** Leaf, F_BIGDATA: the first overflow page. */
  overflow: number
}

export interface Page { pgno: number; flags: number; nodes: PageNode[]; overflowPages: number }

const u64 = (b: Buffer, at: number): number => {
  const v = b.readBigUInt64LE(at)
  if (v === 0xffffffffffffffffn) return NO_PAGE
  // Page numbers and counts past 2^53 cannot be real in a file we can read.
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)
}

export function readDbRecord(b: Buffer, at: number): DbRecord {
  return { flags: b.readUInt16LE(at + 4), depth: b.readUInt16LE(at + 6), entries: u64(b, at + 32), root: u64(b, at + 40) }
}

/** Parses meta page `page` from its bytes; throws what is wrong with it. */
export function parseMeta(b: Buffer, page: 0 | 1): Meta {
  if (b.length < PAGE_HEADER + 0x80) throw new PageError(`meta page ${page} is cut short`, page)
  const flags = b.readUInt16LE(18)
  if ((flags & P_META) === 0) throw new PageError(`page ${page} is not a meta page (flags 0x${flags.toString(16)})`, page)
  const m = PAGE_HEADER
  if (b.readUInt32LE(m) !== MDB_MAGIC) throw new PageError(`meta page ${page} lacks LMDB's magic number`, page)
  const version = b.readUInt32LE(m + 4)
  if (version !== MDB_DATA_VERSION) throw new PageError(`meta page ${page} has LMDB data version ${version}, not ${MDB_DATA_VERSION}`, page)
  const pageSize = b.readUInt32LE(m + 24)
  if (pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0) throw new PageError(`meta page ${page} names page size ${pageSize}`, page)
  return {
    page, pageSize,
    free: readDbRecord(b, m + 24),
    main: readDbRecord(b, m + 24 + DB_RECORD),
    lastPage: u64(b, m + 24 + 2 * DB_RECORD),
    txnid: u64(b, m + 24 + 2 * DB_RECORD + 8),
  }
}

/** A data file open for reading pages by number. */
export class PageFile {
  readonly path: string
  readonly size: number
  readonly pageSize: number
  readonly metas: [Meta, Meta]
  readonly #fd: number

  /** Opens `path` read-only and checks both meta pages and the file's length against them. */
  constructor(path: string) {
    this.path = path
    this.#fd = openSync(path, 'r')
    try {
      this.size = fstatSync(this.#fd).size
      if (this.size === 0) throw new PageError('the data file is empty')
      const head = this.#read(0, Math.min(this.size, 4096))
      const first = parseMeta(head, 0)
      this.pageSize = first.pageSize
      if (this.size < 2 * this.pageSize) throw new PageError(`the data file is ${this.size} bytes, shorter than its two meta pages`)
      const second = parseMeta(this.#read(this.pageSize, this.pageSize), 1)
      if (second.pageSize !== first.pageSize) throw new PageError('the meta pages disagree on the page size', 1)
      this.metas = [first, second]
      // The file may end before a meta's last page: LMDB counts pages a
      // commit allocated and then freed unwritten (loose pages), and never
      // extends the file for them. A file cut short shows where it matters,
      // as a reachable page that cannot be read whole (page()).
      for (const m of this.metas) {
        if (m.lastPage === NO_PAGE || m.lastPage < 1) throw new PageError(`meta page ${m.page} names no last page`, m.page)
      }
    } catch (err) {
      closeSync(this.#fd)
      throw err
    }
  }

  /** The meta LMDB opens by default: the one with the newer transaction. */
  get current(): Meta {
    return this.metas[0].txnid >= this.metas[1].txnid ? this.metas[0] : this.metas[1]
  }

  close(): void {
    closeSync(this.#fd)
  }

  #read(at: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length)
    let got = 0
    while (got < length) {
      const n = readSync(this.#fd, b, got, length - got, at + got)
      if (n === 0) break
      got += n
    }
    return got === length ? b : b.subarray(0, got)
  }

  /**
   * Reads and checks branch or leaf page `pgno` of a snapshot whose last
   * page is `lastPage`: its header names it, its node offsets and nodes lie
   * inside it, and every page number it holds lies inside the snapshot.
   */
  page(pgno: number, lastPage: number): Page {
    if (!Number.isSafeInteger(pgno) || pgno < 2 || pgno > lastPage) throw new PageError(`page number ${pgno} lies outside the file (pages 2..${lastPage})`, pgno)
    const b = this.#read(pgno * this.pageSize, this.pageSize)
    if (b.length < this.pageSize) throw new PageError(`page ${pgno} is cut short`, pgno)
    return parsePage(b, pgno, lastPage)
  }

  /** The data of a leaf node stored on overflow pages, checked. */
  overflow(node: PageNode, lastPage: number): Buffer {
    this.overflowPages(node, lastPage)
    return this.#read(node.overflow * this.pageSize + PAGE_HEADER, node.dataSize)
  }

  /** How many pages a leaf node's overflow run takes, checked from its first page's header. */
  overflowPages(node: PageNode, lastPage: number): number {
    const first = node.overflow
    if (first < 2 || first > lastPage) throw new PageError(`overflow page ${first} lies outside the file`, first)
    const head = this.#read(first * this.pageSize, PAGE_HEADER)
    if (head.length < PAGE_HEADER || u64(head, 0) !== first || (head.readUInt16LE(18) & P_OVERFLOW) === 0) {
      throw new PageError(`page ${first} is not the overflow page its node names`, first)
    }
    const pages = head.readUInt32LE(20)
    if (pages < 1 || first + pages - 1 > lastPage || (first + pages) * this.pageSize > this.size || pages * this.pageSize < PAGE_HEADER + node.dataSize) {
      throw new PageError(`overflow run at page ${first} (${pages} pages) does not hold its ${node.dataSize} bytes inside the file`, first)
    }
    return pages
  }
}

/** Parses a branch or leaf page's bytes (see the header for the layout). */
export function parsePage(b: Buffer, pgno: number, lastPage: number): Page {
  const size = b.length
  if (u64(b, 0) !== pgno) throw new PageError(`page ${pgno} names itself ${u64(b, 0)} (overwritten or zeroed)`, pgno)
  const flags = b.readUInt16LE(18)
  const kind = flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META)
  if (kind !== P_BRANCH && kind !== P_LEAF) throw new PageError(`page ${pgno} is neither a branch nor a leaf (flags 0x${flags.toString(16)})`, pgno)
  const lower = b.readUInt16LE(20)
  const upper = b.readUInt16LE(22)
  const room = size - PAGE_HEADER
  if (lower % 2 !== 0 || lower > upper || upper > room) throw new PageError(`page ${pgno} has free-space bounds ${lower}..${upper} outside its ${room} bytes`, pgno)
  const nodes: PageNode[] = []
  if (flags & P_LEAF2) return { pgno, flags, nodes, overflowPages: 0 }
  const count = lower >> 1
  if (kind === P_BRANCH && count < 1) throw new PageError(`branch page ${pgno} has no children`, pgno)
  for (let i = 0; i < count; i++) {
    const off = PAGE_HEADER + b.readUInt16LE(PAGE_HEADER + 2 * i)
    if (off < PAGE_HEADER + upper || off + NODE_HEADER > size) throw new PageError(`page ${pgno} node ${i} lies outside the page`, pgno)
    const lo = b.readUInt16LE(off)
    const hi = b.readUInt16LE(off + 2)
    const nflags = b.readUInt16LE(off + 4)
    const ksize = b.readUInt16LE(off + 6)
    const keyEnd = off + NODE_HEADER + ksize
    if (keyEnd > size) throw new PageError(`page ${pgno} node ${i}'s key runs past the page`, pgno)
    const key = b.subarray(off + NODE_HEADER, keyEnd)
    if (kind === P_BRANCH) {
      const child = lo + hi * 0x10000 + nflags * 0x100000000
      if (child < 2 || child > lastPage) throw new PageError(`branch page ${pgno} points to page ${child}, outside the file`, pgno)
      nodes.push({ flags: 0, key, child, dataSize: 0, data: null, overflow: 0 })
      continue
    }
    const dataSize = lo + hi * 0x10000
    if (nflags & F_BIGDATA) {
      if (keyEnd + 8 > size) throw new PageError(`page ${pgno} node ${i}'s overflow page number runs past the page`, pgno)
      nodes.push({ flags: nflags, key, child: 0, dataSize, data: null, overflow: u64(b, keyEnd) })
      continue
    }
    if (keyEnd + dataSize > size) throw new PageError(`page ${pgno} node ${i}'s data runs past the page`, pgno)
    nodes.push({ flags: nflags, key, child: 0, dataSize, data: b.subarray(keyEnd, keyEnd + dataSize), overflow: 0 })
  }
  return { pgno, flags, nodes, overflowPages: 0 }
}

/** A named database's record from its F_SUBDATA node in the main tree. */
export function subDbRecord(node: PageNode): DbRecord {
  if (!node.data || node.data.length !== DB_RECORD) throw new PageError(`database record of ${node.key.toString('latin1')} is ${node.dataSize} bytes, not ${DB_RECORD}`)
  return readDbRecord(node.data, 0)
}
