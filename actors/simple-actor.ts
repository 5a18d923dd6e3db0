/**
 * Shared wiring for actors whose only request today is `actor.status`
 * (LockKeeper and Sync until their domains land). Each keeps its own machine.
 */
import type { AnyStateMachine } from 'xstate'
import { CairnError } from '../protocol/errors.ts'
import { MESSAGE_TYPES as M, type ActorKind } from '../protocol/messages.ts'
import type { ActorContext, ActorModule } from '../lib/threads/actor-module.ts'
import type { Envelope } from '../protocol/envelope.ts'
import { runMachine } from '../lib/threads/machine-instance.ts'

export function simpleActor(kind: ActorKind, machine: AnyStateMachine, snapshotVersion: number): ActorModule {
  return {
    kind,
    snapshotVersion,
    start(ctx: ActorContext, restored) {
      const provided = machine.provide({
        actions: {
          answer: (_: unknown, { req }: { req: Envelope }) => {
            if (req.type === M.actorStatus) ctx.replyOk(req, { kind, context: run.actor.getSnapshot().context })
            else ctx.replyError(req, new CairnError('UNKNOWN_MESSAGE', `${kind} does not handle ${req.type}`))
          },
        },
      } as never)
      const run = runMachine(provided, restored.snapshot)
      return {
        deliver: (req) => run.actor.send({ type: 'REQUEST', req }),
        timerDue: () => {},
        stop: async () => {
          run.actor.send({ type: 'STOP' })
          await Promise.race([run.done, run.failure])
          return run.actor.getPersistedSnapshot()
        },
        state: run.state,
        injectFailure: () => run.actor.send({ type: 'FAIL' }),
        failure: run.failure,
      }
    },
  }
}
