/**
 * The ready issues of the writer's view, kept current as batches are
 * adopted instead of recomputed per call: claimNext picks from it in one
 * step, however large the board and however much of it is claimed.
 *
 * Ready is projection/graph.ts's rule (open, complete, no blocking
 * prerequisite; a prerequisite blocks while open or unknown), maintained
 * over an edge index: adopting an issue re-derives the edges its own
 * dependencies give, then re-checks the issues whose prerequisites changed
 * (and the dependents of an issue that opened, closed or became known).
 * Order is the ready order: earliest created first, then by id.
 *
 * Claims: `free` is the ready issues not known to be leased. A claim that
 * finds a candidate leased (or wins it) holds it out until the lease could
 * lapse (`takeoverAt`), then it comes back and is checked again, so the
 * next claim does not walk past every issue already claimed. Leases ended
 * early come back through {@link ReadySet.unhold}. A held issue is only a
 * hint: the lease gate decides every claim.
 *
 * Cost: adopting an issue is O(its edges + its dependents) plus O(log n)
 * search and an O(n) memmove in the sorted arrays; a claim is amortised
 * O(1) candidates.
 */
import { edgeOf, type IssueProjection } from '../projection/index.ts'

interface Info { open: boolean; createdAt: number; complete: boolean }

/** An issue as the listing index tells it: `createdAt` null while incomplete (no IssueCreated yet). */
export interface IndexedIssue { id: string; open: boolean; createdAt: number | null }
/** A dependency edge of the index: `before` must close before `after`; `declarer` is the issue that states it. */
export interface IndexedEdge { before: string; after: string; declarer: string }

const cmp = (a: [number, string], b: [number, string]): number => (a[0] - b[0]) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)

/** Ids sorted by (createdAt, id): binary search, splice. */
class SortedIds {
  readonly ids: string[] = []
  readonly #at: (id: string) => number
  constructor(at: (id: string) => number) { this.#at = at }
  #index(id: string): number {
    const key: [number, string] = [this.#at(id), id]
    let lo = 0
    let hi = this.ids.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const m = this.ids[mid] as string
      if (cmp([this.#at(m), m], key) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  /** Replaces the contents with `ids` (distinct), sorted once: n adds would move O(n²) entries. */
  fill(ids: string[]): void {
    const keyed = ids.map((id): [number, string] => [this.#at(id), id]).sort(cmp)
    this.ids.length = 0
    for (const [, id] of keyed) this.ids.push(id)
  }
  add(id: string): void {
    const i = this.#index(id)
    if (this.ids[i] !== id) this.ids.splice(i, 0, id)
  }
  delete(id: string): void {
    const i = this.#index(id)
    if (this.ids[i] === id) this.ids.splice(i, 1)
  }
}

/** A min-heap of [time, id]. */
class Heap {
  readonly #a: Array<[number, string]> = []
  get size(): number { return this.#a.length }
  peek(): [number, string] | undefined { return this.#a[0] }
  push(x: [number, string]): void {
    const a = this.#a
    a.push(x)
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1
      if ((a[p] as [number, string])[0] <= x[0]) break
      a[i] = a[p] as [number, string]
      a[p] = x
      i = p
    }
  }
  pop(): [number, string] | undefined {
    const a = this.#a
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last) {
      a[0] = last
      for (let i = 0; ;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && (a[l] as [number, string])[0] < (a[m] as [number, string])[0]) m = l
        if (r < a.length && (a[r] as [number, string])[0] < (a[m] as [number, string])[0]) m = r
        if (m === i) break
        const t = a[m] as [number, string]
        a[m] = a[i] as [number, string]
        a[i] = t
        i = m
      }
    }
    return top
  }
}

export class ReadySet {
  readonly #info = new Map<string, Info>()
  /** Edges each issue's own dependencies give, as [before, after]. */
  readonly #edgesOf = new Map<string, Array<[string, string]>>()
  /** after -> before -> how many issues state that edge (both ends may). */
  readonly #prev = new Map<string, Map<string, number>>()
  readonly #next = new Map<string, Map<string, number>>()
  readonly #ready = new Set<string>()
  readonly #free = new SortedIds((id) => this.#info.get(id)?.createdAt ?? Number.POSITIVE_INFINITY)
  readonly #held = new Map<string, number>()
  readonly #lapses = new Heap()
  /** While a new set is filled: #refresh leaves #free to one sort at the end. */
  #building = false
  /** Where this set is in the lease gate's list of issues freed early (see LeaseGate.freed). */
  freedCursor = -1

  /** Builds the set over every projection of a view. */
  constructor(all: Iterable<IssueProjection>) {
    const ps = [...all]
    for (const p of ps) this.#info.set(p.id, infoOf(p))
    for (const p of ps) this.#setEdges(p.id, edgesOf(p))
    this.#fill(ps.map((p) => p.id))
  }

  /**
   * Builds the set from what the listing index holds (listing-keys.ts):
   * each issue's state and creation, and every edge with the issue that
   * states it. No projection is read, so a board of any size costs its
   * keys, not its issues' histories and comments.
   */
  static fromIndex(issues: Iterable<IndexedIssue>, edges: Iterable<IndexedEdge>): ReadySet {
    const set = new ReadySet([])
    for (const i of issues) set.#info.set(i.id, { open: i.open, createdAt: i.createdAt ?? Number.POSITIVE_INFINITY, complete: i.createdAt !== null })
    const stated = new Map<string, Array<[string, string]>>()
    for (const e of edges) {
      const list = stated.get(e.declarer)
      if (list) list.push([e.before, e.after])
      else stated.set(e.declarer, [[e.before, e.after]])
    }
    for (const [declarer, list] of stated) set.#setEdges(declarer, sortEdges(list))
    set.#fill(set.#info.keys())
    return set
  }

  /** Decides readiness of `ids` on a new set (nothing held yet), then orders the free ones in one sort. */
  #fill(ids: Iterable<string>): void {
    this.#building = true
    for (const id of ids) this.#refresh(id)
    this.#building = false
    this.#free.fill([...this.#ready])
  }

  get size(): number { return this.#ready.size }

  has(id: string): boolean { return this.#ready.has(id) }

  /** An issue was adopted in its new state. */
  update(p: IssueProjection): void {
    const before = this.#info.get(p.id)
    const info = infoOf(p)
    // Its place in ready order moved (an earlier creation merged from a replica): take it out under the old key.
    if (before !== undefined && before.createdAt !== info.createdAt && this.#ready.has(p.id)) {
      this.#free.delete(p.id)
      this.#ready.delete(p.id)
    }
    this.#info.set(p.id, info)
    const affected = this.#setEdges(p.id, edgesOf(p))
    affected.add(p.id)
    if (before === undefined || blocking(before) !== blocking(info)) for (const a of this.#next.get(p.id)?.keys() ?? []) affected.add(a)
    for (const id of affected) this.#refresh(id)
  }

  /**
   * Ready issues not known to be leased, in ready order. Issues whose hold
   * ran out (`now` past its lapse) come back first. Lazy: a claim usually
   * takes the first. The caller may {@link hold} the id it was just given.
   */
  *free(now: number): Generator<string> {
    this.#lapse(now)
    const ids = this.#free.ids
    for (let i = 0; i < ids.length;) {
      const id = ids[i] as string
      yield id
      // Held meanwhile: the next candidate moved up into this slot.
      if (ids[i] === id) i++
    }
  }

  /** Every ready issue in ready order (claimed ones too). */
  all(): string[] {
    if (this.#held.size === 0) return [...this.#free.ids]
    const at = (id: string): [number, string] => [this.#info.get(id)?.createdAt ?? Number.POSITIVE_INFINITY, id]
    return [...this.#ready].sort((a, b) => cmp(at(a), at(b)))
  }

  /** Keeps `id` out of the free candidates until `until` (its lease could lapse then). */
  hold(id: string, until: number): void {
    this.#held.set(id, until)
    this.#lapses.push([until, id])
    this.#free.delete(id)
  }

  /** Its lease ended early: a candidate again if ready. */
  unhold(id: string): void {
    if (!this.#held.delete(id)) return
    if (this.#ready.has(id)) this.#free.add(id)
  }

  /** Every held issue is a candidate again (what freed early is no longer known). */
  unholdAll(): void {
    for (const id of [...this.#held.keys()]) this.unhold(id)
  }

  #lapse(now: number): void {
    for (let top = this.#lapses.peek(); top !== undefined && top[0] <= now; top = this.#lapses.peek()) {
      this.#lapses.pop()
      const [at, id] = top
      if (this.#held.get(id) === at) this.unhold(id)
    }
  }

  #refresh(id: string): void {
    const info = this.#info.get(id)
    let ready = info !== undefined && info.open && info.complete
    if (ready) for (const b of this.#prev.get(id)?.keys() ?? []) if (this.#blocks(b)) { ready = false; break }
    if (ready === this.#ready.has(id)) return
    if (ready) {
      this.#ready.add(id)
      if (!this.#held.has(id) && !this.#building) this.#free.add(id)
    } else {
      this.#ready.delete(id)
      this.#free.delete(id)
    }
  }

  #blocks(id: string): boolean {
    const info = this.#info.get(id)
    return info === undefined || blocking(info)
  }

  /** Replaces the edges `id` states; returns the issues whose prerequisites changed. */
  #setEdges(id: string, edges: Array<[string, string]>): Set<string> {
    const old = this.#edgesOf.get(id) ?? []
    const affected = new Set<string>()
    if (old.length === edges.length && old.every((e, i) => e[0] === edges[i]?.[0] && e[1] === edges[i]?.[1])) return affected
    for (const [b, a] of old) {
      count(this.#prev, a, b, -1)
      count(this.#next, b, a, -1)
      affected.add(a)
    }
    for (const [b, a] of edges) {
      count(this.#prev, a, b, 1)
      count(this.#next, b, a, 1)
      affected.add(a)
    }
    if (edges.length > 0) this.#edgesOf.set(id, edges)
    else this.#edgesOf.delete(id)
    return affected
  }
}

function infoOf(p: IssueProjection): Info {
  return { open: p.state === 'open', createdAt: p.createdAt ?? Number.POSITIVE_INFINITY, complete: !p.incomplete }
}

/** A prerequisite blocks while it is open (an unknown one blocks too: see #blocks). */
function blocking(info: Info): boolean {
  return info.open
}

function edgesOf(p: IssueProjection): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const d of p.dependencies) {
    const e = edgeOf(p.id, d.target, d.depType)
    if (e !== null) out.push(e)
  }
  return sortEdges(out)
}

/** One order for an issue's edges, whichever way they were read: #setEdges compares them in order. */
function sortEdges(edges: Array<[string, string]>): Array<[string, string]> {
  return edges.sort((x, y) => (x[0] + x[1] < y[0] + y[1] ? -1 : 1))
}

function count(m: Map<string, Map<string, number>>, k: string, v: string, by: number): void {
  let inner = m.get(k)
  if (!inner) m.set(k, inner = new Map())
  const n = (inner.get(v) ?? 0) + by
  if (n > 0) inner.set(v, n)
  else inner.delete(v)
  if (inner.size === 0) m.delete(k)
}
