/** The LockKeeper actor kind: machine.ts (pure) wired to effects.ts (LMDB) over leases.ts (pure rules). */
import { fromPromise } from 'xstate'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { ActorModule } from '../../lib/threads/actor-module.ts'
import { runMachine } from '../../lib/threads/machine-instance.ts'
import { lockKeeperMachine, LOCK_KEEPER_SNAPSHOT_VERSION } from './machine.ts'
import { LockKeeperShell } from './effects.ts'

const READS = new Set<string>([M.lockList, M.lockStatus, M.lockPolicyGet, M.actorStatus])

export const lockKeeper: ActorModule = {
  kind: 'lock-keeper',
  snapshotVersion: LOCK_KEEPER_SNAPSHOT_VERSION,
  start(ctx, restored) {
    const shell = new LockKeeperShell(ctx.env, ctx)
    const machine = lockKeeperMachine.provide({
      actions: {
        enqueue: (_, { req }) => shell.enqueue(req),
        enqueueWake: () => shell.enqueueWake(),
        answerRead: (_, { req }) => {
          if (req.type === M.actorStatus) ctx.replyOk(req, { kind: 'lock-keeper', leases: shell.restored })
          else shell.answerRead(req)
        },
      },
      actors: {
        commitBatch: fromPromise<{ more: boolean }, { drain: boolean }>(({ input }) => shell.commitBatch(input.drain)),
      },
    })
    // The lease table is on disk; a machine snapshot adds nothing but its state name.
    const run = runMachine(machine, restored.snapshot)
    shell.wake = () => run.actor.send({ type: 'WAKE' })
    void run.failure.catch(() => shell.dispose())
    return {
      deliver: (req) => run.actor.send(READS.has(req.type) ? { type: 'READ', req } : { type: 'WRITE', req }),
      timerDue: () => {},
      stop: async () => {
        run.actor.send({ type: 'STOP' })
        await Promise.race([run.done, run.failure])
        shell.dispose()
        return run.actor.getPersistedSnapshot()
      },
      state: run.state,
      injectFailure: () => { shell.failNextCommit = true },
      failure: run.failure,
    }
  },
}
