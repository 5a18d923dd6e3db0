/**
 * The board demo's backlog: `count` issues a small product team would have,
 * with labels and dependency chains (about a third wait for an earlier
 * issue, up to a few deep), made through the daemon as the agent `planner`.
 * Seeded, so the same seed makes the same board.
 */
import type { DaemonClient } from '../../daemon/client.ts'

const VERBS = ['Design', 'Build', 'Test', 'Document', 'Refactor', 'Benchmark', 'Review', 'Harden', 'Migrate', 'Profile']
const THINGS = ['the storage layer', 'the sync protocol', 'lease renewal', 'the CLI output', 'the event log', 'issue search',
  'the WAL drain', 'crash recovery', 'the config loader', 'the board page', 'remote leases', 'the MCP tools', 'agent identities',
  'the grite import', 'dependency checks', 'the daemon socket', 'error codes', 'the bench harness']
const LABELS = ['api', 'storage', 'sync', 'cli', 'docs', 'ui', 'perf']

/** mulberry32: small, seeded. */
export function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!

export type Call = <T>(method: string, args: Record<string, unknown>, agent: string) => Promise<T>

export function caller(client: DaemonClient, repo: string): Call {
  return (method, args, agent) => client.request(method, { repo, agent, args }, { timeoutMs: 60_000 })
}

/** A title for issue `n`. */
export function titleOf(rnd: () => number, n: number): string {
  return `${pick(rnd, VERBS)} ${pick(rnd, THINGS)} (#${n})`
}

export function labelsOf(rnd: () => number): string[] {
  const a = pick(rnd, LABELS)
  const b = pick(rnd, LABELS)
  return rnd() < 0.3 && a !== b ? [a, b].sort() : [a]
}

/** Creates the backlog; resolves with the issue ids in creation order. */
export async function seedBacklog(call: Call, count: number, rnd: () => number, onProgress: (done: number) => void): Promise<string[]> {
  const ids: string[] = []
  const depth = new Map<string, number>()
  for (let n = 1; n <= count; n++) {
    const { id } = await call<{ id: string }>('issues.create', {
      title: titleOf(rnd, n), labels: labelsOf(rnd), body: `Part of the demo backlog.\n\nDone when it is reviewed and merged.`,
    }, 'planner')
    ids.push(id)
    depth.set(id, 0)
    // A third of the backlog waits for an earlier issue, keeping chains a few deep.
    if (ids.length > 3 && rnd() < 0.35) {
      const target = ids[Math.floor(rnd() * (ids.length - 1))]!
      if ((depth.get(target) ?? 0) < 4) {
        await call('issues.depend', { id, target, type: 'depends_on' }, 'planner')
        depth.set(id, (depth.get(target) ?? 0) + 1)
      }
    }
    if (n % 20 === 0) onProgress(n)
  }
  return ids
}
