/**
 * The Supervisor's operations through the daemon and the CLI: the runtime's
 * supervision API (lib/api/supervision.ts) on the wire. `runtime.watch`
 * streams supervision events with backpressure: a reader that stops reading
 * stops the stream pulling, and the watch's own bounded buffer (with its
 * `missed` item) takes over, so the daemon never holds more for it.
 */
import type { RuntimeMethod } from '../../../protocol/operations/index.ts'
import type { Impls } from './types.ts'

export const runtimeOperations: Impls<RuntimeMethod> = {
  'runtime.actors': async (ctx) => ctx.runtime.actors(),
  'runtime.watch': async (ctx, a) => {
    let count = 0
    const limit = a.limit ?? Infinity
    if (limit > 0) {
      for await (const item of ctx.runtime.watch({ signal: ctx.signal, ...(a.buffer !== undefined ? { buffer: a.buffer } : {}) })) {
        await ctx.emit(item)
        if (++count >= limit) break
      }
    }
    return { count }
  },
  'runtime.restart': async (ctx, a) => ctx.runtime.restart(a.path),
  'runtime.close': async (ctx, a) => ctx.runtime.close(a.path),
  'runtime.move': async (ctx, a) => ctx.runtime.move(a.path, a.thread),
}
