/**
 * The RepoWorker actor kind: machine.ts (pure) wired to effects.ts (LMDB);
 * what each message is comes from messages.ts.
 */
import { fromPromise } from 'xstate'
import { CairnError } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import type { ActorModule } from '../../lib/kernel/actor-module.ts'
import { runMachine } from '../../lib/kernel/machine-instance.ts'
import { repoWorkerMachine, REPO_WORKER_SNAPSHOT_VERSION, type CommitOutput } from './machine.ts'
import { openRepoDbs, RepoWorkerShell } from './effects.ts'
import { isWrite, REPO_WORKER_MESSAGES, repoWorkerMessage } from './messages.ts'
import { prepareProjections } from './store/rebuild.ts'
import { WalService } from './wal/service.ts'
import { drainAtBoot } from './wal/boot.ts'
import { staleReason } from './store/rebuild.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'

export const repoWorker: ActorModule = {
  kind: 'repo-worker',
  snapshotVersion: REPO_WORKER_SNAPSHOT_VERSION,
  // Reads only; identity.resolve of a known agent needs no write either (the shell refuses an unknown one).
  readOnlyTypes: new Set([M.identity, ...Object.entries(REPO_WORKER_MESSAGES)
    .filter(([, e]) => e.role === 'query' || e.role === 'journal-read').map(([type]) => type)]),
  prepare: async (env, repo) => {
    const dbs = openRepoDbs(env)
    if (repo.readOnly) {
      const stale = staleReason(dbs)
      if (stale !== null) throw new CairnError('STORE_READ_ONLY', `the read-only store's projections need a rebuild (${stale}), which writes`, { reason: stale })
      const pending = dbs.outbox.getCount()
      return { wal: { drainedEvents: 0, commits: 0, adopted: 0, pending, error: pending > 0 ? 'the store is read-only: the outbox drains when it is writable' : null } }
    }
    const projections = await prepareProjections(env, dbs)
    return { projections, wal: await drainAtBoot(env, dbs, () => repo.git.openWal(repo.gitDir), () => repo.clock.now()) }
  },
  start(ctx, restored) {
    const dbs = openRepoDbs(ctx.env)
    const wal = new WalService(ctx.env, dbs, () => ctx.git.openWal(ctx.gitDir), ctx.clock, (channel, message) => ctx.report(channel, message))
    const shell = new RepoWorkerShell(ctx.env, dbs, ctx, wal)
    shell.resume(restored.resume)
    const machine = repoWorkerMachine.provide({
      actions: {
        enqueueWrites: (_, { reqs }) => { for (const req of reqs) shell.enqueueWrite(req) },
        enqueueTimerFire: (_, { timer }) => shell.enqueueTimerFire(timer),
        answerRead: (_, { req }) => shell.answerRead(req),
      },
      actors: {
        commitBatch: fromPromise<CommitOutput, { drain: boolean }>(({ input }) => shell.commitBatch(input.drain)),
      },
    })
    // Resumed operations are staged: the first commit applies them.
    const snapshot = restored.resume.length > 0
      ? repoWorkerMachine.resolveState({ value: 'idle', context: { queued: 0, staged: restored.resume.length, commits: 0 } })
      : restored.snapshot
    const run = runMachine(machine, snapshot)
    // A failed machine's commits in flight finish and its WAL drain stops at
    // once (its successor drains the outbox); its host waits for that before
    // starting a successor on the store or closing it.
    const released = run.failure.catch(async () => {
      shell.dispose()
      await shell.settled().catch(() => undefined)
      await wal.stop({ flush: false })
    })
    // prepare drained what a previous run left; this picks up anything it could not (git was failing).
    if (!ctx.readOnly) wal.kick()
    // The writes delivered in one turn of the loop reach the machine as one
    // WRITE, after the poll phase that read them (each request is a port
    // message of its own, so a microtask would see them one by one). Any
    // other event sends them first: arrival order holds. A commit gathers
    // its block a turn later anyway (effects.ts commitBatch).
    let writes: Envelope[] = []
    let flushing: NodeJS.Immediate | null = null
    const sendWrites = (): void => {
      if (flushing !== null) { clearImmediate(flushing); flushing = null }
      if (writes.length === 0) return
      const reqs = writes
      writes = []
      run.actor.send({ type: 'WRITE', reqs })
    }
    shell.onBroken = () => { sendWrites(); run.actor.send({ type: 'BROKEN' }) }
    return {
      deliver: (req) => {
        const entry = repoWorkerMessage(req.type)
        if (entry !== undefined && isWrite(entry)) {
          if (writes.push(req) === 1) flushing = setImmediate(sendWrites)
          return
        }
        sendWrites()
        if (entry === undefined) ctx.replyError(req, new CairnError('UNKNOWN_MESSAGE', `repo-worker does not handle ${req.type}`))
        else run.actor.send({ type: 'READ', req })
      },
      timerDue: (timer) => { sendWrites(); run.actor.send({ type: 'TIMER_FIRED', timer }) },
      stop: async () => {
        sendWrites()
        run.actor.send({ type: 'STOP' })
        await Promise.race([run.done, run.failure])
        // An idle machine stops at once; its last commit may still be flushing.
        await shell.settled().catch(() => undefined)
        shell.dispose()
        await wal.stop()
        return run.actor.getPersistedSnapshot()
      },
      state: run.state,
      injectFailure: () => { shell.failNextCommit = true },
      failure: run.failure,
      released,
    }
  },
}
