/**
 * Runs an XState machine as an {@link ActorInstance}: watches for the error
 * status or a `failed` state and turns either into the instance's failure.
 */
import { createActor, type AnyActorRef, type AnyStateMachine } from 'xstate'
import { CairnError } from '../../protocol/errors.ts'

export interface RunningMachine {
  actor: AnyActorRef
  failure: Promise<never>
  state(): string
  /** Resolves when the machine reaches a final state other than `failed`. */
  done: Promise<void>
}

/**
 * A snapshot persisted at stop sits in a final state; restoring it verbatim
 * would start a finished actor. Keep its context, re-enter the initial state.
 */
function restorable(machine: AnyStateMachine, snapshot: unknown): unknown {
  const snap = snapshot as { status?: string; context?: unknown } | undefined
  if (!snap || snap.status !== 'done') return snapshot
  return machine.resolveState({ value: machine.config.initial as string, context: snap.context as never })
}

export function runMachine(machine: AnyStateMachine, snapshot: unknown): RunningMachine {
  const restored = restorable(machine, snapshot)
  // The error that sent the machine to `failed` (an invoked effect's), so the
  // failure reported to the Supervisor carries its cause, not just "failed".
  let lastError: unknown = null
  const inspect = (ev: { type: string; event?: { type?: string; error?: unknown } }): void => {
    if (ev.type === '@xstate.event' && ev.event?.type?.startsWith('xstate.error.actor.')) lastError = ev.event.error
  }
  const actor = createActor(machine, restored ? { snapshot: restored as never, inspect } : { inspect })
  let fail!: (err: unknown) => void
  let finish!: () => void
  const failure = new Promise<never>((_, reject) => { fail = reject })
  failure.catch(() => undefined)
  const done = new Promise<void>((resolve) => { finish = resolve })
  actor.subscribe({
    next: (snap) => {
      if (snap.status === 'done') {
        if (snap.value === 'failed') {
          const cause = lastError === null ? null : CairnError.from(lastError)
          fail(cause ?? new CairnError('INTERNAL', `${machine.id} entered its failed state`))
        }
        else finish()
      }
    },
    error: (err) => fail(err),
  })
  actor.start()
  return {
    actor,
    failure,
    done,
    state: () => {
      const v = actor.getSnapshot().value
      return typeof v === 'string' ? v : JSON.stringify(v)
    },
  }
}
