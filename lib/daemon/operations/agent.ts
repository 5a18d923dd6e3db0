/**
 * The liveness of an agent that reaches Cairn through short CLI calls
 * (README "Claims and liveness"): `agent.heartbeat` renews everything the
 * calling agent holds in the repository, each for its own ttl, and reports
 * what lapsed since its last command. The CLI sends it before every
 * command of a repository, so an agent that keeps working keeps its claims,
 * and one that went silent learns on its next command that it lost them.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { AgentMethod } from '../../../protocol/operations/index.ts'
import { holdView, isLapse, renewHold, type Lapse } from './holding.ts'
import type { Impls } from './types.ts'

export interface HeartbeatReport {
  /** What the agent still holds, renewed. */
  holds: Record<string, unknown>[]
  /** What was over (lapsed, taken over, broken) and is forgotten now. */
  lapsed: Lapse[]
  /** Holds that could not be renewed this time (the repository restarting, a remote out of reach); kept. */
  failed: { resource: string; code: string; message: string }[]
}

export const agentOperations: Impls<AgentMethod> = {
  'agent.heartbeat': async (ctx, a): Promise<HeartbeatReport> => {
    const repo = await ctx.repo()
    const holds = ctx.holds.of(repo.id, repo.actor, repo.path)
    // Lapses the daemon's process watch found since the agent's last command come first.
    const report: HeartbeatReport = { holds: [], lapsed: holds.takeNotes(), failed: [] }
    const list = holds.list().filter((h) => h.resource !== a.skip)
    const results = await Promise.allSettled(list.map((h) => renewHold(repo, holds, h)))
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        if (isLapse(r.value)) report.lapsed.push(r.value)
        else report.holds.push(holdView(r.value))
      } else {
        const e = CairnError.from(r.reason)
        report.failed.push({ resource: list[i]?.resource ?? '?', code: e.code, message: e.message })
      }
    })
    return report
  },
  'agents.list': async (ctx) => (await ctx.repo()).agents(),
}
