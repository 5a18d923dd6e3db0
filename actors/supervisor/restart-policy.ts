/**
 * Pure restart decisions: one-for-one with a restart intensity (at most
 * `maxRestarts` within `withinMs`, else the actor is marked failed instead of
 * restarting in a loop) and exponential backoff with full jitter.
 *
 * @example
 *   const d = decideRestart(DEFAULT_RESTART_POLICY, history, clock.now(), Math.random)
 *   if (d.action === 'restart') schedule(d.delayMs)
 */
export interface RestartPolicy {
  maxRestarts: number
  withinMs: number
  initialBackoffMs: number
  maxBackoffMs: number
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  withinMs: 10_000,
  initialBackoffMs: 10,
  maxBackoffMs: 2_000,
}

/** Restart timestamps still inside the intensity window, oldest first. */
export interface RestartHistory {
  recent: readonly number[]
  total: number
}

export const EMPTY_HISTORY: RestartHistory = { recent: [], total: 0 }

export type RestartDecision =
  | { action: 'restart'; delayMs: number; history: RestartHistory }
  | { action: 'fail'; history: RestartHistory; reason: string }

export function decideRestart(
  policy: RestartPolicy,
  history: RestartHistory,
  now: number,
  random: () => number,
): RestartDecision {
  const recent = history.recent.filter((t) => now - t < policy.withinMs)
  if (recent.length >= policy.maxRestarts) {
    return {
      action: 'fail',
      history: { recent, total: history.total },
      reason: `restart intensity exceeded: ${recent.length} restarts within ${policy.withinMs} ms`,
    }
  }
  // Full jitter (AWS architecture blog): spreads restarts of many actors that
  // failed together, instead of having them stampede at the same instants.
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** recent.length)
  const delayMs = Math.floor(random() * ceiling)
  return { action: 'restart', delayMs, history: { recent: [...recent, now], total: history.total + 1 } }
}
