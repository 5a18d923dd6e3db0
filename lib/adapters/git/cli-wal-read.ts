/**
 * Reading WAL histories in bulk through the git binary: what Sync's ingest
 * needs after a fetch of a team's history (thousands of small commits).
 * libgit2 through nodegit costs a thread-pool round trip per object
 * (commit, trees, blobs: about eight per WAL commit); here a whole history
 * costs two processes, each streaming in C:
 *
 *   list   `git log --stdin --first-parent --format='%H %P %T'` over every
 *          ref's range at once (tips and `^stopAt`s);
 *   read   one `git cat-file --batch` for the whole run: per page of
 *          commits, their trees level by level (one request per level for
 *          the whole page), then their meta.json and chunk blobs.
 *
 * Every commit is checked exactly as the nodegit reader checks it
 * (wal-format.ts: walChunkOf, walEntryOf), since WAL refs arrive from other
 * machines: nothing of a malformed commit is returned, and a tree with
 * more files or levels than a WAL commit could have is refused before its
 * blobs are read.
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { WalEntry } from '../../kernel/ports/git-wal.ts'
import type { WalLink, WalReader } from '../../kernel/ports/git-sync.ts'
import { runGit } from './git-cli.ts'
import type { GitPlace } from './cli-remote.ts'
import { CatFile, type CatObject } from './cat-file.ts'
import { isOid, malformed, META_FILE, walChunkOf, walEntryOf } from './wal-format.ts'
import { MAX_CHUNK_BYTES } from '../../../protocol/limits.ts'

const LOCAL_TIMEOUT_MS = 10 * 60_000
/** A WAL tree holds two files; past this many a tree is junk. */
const MAX_FILES = 256
/** Trees nest four deep in the layout (events/YYYY/MM/DD); deeper is junk. */
const MAX_DEPTH = 8
/** Regular and executable files: the only entries that count as files of the layout. */
const FILE_MODES = new Set(['100644', '100755'])
const TREE_MODE = '40000'
/** Object bytes one request may read at most (chunks are KiBs; a page of junk must not fill memory). */
const MAX_REQUEST_BYTES = 512 * 1024 * 1024
/** meta.json is a few hundred bytes; anything near this is not one. */
const MAX_META_BYTES = 64 * 1024

type Listed = Map<string, { parent: string | null; tree: string }>

/** The chain from `tip` back to (excluding) `stopAt`, oldest first, out of `listed`; null when it leaves them first. */
function chainIn(listed: Listed, tip: string, stopAt: string | null, limit: number): WalLink[] | null {
  const chain: WalLink[] = []
  for (let id: string | null = tip; id !== stopAt; ) {
    if (id === null) return stopAt === null ? chain.reverse() : null
    const link = listed.get(id)
    if (!link) return null
    if (chain.length >= limit) throw new CairnError('INVALID_ARGUMENT', `a WAL chain is longer than ${limit} commits; refusing to read it in one run`, { tip })
    chain.push({ commit: id, parent: link.parent, tree: link.tree })
    id = link.parent
  }
  return chain.reverse()
}

/** Parses a tree object: `<mode> <name>\0<20-byte id>` per entry (names as latin1: every byte kept). */
function treeEntries(bytes: Buffer): { mode: string; name: string; id: string }[] | null {
  const out: { mode: string; name: string; id: string }[] = []
  let i = 0
  while (i < bytes.length) {
    const space = bytes.indexOf(32, i)
    const nul = space < 0 ? -1 : bytes.indexOf(0, space + 1)
    if (nul < 0 || nul + 21 > bytes.length) return null
    out.push({ mode: bytes.toString('latin1', i, space), name: bytes.toString('latin1', space + 1, nul), id: bytes.toString('hex', nul + 1, nul + 21) })
    i = nul + 21
  }
  return out
}

export class CliWalReader implements WalReader {
  readonly #place: GitPlace
  readonly #cat: CatFile

  constructor(place: GitPlace) {
    this.#place = place
    this.#cat = new CatFile(place)
  }

  async #log(revs: string[]): Promise<Listed> {
    const r = await runGit(['log', '--stdin', '--first-parent', '--format=%H %T %P'], {
      ...this.#place, timeoutMs: LOCAL_TIMEOUT_MS, input: `${revs.join('\n')}\n`, maxStdout: 1 << 30,
    })
    if (r.code !== 0) {
      throw new CairnError('INTERNAL', `git log (WAL chains): ${r.killed ?? `exit ${r.code}`}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`)
    }
    const out: Listed = new Map()
    for (const line of r.stdout.split('\n')) {
      if (line === '') continue
      const [commit, tree, parent] = line.split(' ')
      if (!isOid(commit) || !isOid(tree)) throw new CairnError('INTERNAL', `git log printed an unexpected line: ${line.slice(0, 120)}`)
      out.set(commit, { tree, parent: parent && isOid(parent) ? parent : null })
    }
    return out
  }

  async chains(ranges: { tip: string; stopAt: string | null }[], limit: number): Promise<WalLink[][]> {
    if (!Array.isArray(ranges)) throw invalidArgument('ranges', 'must be an array of { tip, stopAt }')
    for (const r of ranges) {
      if (!isOid(r?.tip)) throw invalidArgument('tip', 'must be a 40-char lowercase hex commit id')
      if (r.stopAt !== null && !isOid(r.stopAt)) throw invalidArgument('stopAt', 'must be null or a 40-char lowercase hex commit id')
    }
    if (!Number.isSafeInteger(limit) || limit < 1) throw invalidArgument('limit', 'must be a positive integer')
    const todo = ranges.filter((r) => r.tip !== r.stopAt)
    const listed = todo.length === 0 ? new Map() as Listed
      : await this.#log([...new Set([...todo.map((r) => r.tip), ...todo.flatMap((r) => (r.stopAt === null ? [] : [`^${r.stopAt}`]))])])
    const out: WalLink[][] = []
    for (const r of ranges) {
      let chain = r.tip === r.stopAt ? [] : chainIn(listed, r.tip, r.stopAt, limit)
      // Cut short by another range's exclusion, or stopAt is not on this chain: this range alone, to the root if need be.
      if (chain === null) chain = chainIn(await this.#log([r.tip, ...(r.stopAt === null ? [] : [`^${r.stopAt}`])]), r.tip, r.stopAt, limit)
      if (chain === null) chain = chainIn(await this.#log([r.tip]), r.tip, null, limit) ?? []
      out.push(chain)
    }
    return out
  }

  /** Every file of each link's tree, read level by level (one cat-file request per level for all links); or what is wrong with it. */
  async #files(links: WalLink[]): Promise<(Map<string, { mode: string; blob: string }> | string)[]> {
    const out: (Map<string, { mode: string; blob: string }> | string)[] = links.map(() => new Map())
    let level = links.map((l, k) => ({ k, prefix: '', id: l.tree }))
    for (let depth = 0; level.length > 0; depth++) {
      const objects = await this.#cat.read(level.map((l) => l.id), MAX_REQUEST_BYTES)
      const next: typeof level = []
      level.forEach((l, j) => {
        const files = out[l.k]
        if (typeof files !== 'object') return
        const o = objects[j]
        const entries = o?.type === 'tree' ? treeEntries(o.bytes) : null
        if (entries === null) {
          out[l.k] = o ? `tree ${l.id} is not a well-formed tree` : `tree ${l.id} is missing`
          return
        }
        for (const e of entries) {
          const path = l.prefix + e.name
          if (e.mode === TREE_MODE) {
            if (depth + 1 >= MAX_DEPTH) { out[l.k] = `its tree nests deeper than ${MAX_DEPTH} levels`; return }
            next.push({ k: l.k, prefix: `${path}/`, id: e.id })
          } else {
            files.set(path, { mode: e.mode, blob: e.id })
            if (files.size > MAX_FILES) { out[l.k] = `its tree holds more than ${MAX_FILES} files`; return }
          }
        }
      })
      level = next.filter((l) => typeof out[l.k] !== 'string')
    }
    return out
  }

  async read(links: WalLink[]): Promise<WalEntry[]> {
    if (!Array.isArray(links) || links.some((l) => !l || !isOid(l.commit) || !isOid(l.tree) || (l.parent !== null && !isOid(l.parent)))) {
      throw invalidArgument('links', 'must be an array of { commit, parent, tree } commit ids')
    }
    const listings = await this.#files(links)
    const wanted = links.map((link, k) => {
      const files = listings[k] as Map<string, { mode: string; blob: string }> | string | undefined
      if (typeof files !== 'object') throw malformed(link.commit, files ?? 'was not listed')
      const regular: string[] = []
      for (const [path, f] of files) if (FILE_MODES.has(f.mode)) regular.push(path)
      const r = walChunkOf(regular)
      if ('problem' in r) throw malformed(link.commit, r.problem)
      return { link, chunkPath: r.chunkPath, meta: (files.get(META_FILE) as { blob: string }).blob, chunk: (files.get(r.chunkPath) as { blob: string }).blob }
    })
    const ids = [...new Set(wanted.flatMap((w) => [w.meta, w.chunk]))]
    // Sizes from the object headers first: a remote cannot make us read a chunk of gigabytes.
    const sizes = await this.#sizes(ids)
    for (const { link, meta, chunk, chunkPath } of wanted) {
      for (const [what, blob, limit] of [[chunkPath, chunk, MAX_CHUNK_BYTES], [META_FILE, meta, MAX_META_BYTES]] as const) {
        const size = sizes.get(blob)
        if (size !== undefined && size > limit) {
          throw new CairnError('CHUNK_TOO_LARGE', `WAL commit ${link.commit}: ${what} is ${size} bytes, more than the ${limit} Cairn reads`, { commit: link.commit, bytes: size, limit })
        }
      }
    }
    // Requests of at most MAX_REQUEST_BYTES each: a page of large chunks is read in several.
    const blobs = new Map<string, CatObject>()
    for (let at = 0; at < ids.length;) {
      const group: string[] = []
      for (let bytes = 0; at < ids.length && (group.length === 0 || bytes + (sizes.get(ids[at]!) ?? 0) <= MAX_REQUEST_BYTES); at++) {
        bytes += sizes.get(ids[at]!) ?? 0
        group.push(ids[at]!)
      }
      const objects = await this.#cat.read(group, MAX_REQUEST_BYTES)
      group.forEach((id, k) => blobs.set(id, objects[k] ?? null))
    }
    return wanted.map(({ link, chunkPath, meta, chunk }) => {
      const m = blobs.get(meta)
      const c = blobs.get(chunk)
      if (!m || m.type !== 'blob' || !c || c.type !== 'blob') throw malformed(link.commit, `the blob of ${m?.type === 'blob' ? chunkPath : META_FILE} is missing`)
      return walEntryOf(link.commit, link.parent, chunkPath, new Uint8Array(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength),
        new Uint8Array(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength))
    })
  }

  /** Object sizes by id, from one `git cat-file --batch-check` (headers only); missing objects are absent. */
  async #sizes(ids: string[]): Promise<Map<string, number>> {
    const r = await runGit(['cat-file', '--batch-check=%(objectname) %(objectsize)'], {
      ...this.#place, timeoutMs: LOCAL_TIMEOUT_MS, input: `${ids.join('\n')}\n`, maxStdout: 1 << 26,
    })
    if (r.code !== 0) throw new CairnError('INTERNAL', `git cat-file --batch-check: ${r.killed ?? `exit ${r.code}`}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`)
    const sizes = new Map<string, number>()
    for (const line of r.stdout.split('\n')) {
      const [id, size] = line.split(' ')
      if (isOid(id) && size !== undefined && /^\d+$/.test(size)) sizes.set(id, Number(size))
    }
    return sizes
  }

  close(): Promise<void> {
    return this.#cat.close()
  }
}
