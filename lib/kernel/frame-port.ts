/**
 * The MessagePort between the Supervisor and a host thread, carrying
 * msgpack frames coalesced per turn of the event loop.
 *
 * Each `postMessage` costs both threads: a structured clone, a wake-up of
 * the other loop (an eventfd write) and a message event there. Under load
 * many frames go the same way within one turn (the daemon reads many
 * sockets in one poll phase; one commit answers a block of commands), so
 * frames posted in a turn leave together, as one array, when the turn ends
 * (`setImmediate`: after the poll phase that produced them). Order is kept:
 * every frame of a port goes through its FramePort.
 *
 * Coalescing defers a frame to the end of its turn. That pays when the
 * turn gathers frames from many sources (the daemon's sockets), but a burst
 * made in one go (50 in-process callers answering a batch of replies) then
 * waits for its last frame to be made before the first leaves, and a closed
 * loop of such callers lost ~12% throughput; so a port may send at once
 * (`coalesce: false`, the Supervisor's default for requests).
 *
 * A port message is therefore a frame or an array of frames; {@link framesIn}
 * accepts exactly those two shapes.
 */
import type { MessagePort } from 'node:worker_threads'

export class FramePort {
  readonly #port: MessagePort
  #pending: Uint8Array[] = []
  #immediate: NodeJS.Immediate | null = null
  #closed = false
  readonly #coalesce: boolean

  constructor(port: MessagePort, opts: { coalesce?: boolean } = {}) {
    this.#port = port
    this.#coalesce = opts.coalesce ?? true
  }

  /** Queues a frame; it leaves at the end of this turn with the others queued in it (or at once, without coalescing). */
  post(frame: Uint8Array): void {
    if (this.#closed) return
    if (!this.#coalesce) {
      this.#port.postMessage(frame)
      return
    }
    this.#pending.push(frame)
    this.#immediate ??= setImmediate(this.flush)
  }

  /** Sends what is queued now. */
  readonly flush = (): void => {
    if (this.#immediate !== null) {
      clearImmediate(this.#immediate)
      this.#immediate = null
    }
    const batch = this.#pending
    if (batch.length === 0 || this.#closed) return
    this.#pending = []
    this.#port.postMessage(batch.length === 1 ? batch[0] : batch)
  }

  /** Sends what is queued, then closes the port. */
  close(): void {
    this.flush()
    this.#closed = true
    this.#port.close()
  }
}

/** The frames a port message carries, or null when it is neither a frame nor an array of frames. */
export function framesIn(data: unknown): readonly Uint8Array[] | null {
  if (data instanceof Uint8Array) return [data]
  if (!Array.isArray(data) || data.length === 0) return null
  for (const f of data) if (!(f instanceof Uint8Array)) return null
  return data as Uint8Array[]
}
