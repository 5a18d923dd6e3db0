/**
 * The dependency graph over issue projections.
 *
 * Direction: an edge `P -> X` means "P must close before X". Issue X holding
 * `{ target: T, depType: 'depends_on' }` gives `T -> X`; X holding
 * `{ target: T, depType: 'blocks' }` gives `X -> T`. So `A depends_on B` and
 * `B blocks A` are the same edge. `related_to` gives no edge and never cycles.
 *
 * The graph is structural: {@link wouldCreateCycle} looks at every issue's
 * dependencies whatever its state, because a closed issue can be reopened and
 * a cycle through it would then bite. Readiness and ordering look only at
 * open issues, because a closed prerequisite is satisfied.
 *
 * Merged cycles: the write path refuses cycles, but two replicas can each add
 * one half of a cycle offline; after sync the data holds it and no replica
 * can refuse it any more. Nothing here throws on that. Issues on such a cycle
 * block each other and are never {@link ready} until someone removes an edge
 * or closes a member; {@link topo} places each cycle as one block and reports
 * it in `cycles` so a surface can show it; {@link topoStrict} is there for
 * callers that would rather fail with CYCLE.
 *
 * Ordering: wherever several issues are free to go first, the one created
 * earlier goes first, then the smaller id (code-unit order). Incomplete issues
 * (no IssueCreated yet, createdAt null) sort after all complete ones.
 */
import type { DepType } from '../../../protocol/events/types.ts'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import type { IssueProjection } from './issue.ts'

/**
 * The edge a dependency adds, as `[before, after]`, or null for `related_to`.
 * @example edgeOf('a', 'b', 'depends_on') // ['b', 'a']: b closes first
 */
export function edgeOf(from: string, to: string, depType: DepType): [string, string] | null {
  if (depType === 'depends_on') return [to, from]
  if (depType === 'blocks') return [from, to]
  return null
}

interface Graph {
  byId: Map<string, IssueProjection>
  /** before -> sorted afters */
  next: Map<string, string[]>
  /** after -> sorted befores */
  prev: Map<string, string[]>
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function buildGraph(projections: Iterable<IssueProjection>, keep?: (id: string) => boolean): Graph {
  const byId = new Map<string, IssueProjection>()
  for (const p of projections) {
    if (byId.has(p.id)) throw invalidArgument('projections', `hold issue ${p.id} twice`)
    byId.set(p.id, p)
  }
  const next = new Map<string, Set<string>>()
  const prev = new Map<string, Set<string>>()
  for (const p of byId.values()) {
    for (const d of p.dependencies) {
      const edge = edgeOf(p.id, d.target, d.depType)
      if (edge === null) continue
      const [before, after] = edge
      if (keep !== undefined && !(keep(before) && keep(after))) continue
      let n = next.get(before)
      if (n === undefined) next.set(before, (n = new Set()))
      n.add(after)
      let q = prev.get(after)
      if (q === undefined) prev.set(after, (q = new Set()))
      q.add(before)
    }
  }
  // Sorted adjacency makes every traversal, and so every reported path, deterministic.
  const sorted = (m: Map<string, Set<string>>) => new Map([...m].map(([k, v]) => [k, [...v].sort(compareStrings)]))
  return { byId, next: sorted(next), prev: sorted(prev) }
}

/**
 * The graph as a store's index answers it: sorted successors of an issue,
 * and its state (undefined for an issue the replica does not hold). The
 * write path asks these of an index instead of building the whole graph.
 */
export interface GraphLookup {
  next(id: string): readonly string[]
  prev(id: string): readonly string[]
  state(id: string): 'open' | 'closed' | undefined
}

/** Shortest path `from ... to` along edges (BFS, smallest id first), or null. */
function pathBetween(g: Pick<GraphLookup, 'next'>, from: string, to: string): string[] | null {
  const parent = new Map<string, string | null>([[from, null]])
  const queue = [from]
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i] as string
    if (u === to) {
      const path: string[] = []
      for (let v: string | null = u; v !== null; v = parent.get(v) ?? null) path.push(v)
      return path.reverse()
    }
    for (const v of g.next(u)) {
      if (!parent.has(v)) {
        parent.set(v, u)
        queue.push(v)
      }
    }
  }
  return null
}

/**
 * The cycle that adding the dependency would close, as issue ids in edge
 * order starting and ending with the same id, or null if it closes none.
 * @example findNewCycle(ps, 'a', 'b', 'blocks') // ['a', 'b', 'a'] when b blocks a
 */
export function findNewCycle(projections: Iterable<IssueProjection>, from: string, to: string, depType: DepType): string[] | null {
  return findNewCycleIn(lookupOf(buildGraph(projections)), from, to, depType)
}

/** {@link findNewCycle} over a lookup (an index), visiting only what the search reaches. */
export function findNewCycleIn(g: Pick<GraphLookup, 'next'>, from: string, to: string, depType: DepType): string[] | null {
  const edge = edgeOf(from, to, depType)
  if (edge === null) return null
  const [before, after] = edge
  if (before === after) return [before, before]
  const back = pathBetween(g, after, before)
  return back === null ? null : [before, ...back]
}

function lookupOf(g: Graph): GraphLookup {
  return {
    next: (id) => g.next.get(id) ?? [],
    prev: (id) => g.prev.get(id) ?? [],
    state: (id) => g.byId.get(id)?.state,
  }
}

/**
 * True when adding `from -[depType]-> to` would close a cycle among the given
 * projections (of any state). `related_to` never does; a self-dependency of
 * the other two types always does.
 * @example if (wouldCreateCycle(all, a, b, 'depends_on')) throw new CairnError('CYCLE')
 */
export function wouldCreateCycle(projections: Iterable<IssueProjection>, from: string, to: string, depType: DepType): boolean {
  return findNewCycle(projections, from, to, depType) !== null
}

/**
 * The write-path check for DependencyAdded: INVALID_ARGUMENT for a
 * self-dependency (of any type), NOT_FOUND for an unknown issue, CYCLE (with
 * the cycle in `details.cycle`) when the edge would close one.
 * @example checkNewDependency(all, cmd.issueId, cmd.target, cmd.depType)
 */
export function checkNewDependency(projections: Iterable<IssueProjection>, from: string, to: string, depType: DepType): void {
  if (from === to) throw invalidArgument('target', 'is the issue itself')
  const list = [...projections]
  const ids = new Set(list.map((p) => p.id))
  for (const id of [from, to]) {
    if (!ids.has(id)) throw new CairnError('NOT_FOUND', `no issue ${id}`, { issueId: id })
  }
  refuseCycle(findNewCycle(list, from, to, depType), from, to, depType)
}

/** {@link checkNewDependency} over a lookup (an index): an issue exists when it has a state. */
export function checkNewDependencyIn(g: GraphLookup, from: string, to: string, depType: DepType): void {
  if (from === to) throw invalidArgument('target', 'is the issue itself')
  for (const id of [from, to]) {
    if (g.state(id) === undefined) throw new CairnError('NOT_FOUND', `no issue ${id}`, { issueId: id })
  }
  refuseCycle(findNewCycleIn(g, from, to, depType), from, to, depType)
}

function refuseCycle(cycle: string[] | null, from: string, to: string, depType: DepType): void {
  if (cycle !== null) {
    throw new CairnError('CYCLE', `${depType} from ${from} to ${to} would close a cycle`, { from, to, depType, cycle })
  }
}

/**
 * The listing order: earlier-created first, then smaller id; incomplete
 * issues (createdAt null) last.
 * @example issues.sort(compareIssues)
 */
export function compareIssues(a: IssueProjection, b: IssueProjection): number {
  const ca = a.createdAt ?? Number.POSITIVE_INFINITY
  const cb = b.createdAt ?? Number.POSITIVE_INFINITY
  if (ca !== cb) return ca < cb ? -1 : 1
  return compareStrings(a.id, b.id)
}

/**
 * A prerequisite blocks while it is open, and also while it is unknown: an
 * edge to an issue this replica has not fetched yet is more likely a partial
 * sync than a closed issue, and a wrongly blocked issue is cheaper than two
 * agents starting work out of order.
 */
function blocks(g: Graph, id: string): boolean {
  const p = g.byId.get(id)
  return p === undefined || p.state === 'open'
}

/**
 * The ids of the issues that currently keep `id` from being ready, sorted.
 * @example blockersOf(all, id) // ['b1', 'b2']
 */
export function blockersOf(projections: Iterable<IssueProjection>, id: string): string[] {
  return blockersIn(lookupOf(buildGraph(projections)), id)
}

/** {@link blockersOf} over a lookup (an index). */
export function blockersIn(g: Pick<GraphLookup, 'prev' | 'state'>, id: string): string[] {
  return g.prev(id).filter((b) => {
    const state = g.state(b)
    return state === undefined || state === 'open'
  })
}

/**
 * Open, complete issues with no blocking prerequisite, earliest created first
 * (then by id). This is what claim-next picks from.
 * @example const [next] = ready(all)
 */
export function ready(projections: Iterable<IssueProjection>): IssueProjection[] {
  const g = buildGraph(projections)
  const out: IssueProjection[] = []
  for (const p of g.byId.values()) {
    if (p.state !== 'open' || p.incomplete) continue
    if ((g.prev.get(p.id) ?? []).some((b) => blocks(g, b))) continue
    out.push(p)
  }
  return out.sort(compareIssues)
}

export interface TopoResult {
  /** Open, complete issues; every prerequisite before its dependents, except inside a cycle. */
  order: IssueProjection[]
  /** Each cycle among open issues (incomplete ones included), members in `order` order. */
  cycles: string[][]
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
  const open = [...projections].filter((p) => p.state === 'open')
  const ids = new Set(open.map((p) => p.id))
  const g = buildGraph(open, (id) => ids.has(id))
  const nodes = open.sort(compareIssues).map((p) => p.id)
  const rank = new Map(nodes.map((id, i) => [id, i]))
  const comps = components(g, nodes)

  // Each component is known by its smallest rank, which is unique.
  const compOf = new Map<string, number>()
  for (const c of comps) {
    const key = rank.get(c[0] as string) as number
    for (const id of c) compOf.set(id, key)
  }
  const members = new Map(comps.map((c) => [rank.get(c[0] as string) as number, c]))
  const indegree = new Map<number, number>()
  const succ = new Map<number, Set<number>>()
  for (const [before, afters] of g.next) {
    const a = compOf.get(before) as number
    for (const after of afters) {
      const b = compOf.get(after) as number
      if (a === b) continue
      let s = succ.get(a)
      if (s === undefined) succ.set(a, (s = new Set()))
      if (s.has(b)) continue
      s.add(b)
      indegree.set(b, (indegree.get(b) ?? 0) + 1)
    }
  }

  const heap = new MinHeap()
  for (const key of members.keys()) if (!indegree.has(key)) heap.push(key)
  const order: IssueProjection[] = []
  const cycles: string[][] = []
  while (heap.size > 0) {
    const key = heap.pop()
    const c = members.get(key) as string[]
    const selfLoop = c.length === 1 && (g.next.get(c[0] as string) ?? []).includes(c[0] as string)
    if (c.length > 1 || selfLoop) cycles.push(c)
    for (const id of c) {
      const p = g.byId.get(id) as IssueProjection
      if (!p.incomplete) order.push(p)
    }
    for (const s of succ.get(key) ?? []) {
      const d = (indegree.get(s) as number) - 1
      indegree.set(s, d)
      if (d === 0) heap.push(s)
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

/**
 * Strongly connected components (Tarjan, iterative so a long dependency
 * chain cannot overflow the stack). Each component's members are sorted by
 * the position of their id in `nodes`, so `c[0]` is its earliest member.
 */
function components(g: Graph, nodes: string[]): string[][] {
  const pos = new Map(nodes.map((id, i) => [id, i]))
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const out: string[][] = []
  let counter = 0
  for (const root of nodes) {
    if (index.has(root)) continue
    const work: Array<{ id: string; i: number }> = [{ id: root, i: 0 }]
    index.set(root, counter)
    low.set(root, counter++)
    stack.push(root)
    onStack.add(root)
    while (work.length > 0) {
      const frame = work[work.length - 1] as { id: string; i: number }
      const succ = g.next.get(frame.id) ?? []
      if (frame.i < succ.length) {
        const v = succ[frame.i++] as string
        if (!index.has(v)) {
          index.set(v, counter)
          low.set(v, counter++)
          stack.push(v)
          onStack.add(v)
          work.push({ id: v, i: 0 })
        } else if (onStack.has(v)) {
          low.set(frame.id, Math.min(low.get(frame.id) as number, index.get(v) as number))
        }
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low.set(parent.id, Math.min(low.get(parent.id) as number, low.get(frame.id) as number))
      if (low.get(frame.id) === index.get(frame.id)) {
        const comp: string[] = []
        let v: string
        do {
          v = stack.pop() as string
          onStack.delete(v)
          comp.push(v)
        } while (v !== frame.id)
        out.push(comp.sort((a, b) => (pos.get(a) as number) - (pos.get(b) as number)))
      }
    }
  }
  return out
}

/** A binary min-heap of numbers: the ready set of Kahn's algorithm. */
class MinHeap {
  #a: number[] = []

  get size(): number {
    return this.#a.length
  }

  push(x: number): void {
    const a = this.#a
    a.push(x)
    let i = a.length - 1
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
    const last = a.pop() as number
    if (a.length > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= a.length) break
        const r = l + 1
        const c = r < a.length && (a[r] as number) < (a[l] as number) ? r : l
        if ((a[c] as number) >= last) break
        a[i] = a[c] as number
        i = c
      }
      a[i] = last
    }
    return top
  }
}
