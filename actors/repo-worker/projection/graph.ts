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
