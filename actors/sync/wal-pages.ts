/**
 * The pages of WAL commits one ingest reads, across refs, with quarantine:
 * a commit that cannot be read (malformed, INVALID_FORMAT; a chunk past
 * MAX_CHUNK_BYTES, CHUNK_TOO_LARGE) sets aside its own ref from that commit
 * on, and nothing else. The commits before it and every other ref's commits
 * are read as usual.
 *
 * Items are the plan's links in order (ref by ref); `pos` is an item's index
 * in that order. A ref quarantined at `pos` skips its items from `pos` on,
 * whoever finds the bad commit first (the page being read ahead, or the
 * decoding of the page in hand).
 */
import { CairnError } from '../../protocol/errors.ts'
import type { WalLink, WalReader } from '../../lib/kernel/ports/git-sync.ts'
import type { WalEntry } from '../../lib/kernel/ports/git-wal.ts'

export interface PageItem { i: number; link: WalLink }
export interface ReadItem { i: number; pos: number; entry: WalEntry }

/** Errors that are about a commit's content, not about git or the runtime. */
const CONTENT_ERRORS = new Set(['INVALID_FORMAT', 'CHUNK_TOO_LARGE', 'NOT_FOUND'])

/** The commit a read failed on, when the failure is about that commit's content. */
export function unreadableCommit(err: unknown): string | null {
  if (!(err instanceof CairnError) || !CONTENT_ERRORS.has(err.code)) return null
  const commit = err.details?.commit
  return typeof commit === 'string' ? commit : null
}

export class WalPages {
  readonly #reader: WalReader
  readonly #items: PageItem[]
  readonly #size: number
  readonly #onQuarantine: (i: number, commit: string, err: unknown) => void
  /** Plan index → the first item position set aside. */
  readonly #from = new Map<number, number>()

  constructor(reader: WalReader, items: PageItem[], size: number, onQuarantine: (i: number, commit: string, err: unknown) => void) {
    this.#reader = reader
    this.#items = items
    this.#size = size
    this.#onQuarantine = onQuarantine
  }

  /** Whether item `pos` of ref `i` is set aside. */
  skips(i: number, pos: number): boolean {
    const from = this.#from.get(i)
    return from !== undefined && pos >= from
  }

  /** Sets ref `i` aside from item `pos` (its commit `commit`) on; the first report for a ref wins. */
  quarantine(i: number, pos: number, commit: string, err: unknown): void {
    const from = this.#from.get(i)
    if (from !== undefined && from <= pos) return
    this.#from.set(i, pos)
    if (from === undefined) this.#onQuarantine(i, commit, err)
  }

  /**
   * The readable entries of the page starting at item `from`, in order.
   * The reader names the first commit of a request it cannot read; the
   * commits before it are read again alone, its ref is set aside, and the
   * rest of the page is asked for again (at most once per ref in the page).
   */
  async read(from: number): Promise<ReadItem[]> {
    const out: ReadItem[] = []
    await this.#readAll(this.#todo(from, from + this.#size), out)
    return out
  }

  async #readAll(positions: number[], out: ReadItem[]): Promise<void> {
    let todo = positions
    while (todo.length > 0) {
      try {
        const entries = await this.#reader.read(todo.map((p) => this.#items[p]!.link))
        todo.forEach((p, k) => out.push({ i: this.#items[p]!.i, pos: p, entry: entries[k]! }))
        return
      } catch (err) {
        const commit = unreadableCommit(err)
        const at = commit === null ? -1 : todo.findIndex((p) => this.#items[p]!.link.commit === commit)
        if (at < 0) throw err
        // The commits before it, alone (a reader may name a later problem before an earlier one).
        await this.#readAll(todo.slice(0, at), out)
        const bad = todo[at]!
        this.quarantine(this.#items[bad]!.i, bad, commit!, err)
        todo = todo.slice(at + 1).filter((p) => !this.skips(this.#items[p]!.i, p))
      }
    }
  }

  #todo(from: number, to: number): number[] {
    const out: number[] = []
    for (let p = from; p < Math.min(to, this.#items.length); p++) if (!this.skips(this.#items[p]!.i, p)) out.push(p)
    return out
  }
}
