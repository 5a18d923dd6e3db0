/**
 * Repetition bounded by count and by time, so a bench loop over a slowed or
 * stuck system ends and reports the samples it has instead of running on.
 */

/**
 * Runs `step(i)` for i = 0, 1, ... up to `count` times, one at a time; stops
 * early once `budgetMs` has passed since the start, but only after the first
 * run, so there is always at least one result when `count` ≥ 1.
 * @example const runs = await repeatBounded(5, 60_000, () => timedOpen())
 */
export async function repeatBounded<T>(
  count: number, budgetMs: number, step: (i: number) => Promise<T> | T, now: () => number = () => performance.now(),
): Promise<T[]> {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`)
  if (!(budgetMs >= 0)) throw new RangeError(`budgetMs must be non-negative, got ${budgetMs}`)
  const out: T[] = []
  const deadline = now() + budgetMs
  for (let i = 0; i < count; i++) {
    if (i > 0 && now() >= deadline) break
    out.push(await step(i))
  }
  return out
}
