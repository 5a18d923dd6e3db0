/**
 * The board's other views of a repository, each built on demand from the
 * library's answers: an issue's detail, the dependency graph, the leases.
 * Long lists are capped (with their totals) so one busy issue or a huge
 * graph cannot make a response unbounded.
 */
import type { LeaseView } from '../../../protocol/messages.ts'
import type { IssueProjection, IssueSummary } from '../../../protocol/results.ts'
import type { Repo } from '../../api/repo.ts'
import { activityOf, type ActivityItem } from './activity.ts'
import { dependencyEdges, issueHolders, type CardHolder } from './model.ts'

export const MAX_DETAIL_ENTRIES = 500
export const MAX_GRAPH_NODES = 2000

export interface IssueRef { id: string; title: string | null; state: 'open' | 'closed' | 'unknown' }

export interface IssueDetail {
  issue: IssueProjection
  /** How many comments the issue has; `issue.comments` holds the newest MAX_DETAIL_ENTRIES. */
  commentCount: number
  history: ActivityItem[]
  historyCount: number
  lease: LeaseView | null
  /** Prerequisites (any state) and the issues waiting for this one. */
  blockers: IssueRef[]
  dependents: IssueRef[]
  related: IssueRef[]
}

type ViewRepo = Pick<Repo, 'issues' | 'locks'>

function refOf(byId: Map<string, IssueSummary>, id: string): IssueRef {
  const i = byId.get(id)
  return i === undefined ? { id, title: null, state: 'unknown' } : { id, title: i.title, state: i.state }
}

/**
 * One issue with its history, lease and neighbours.
 * @example const d = await issueDetail(repo, 'ab12'); d.blockers.filter((b) => b.state !== 'closed')
 */
export async function issueDetail(repo: ViewRepo, idOrPrefix: string): Promise<IssueDetail> {
  const shown = await repo.issues.show(idOrPrefix)
  const [history, leases, all] = await Promise.all([repo.issues.history(shown.id), repo.locks.list(), repo.issues.list({})])
  const byId = new Map(all.map((i) => [i.id, i]))
  const { next, prev } = dependencyEdges(all)
  const related = shown.dependencies.filter((d) => d.depType === 'related_to').map((d) => refOf(byId, d.target))
  const issue = { ...shown, comments: shown.comments.slice(-MAX_DETAIL_ENTRIES) }
  return {
    issue,
    commentCount: shown.comments.length,
    history: history.slice(-MAX_DETAIL_ENTRIES).map(activityOf),
    historyCount: history.length,
    lease: leases.find((l) => l.resource === `issue:${shown.id}`) ?? null,
    blockers: (prev.get(shown.id) ?? []).map((id) => refOf(byId, id)),
    dependents: (next.get(shown.id) ?? []).map((id) => refOf(byId, id)),
    related,
  }
}

export interface GraphNode {
  id: string
  title: string
  /** 0 for issues nothing open precedes; else one more than the deepest open prerequisite. */
  level: number
  ready: boolean
  holder: CardHolder | null
  /** False for a prerequisite the repository does not know (it blocks until it arrives). */
  known: boolean
}

export interface GraphView {
  nodes: GraphNode[]
  /** `[before, after]`: `before` must close first. */
  edges: [string, string][]
  cycles: string[][]
  /** The longest chain of open prerequisites, deepest first. */
  longestChain: string[]
  truncated: boolean
}

/**
 * The open issues in dependency order, layered by depth, with their edges.
 * @example const g = await graphView(repo); g.nodes.filter((n) => n.level === 0)
 */
export async function graphView(repo: ViewRepo): Promise<GraphView> {
  const [topo, leases, all] = await Promise.all([repo.issues.topo(), repo.locks.list(), repo.issues.list({})])
  const order = topo.order.slice(0, MAX_GRAPH_NODES)
  const state = new Map(all.map((i) => [i.id, i.state]))
  const holders = issueHolders(leases)
  const openIds = new Set(order.map((i) => i.id))
  const { prev } = dependencyEdges(order)
  const level = new Map<string, number>()
  const deepest = new Map<string, string | null>()
  const nodes: GraphNode[] = []
  const edges: [string, string][] = []
  const ghosts = new Set<string>()
  for (const i of order) {
    let l = 0
    let via: string | null = null
    // Ready as the board says it: no prerequisite that is open or unknown (closed ones are satisfied).
    let ready = true
    for (const p of prev.get(i.id) ?? []) {
      if (state.get(p) === 'closed') continue
      ready = false
      if (!openIds.has(p)) {
        // An open prerequisite past the cap is not drawn; an unknown one is, as a ghost.
        if (state.has(p)) continue
        ghosts.add(p)
        level.set(p, 0)
      }
      edges.push([p, i.id])
      const pl = level.get(p)
      // A prerequisite not placed yet shares a merged cycle with this issue.
      if (pl !== undefined && pl + 1 > l) { l = pl + 1; via = p }
    }
    level.set(i.id, l)
    deepest.set(i.id, via)
    nodes.push({ id: i.id, title: i.title, level: l, ready, holder: holders.get(i.id) ?? null, known: true })
  }
  for (const g of ghosts) nodes.push({ id: g, title: '(not in this replica yet)', level: 0, ready: false, holder: null, known: false })
  let tail: string | null = null
  for (const n of nodes) if (tail === null || n.level > (level.get(tail) ?? 0)) tail = n.id
  const longestChain: string[] = []
  for (let at = tail; at !== null && longestChain.length <= order.length; at = deepest.get(at) ?? null) longestChain.push(at)
  return { nodes, edges, cycles: topo.cycles, longestChain, truncated: topo.order.length > order.length }
}
