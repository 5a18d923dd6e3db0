/**
 * The runtime behind the public facade (create-runtime.ts): builds the
 * Supervisor, resolves when it is serving. Everything else stays behind it
 * (piscina's `#pool` pattern). Loaded by createRuntime once the repository
 * threads are starting.
 */
import { invalidArgument } from '../../protocol/errors.ts'
import type { SupervisorOptions } from '../../actors/supervisor/options.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import { repoCall, repoHandle, type Repo } from './repo.ts'
import { supervisionApi, type SupervisionApi } from './supervision.ts'
import { Supervisor, type ActorStatus, type ReconciliationReport } from '../../actors/supervisor/supervisor.ts'

/** The agent a handle acts as when the caller names none. */
const DEFAULT_AGENT = 'default'

export interface RuntimeStatus {
  state: string
  threads: { threadId: number; repos: string[] }[]
  actors: ActorStatus[]
  reconciliation: ReconciliationReport
}

export interface Runtime extends SupervisionApi {
  /** What boot reconciliation found and did, before anything was served. */
  readonly reconciliation: ReconciliationReport
  /**
   * Opens the repository containing `path` (placing its actors on a thread)
   * as one actor. `agent` names an agent: its actor id is created on first
   * use and persisted in the repository, so each agent keeps one identity and
   * many agents in one clone never share one. `actor` gives the id directly.
   * Without either, the agent is `'default'`.
   */
  repo(path: string, opts?: { actor?: string; agent?: string }): Promise<Repo>
  status(): Promise<RuntimeStatus>
  /** Drains in-flight work, persists actors, stops threads; leaves no handles. */
  stop(): Promise<void>
}

/** Starts the runtime of options createRuntime resolved (and the threads it started, which the Supervisor now owns). */
export async function startRuntime(options: SupervisorOptions): Promise<Runtime> {
  const sup = new Supervisor(options)
  await sup.start()
  const identities = new Map<string, string>()
  return {
    ...supervisionApi(sup),
    get reconciliation() { return sup.reconciliation() },
    async repo(path, opts) {
      if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'must be a non-empty string')
      if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw invalidArgument('options', 'must be an object')
      if (opts?.actor !== undefined && (typeof opts.actor !== 'string' || !/^[0-9a-f]{32}$/.test(opts.actor))) {
        throw invalidArgument('actor', 'must be 32 lowercase hex characters')
      }
      if (opts?.agent !== undefined && (typeof opts.agent !== 'string' || !opts.agent.isWellFormed())) {
        throw invalidArgument('agent', 'must be a well-formed string')
      }
      if (opts?.actor !== undefined && opts.agent !== undefined) throw invalidArgument('agent', 'give either actor or agent, not both')
      const link = await sup.openRepo(path)
      if (opts?.actor !== undefined) return repoHandle(sup, link, { actor: opts.actor, agent: null })
      const agent = opts?.agent ?? DEFAULT_AGENT
      const key = `${link.id}\0${agent}`
      let actor = identities.get(key)
      if (actor === undefined) {
        actor = (await repoCall(link)<{ actor: string }>(M.identity, { agent })).actor
        identities.set(key, actor)
      }
      return repoHandle(sup, link, { actor, agent })
    },
    async status() {
      const { actors } = await sup.status()
      return { state: sup.lifecycle(), threads: sup.threads(), actors, reconciliation: sup.reconciliation() }
    },
    stop: () => sup.stop(),
  }
}
