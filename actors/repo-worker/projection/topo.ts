/**
 * The dependency order of the open issues (graph.ts says what an edge
 * means and how issues compare): Kahn's algorithm over strongly connected
 * components, earliest created first at each step.
 *
 * Over integers: each open issue is its rank in the listing order, edges are
 * one compressed adjacency array, and the components, in-degrees and heap are
 * typed arrays. A board of 100k open issues is ordered without a Map or Set
 * per issue (the garbage of those was most of the cost).
 */
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { compareIssues, edgeOf } from './graph.ts'
import type { IssueProjection } from './issue.ts'

export interface TopoResult {
  /** Open, complete issues; every prerequisite before its dependents, except inside a cycle. */
  order: IssueProjection[]
  /** Each cycle among open issues (incomplete ones included), members in `order` order. */
  cycles: string[][]
}

/** The edges among `nodes` (ranks), deduplicated, as a compressed adjacency; `self[i]` marks an edge i -> i. */
function adjacency(nodes: IssueProjection[]): { start: Int32Array; succ: Int32Array; self: Uint8Array } {
  const n = nodes.length
  const rank = new Map<string, number>()
  nodes.forEach((p, i) => {
    if (rank.has(p.id)) throw invalidArgument('projections', `hold issue ${p.id} twice`)
    rank.set(p.id, i)
  })
  const from: number[] = []
  const to: number[] = []
  const seen = new Set<number>()
  const self = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const p = nodes[i] as IssueProjection
    for (const d of p.dependencies) {
      const edge = edgeOf(p.id, d.target, d.depType)
      if (edge === null) continue
      const a = rank.get(edge[0])
      const b = rank.get(edge[1])
      if (a === undefined || b === undefined) continue
      const key = a * n + b
      if (seen.has(key)) continue
      seen.add(key)
      if (a === b) self[a] = 1
      from.push(a)
      to.push(b)
    }
  }
  return { ...compressed(n, from, to), self }
}

/** Edges `from[e] -> to[e]` over nodes 0..n-1 as a compressed adjacency: the successors of i are succ[start[i]..start[i+1]). */
function compressed(n: number, from: number[], to: number[]): { start: Int32Array; succ: Int32Array } {
  const start = new Int32Array(n + 1)
  for (const a of from) start[a + 1]! += 1
  for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number)
  const fill = start.slice(0, n)
  const succ = new Int32Array(from.length)
  for (let e = 0; e < from.length; e++) succ[fill[from[e]!]!++] = to[e]!
  return { start, succ }
}

/** Tarjan's components, iterative; `comp[i]` is the smallest rank in i's component. */
function components(n: number, start: Int32Array, succ: Int32Array): Int32Array {
  const index = new Int32Array(n).fill(-1)
  const low = new Int32Array(n)
  const onStack = new Uint8Array(n)
  const stack = new Int32Array(n)
  const workNode = new Int32Array(n)
  const workEdge = new Int32Array(n)
  const comp = new Int32Array(n)
  let sp = 0
  let counter = 0
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue
    let wp = 0
    workNode[wp] = root
    workEdge[wp++] = start[root] as number
    index[root] = low[root] = counter++
    stack[sp++] = root
    onStack[root] = 1
    while (wp > 0) {
      const u = workNode[wp - 1] as number
      const e = workEdge[wp - 1] as number
      if (e < (start[u + 1] as number)) {
        workEdge[wp - 1] = e + 1
        const v = succ[e] as number
        if (index[v] === -1) {
          index[v] = low[v] = counter++
          stack[sp++] = v
          onStack[v] = 1
          workNode[wp] = v
          workEdge[wp++] = start[v] as number
        } else if (onStack[v] === 1 && (index[v] as number) < (low[u] as number)) {
          low[u] = index[v] as number
        }
        continue
      }
      wp--
      if (wp > 0) {
        const parent = workNode[wp - 1] as number
        if ((low[u] as number) < (low[parent] as number)) low[parent] = low[u] as number
      }
      if (low[u] === index[u]) {
        // Pop the component; its key is its smallest rank.
        let top = sp
        let min = u
        do {
          const v = stack[--top] as number
          if (v < min) min = v
        } while (stack[top] !== u)
        for (let k = top; k < sp; k++) {
          const v = stack[k] as number
          onStack[v] = 0
          comp[v] = min
        }
        sp = top
      }
    }
  }
  return comp
}

/** A binary min-heap of ranks: the ready set of Kahn's algorithm. */
class RankHeap {
  readonly #a: Int32Array
  #size = 0
  constructor(capacity: number) { this.#a = new Int32Array(Math.max(1, capacity)) }
  get size(): number { return this.#size }
  push(x: number): void {
    const a = this.#a
    let i = this.#size++
    while (i > 0) {
      const p = (i - 1) >> 1
      if ((a[p] as number) <= x) break
      a[i] = a[p] as number
      i = p
    }
    a[i] = x
  }
  pop(): number {
    const a = this.#a
    const top = a[0] as number
    const last = a[--this.#size] as number
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.#size) break
      const r = l + 1
      const c = r < this.#size && (a[r] as number) < (a[l] as number) ? r : l
      if ((a[c] as number) >= last) break
      a[i] = a[c] as number
      i = c
    }
    if (this.#size > 0) a[i] = last
    return top
  }
}

/**
 * A deterministic topological order of the open issues (Kahn's algorithm
 * over strongly connected components, earliest created first at each step).
 * A cycle does not throw: its members stay together as one block, placed
 * where its earliest member would go, and it is listed in `cycles`.
 * Incomplete issues constrain the order but are not listed in it.
 * @example const { order, cycles } = topo(all)
 */
export function topo(projections: Iterable<IssueProjection>): TopoResult {
  const nodes = [...projections].filter((p) => p.state === 'open').sort(compareIssues)
  const n = nodes.length
  const { start, succ, self } = adjacency(nodes)
  const comp = components(n, start, succ)

  // Members of each component in rank order (a counting sort by key), and the edges between components, once each.
  const size = new Int32Array(n)
  for (let i = 0; i < n; i++) size[comp[i]!]! += 1
  const first = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) first[i + 1] = (first[i] as number) + (size[i] as number)
  const at = first.slice(0, n)
  const members = new Int32Array(n)
  for (let i = 0; i < n; i++) members[at[comp[i]!]!++] = i
  const indegree = new Int32Array(n)
  const cFrom: number[] = []
  const cTo: number[] = []
  const seen = new Set<number>()
  for (let u = 0; u < n; u++) {
    const a = comp[u] as number
    for (let e = start[u] as number; e < (start[u + 1] as number); e++) {
      const b = comp[succ[e] as number] as number
      if (a === b) continue
      const key = a * n + b
      if (seen.has(key)) continue
      seen.add(key)
      cFrom.push(a)
      cTo.push(b)
      indegree[b]! += 1
    }
  }
  const { start: cStart, succ: cSucc } = compressed(n, cFrom, cTo)

  const heap = new RankHeap(n)
  for (let k = 0; k < n; k++) if (comp[k] === k && indegree[k] === 0) heap.push(k)
  const order: IssueProjection[] = []
  const cycles: string[][] = []
  while (heap.size > 0) {
    const key = heap.pop()
    const lo = first[key] as number
    const hi = first[key + 1] as number
    if (hi - lo > 1 || self[key] === 1) cycles.push(Array.from(members.subarray(lo, hi), (i) => (nodes[i] as IssueProjection).id))
    for (let m = lo; m < hi; m++) {
      const p = nodes[members[m] as number] as IssueProjection
      if (!p.incomplete) order.push(p)
    }
    for (let e = cStart[key] as number; e < (cStart[key + 1] as number); e++) {
      const s = cSucc[e] as number
      indegree[s]! -= 1
      if (indegree[s] === 0) heap.push(s)
    }
  }
  return { order, cycles }
}

/**
 * {@link topo} for callers that treat a cycle as an error: throws CYCLE with
 * the cycles in `details.cycles`.
 * @example for (const issue of topoStrict(all)) plan(issue)
 */
export function topoStrict(projections: Iterable<IssueProjection>): IssueProjection[] {
  const { order, cycles } = topo(projections)
  if (cycles.length > 0) throw new CairnError('CYCLE', `${cycles.length} dependency cycle(s) among open issues`, { cycles })
  return order
}
