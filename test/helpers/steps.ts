/**
 * Helpers for stepping XState machines purely with `transition` /
 * `initialTransition` (nothing is executed) and comparing the returned
 * action objects as plain data.
 */
import type { AnyStateMachine } from 'xstate'

/** A returned action reduced to comparable data (XState's own carry actor refs). */
export type ActionSummary =
  | { type: 'xstate.spawnChild'; id: string; src: string; input?: unknown }
  | { type: 'xstate.stopChild'; id: string }
  | { type: string; params: unknown }

interface ActionLike { type: string; params?: unknown }

export function summarize(actions: readonly ActionLike[]): ActionSummary[] {
  return actions.map((a): ActionSummary => {
    if (a.type === 'xstate.spawnChild') {
      const p = a.params as { id: string; src: unknown; input?: unknown }
      const src = typeof p.src === 'string' ? p.src : '<inline logic>'
      return p.input === undefined ? { type: a.type, id: p.id, src } : { type: a.type, id: p.id, src, input: p.input }
    }
    if (a.type === 'xstate.stopChild') {
      // params is the child's actor ref (or its id).
      const p = a.params as { id: string } | string
      return { type: a.type, id: typeof p === 'string' ? p : p.id }
    }
    return { type: a.type, params: a.params }
  })
}

/** The id XState assigns to the (single) invoke of a top-level state. */
export function invokeId(machine: AnyStateMachine, state: string): string {
  const node = machine.root.states[state]
  if (!node) throw new Error(`${machine.id} has no state ${state}`)
  const invokes = node.invoke
  if (invokes.length !== 1) throw new Error(`${machine.id}.${state} has ${invokes.length} invokes, expected 1`)
  return invokes[0]!.id
}

/**
 * The done / error events XState sends itself when an invoked actor settles.
 * They are not part of a machine's declared event union, hence the cast.
 */
export function doneEvent<E>(id: string, output?: unknown): E {
  return { type: `xstate.done.actor.${id}`, output } as unknown as E
}

export function errorEvent<E>(id: string, error: unknown): E {
  return { type: `xstate.error.actor.${id}`, error } as unknown as E
}

/** True when `value` is plain data: no functions, class instances or symbols anywhere. */
export function isPlainData(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || value === undefined) return true
  const t = typeof value
  if (t === 'string' || t === 'number' || t === 'boolean') return true
  if (t !== 'object') return false
  if (seen.has(value)) return false // cycles are not plain data either
  seen.add(value)
  if (Array.isArray(value)) return value.every((v) => isPlainData(v, seen))
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  return Object.values(value as Record<string, unknown>).every((v) => isPlainData(v, seen))
}
