/**
 * The dependency graph as a write sees it, for the checks of `depend` (no
 * new cycle) and `claim` (no open blocker): the listing index's edge keys on
 * disk (listing-keys.ts), overlaid with the projections not yet on disk
 * (writes in flight, and the batch's own). A check reads the edges its
 * search reaches, not the store: building the whole graph from every
 * projection made each of these commands cost the size of the board, and
 * the first one load every projection, comments included, into memory.
 *
 * An issue in the overlay is taken whole from it: its edge keys on disk are
 * ignored (they may be stale), the edges its projection declares are used.
 */
import type { GraphLookup, IssueProjection } from '../projection/index.ts'
import { edgeOf } from '../projection/index.ts'
import type { ListingKey, RepoDbs } from './dbs.ts'
import { placeOf } from './listing.ts'

export class GraphView implements GraphLookup {
  readonly #dbs: RepoDbs
  readonly #overlay: ReadonlyMap<string, IssueProjection>
  /** Edges the overlay declares: before -> afters, after -> befores. */
  readonly #next = new Map<string, string[]>()
  readonly #prev = new Map<string, string[]>()

  constructor(dbs: RepoDbs, overlay: ReadonlyMap<string, IssueProjection>) {
    this.#dbs = dbs
    this.#overlay = overlay
    for (const p of overlay.values()) {
      for (const d of p.dependencies) {
        const edge = edgeOf(p.id, d.target, d.depType)
        if (edge === null) continue
        push(this.#next, edge[0], edge[1])
        push(this.#prev, edge[1], edge[0])
      }
    }
  }

  next(id: string): string[] { return this.#edges('n', id, this.#next) }
  prev(id: string): string[] { return this.#edges('p', id, this.#prev) }

  state(id: string): 'open' | 'closed' | undefined {
    const p = this.#overlay.get(id)
    return p !== undefined ? p.state : placeOf(this.#dbs, id)?.state
  }

  /** Sorted, without duplicates, as graph.ts's adjacency is. */
  #edges(tag: 'n' | 'p', id: string, overlaid: Map<string, string[]>): string[] {
    const out = new Set<string>(overlaid.get(id))
    for (const key of this.#dbs.listing.getKeys({ start: [tag, id], end: [tag, id, '\uffff'] })) {
      const k = key as ListingKey
      if (!this.#overlay.has(k[3] as string)) out.add(k[2] as string)
    }
    return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }
}

function push(m: Map<string, string[]>, k: string, v: string): void {
  const list = m.get(k)
  if (list) list.push(v)
  else m.set(k, [v])
}
