/**
 * The LockKeeper actor kind: machine.ts (pure) wired to effects.ts (the
 * lease table on the store's write chain) over leases.ts (pure rules), the
 * lease gate it offers the RepoWorker (gate.ts, through the thread's ports),
 * and the remote lane (remote/machine.ts wired to remote/lane.ts over
 * remote/chain.ts) for leases held on a git remote.
 */
import { fromPromise } from 'xstate'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { ActorModule } from '../../lib/kernel/actor-module.ts'
import { runMachine } from '../../lib/kernel/machine-instance.ts'
import { lockKeeperMachine, LOCK_KEEPER_SNAPSHOT_VERSION } from './machine.ts'
import { LockKeeperShell } from './effects.ts'
import { remoteLaneMachine } from './remote/machine.ts'
import { RemoteLane } from './remote/lane.ts'
import { REMOTE_TYPES } from './remote/parse.ts'

const READS = new Set<string>([M.lockList, M.lockStatus, M.lockPolicyGet, M.lockGraceGet, M.actorStatus])

export const lockKeeper: ActorModule = {
  kind: 'lock-keeper',
  snapshotVersion: LOCK_KEEPER_SNAPSHOT_VERSION,
  readOnlyTypes: new Set([...READS, M.lockRemoteStatus]),
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
    const lane = new RemoteLane(ctx, () => shell.graceMs, (gitDir) => ctx.git.openLeaseRefs(gitDir))
    const remote = runMachine(remoteLaneMachine.provide({
      actions: { enqueue: (_, { req }) => lane.enqueue(req) },
      actors: { work: fromPromise<{ more: boolean }, { drain: boolean }>(({ input }) => lane.work(input.drain)) },
    }), undefined)
    // The lease table is on disk; a machine snapshot adds nothing but its state name.
    const run = runMachine(machine, restored.snapshot)
    shell.wake = () => run.actor.send({ type: 'WAKE' })
    // Offered once a predecessor's claims in flight have landed (effects.ts); taken back when this actor ends.
    const gate = shell.gate()
    let ended = false
    void shell.ready.then(() => { if (!ended) ctx.ports.leaseGate = gate })
    const withdraw = (): void => {
      ended = true
      if (ctx.ports.leaseGate === gate) ctx.ports.leaseGate = null
    }
    const failure = Promise.race([run.failure, remote.failure])
    failure.catch(() => undefined)
    void failure.catch(() => { withdraw(); shell.dispose(); void lane.close() })
    return {
      deliver: (req) => {
        if (REMOTE_TYPES.has(req.type)) remote.actor.send({ type: 'REQUEST', req })
        else run.actor.send(READS.has(req.type) ? { type: 'READ', req } : { type: 'WRITE', req })
      },
      timerDue: () => {},
      stop: async () => {
        run.actor.send({ type: 'STOP' })
        remote.actor.send({ type: 'STOP' })
        await Promise.race([Promise.all([run.done, remote.done]), failure])
        withdraw()
        shell.dispose()
        await lane.close()
        return run.actor.getPersistedSnapshot()
      },
      state: run.state,
      injectFailure: () => { shell.failNextCommit = true },
      failure,
    }
  },
}
