/** Waiting for asynchronous outcomes in tests, bounded in time and count. */

/**
 * Polls `check` on real time until it is true; throws once `timeoutMs` has
 * passed. For recoveries and background work no message announces
 * (restarts, drains, processes exiting); where a message or promise does,
 * await that instead.
 */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, stepMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs
  for (let i = 0; i < 1_000_000; i++) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}
