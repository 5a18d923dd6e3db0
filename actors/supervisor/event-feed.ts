/**
 * Per-repository "the log has grown" signal on the main thread. The
 * RepoWorker posts `events.appended { lastSeq }` after each commit that
 * appended events; subscribers that have caught up wait here and then read
 * the store at their own cursor. Only this one number crosses the thread per
 * commit, so however slow a subscriber is, the worker buffers nothing for it.
 */
export class EventFeed {
  #lastSeq = 0
  #closed = false
  readonly #waiters = new Set<() => void>()

  get lastSeq(): number { return this.#lastSeq }
  get closed(): boolean { return this.#closed }

  advance(lastSeq: number): void {
    if (!Number.isSafeInteger(lastSeq) || lastSeq <= this.#lastSeq) return
    this.#lastSeq = lastSeq
    this.#wake()
  }

  /** Resolves once the log is known to extend past `seq`, the feed closes, or `signal` aborts. */
  waitBeyond(seq: number, signal?: AbortSignal): Promise<void> {
    if (this.#lastSeq > seq || this.#closed || signal?.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      this.#waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  /** Ends every wait (the runtime is stopping). */
  close(): void {
    this.#closed = true
    this.#wake()
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w()
  }
}
