/** The Sync actor kind: machine.ts (pure) wired to effects.ts (git, the RepoWorker, the clock). */
import { fromPromise } from 'xstate'
import { CairnError } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M, type AgentIdentity } from '../../protocol/messages.ts'
import type { ActorModule } from '../../lib/kernel/actor-module.ts'
import { runMachine } from '../../lib/kernel/machine-instance.ts'
import { syncMachine, SYNC_SNAPSHOT_VERSION, type RunSpec, type SyncContext } from './machine.ts'
import { parseRunRequest, SyncShell } from './effects.ts'

export const sync: ActorModule = {
  kind: 'sync',
  snapshotVersion: SYNC_SNAPSHOT_VERSION,
  readOnlyTypes: new Set([M.syncStatus, M.actorStatus]),
  start(ctx, restored) {
    // Identities are the RepoWorker's data: asked for, not read from its store.
    const shell = new SyncShell(ctx.env, ctx, {
      ownActors: async () => new Set((await ctx.ask('repo-worker', M.identityList, {}) as AgentIdentity[]).map((i) => i.actor)),
    })
    const machine = syncMachine.provide({
      actions: {
        join: (_, { req, spec }) => shell.join(req, spec),
        answerStatus: (_, { req }) => ctx.replyOk(req, shell.status(run.actor.getSnapshot().context as SyncContext, run.state())),
        settle: (_, { key, error }) => shell.settle(key, error),
        armRetry: (_, { ms }) => shell.armRetry(ms, () => run.actor.send({ type: 'RETRY' })),
      },
      actors: {
        fetchRemote: fromPromise<void, RunSpec>(({ input }) => shell.phase(input, 'fetch')),
        ingestRefs: fromPromise<void, RunSpec>(({ input }) => shell.phase(input, 'ingest')),
        pushRefs: fromPromise<void, RunSpec>(({ input }) => shell.phase(input, 'push')),
      },
    })
    // Requests that waited on a run died with the previous process; its
    // banked progress is in LMDB, so only the counters carry over.
    const prior = (restored.snapshot as { context?: SyncContext } | undefined)?.context
    const snapshot = prior
      ? syncMachine.resolveState({ value: 'idle', context: { ...prior, current: null, queue: [], backoffMs: null } })
      : undefined
    const run = runMachine(machine, snapshot)
    // Boot reconciliation (DESIGN §7): a run a crash interrupted resumes from its bank now.
    if (!ctx.readOnly) for (const spec of shell.bankedRuns()) run.actor.send({ type: 'SYNC', req: null, spec })
    return {
      deliver: (req) => {
        if (req.type === M.syncRun || req.type === M.syncImportGrite) {
          let spec: RunSpec
          try {
            spec = parseRunRequest(req)
          } catch (err) {
            ctx.replyError(req, CairnError.from(err))
            return
          }
          run.actor.send({ type: 'SYNC', req, spec })
        } else if (req.type === M.syncStatus || req.type === M.actorStatus) {
          run.actor.send({ type: 'STATUS', req })
        } else {
          ctx.replyError(req, new CairnError('UNKNOWN_MESSAGE', `sync does not handle ${req.type}`))
        }
      },
      timerDue: () => {},
      stop: async () => {
        run.actor.send({ type: 'STOP' })
        await Promise.race([run.done, run.failure])
        await shell.stop()
        return run.actor.getPersistedSnapshot()
      },
      state: run.state,
      injectFailure: () => run.actor.send({ type: 'FAIL' }),
      failure: run.failure,
    }
  },
}
