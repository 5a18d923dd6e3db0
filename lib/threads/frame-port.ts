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
 * A port message is therefore a frame or an array of frames; {@link framesIn}
 * accepts exactly those two shapes.
 */
import type { MessagePort } from 'node:worker_threads'

export class FramePort {
  readonly #port: MessagePort
  #pending: Uint8Array[] = []
  #immediate: NodeJS.Immediate | null = null
  #closed = false

  constructor(port: MessagePort) {
    this.#port = port
  }

  /** Queues a frame; it leaves at the end of this turn with the others queued in it. */
  post(frame: Uint8Array): void {
    if (this.#closed) return
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
