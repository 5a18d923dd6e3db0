/**
 * `repo.events.subscribe()`: replay the local log from a cursor, then follow.
 *
 * Pull-based: a page is read only when the consumer asks for more, so a
 * slow consumer holds at most one page, and the RepoWorker never buffers
 * for it. The cursor is the local seq, which is durable and never reused,
 * so resuming at `lastSeen + 1` after a restart yields no gap and no
 * duplicate. A restarting actor (UNAVAILABLE) or a full mailbox is waited
 * out with capped backoff; the stream ends when `signal` aborts or the
 * runtime stops, and throws on anything else (e.g. ACTOR_FAILED).
 */
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import type { LoggedEvent } from '../../protocol/messages.ts'
import type { EventFeed } from '../../actors/supervisor/event-feed.ts'

export interface SubscribeOptions {
  /** First seq to deliver (default 1: the whole log). */
  fromSeq?: number
  /** Events read per round trip, 1..1000 (default 256). */
  pageSize?: number
  signal?: AbortSignal
}

const RETRYABLE = new Set(['UNAVAILABLE', 'MAILBOX_FULL', 'TIMEOUT'])
const MAX_BACKOFF_MS = 1000

export function checkSubscribeOptions(opts: unknown): Required<Omit<SubscribeOptions, 'signal'>> & { signal?: AbortSignal } {
  if (opts === undefined) return { fromSeq: 1, pageSize: 256 }
  if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object')
  const o = opts as SubscribeOptions
  const fromSeq = o.fromSeq ?? 1
  const pageSize = o.pageSize ?? 256
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw invalidArgument('fromSeq', 'must be a positive integer')
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw invalidArgument('pageSize', 'must be an integer in 1..1000')
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArgument('signal', 'must be an AbortSignal')
  return { fromSeq, pageSize, signal: o.signal }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export async function* subscribe(
  read: (fromSeq: number, limit: number, signal?: AbortSignal) => Promise<LoggedEvent[]>,
  feed: EventFeed,
  opts: ReturnType<typeof checkSubscribeOptions>,
): AsyncGenerator<LoggedEvent, void, undefined> {
  const { pageSize, signal } = opts
  let cursor = opts.fromSeq
  let backoff = 10
  while (!signal?.aborted && !feed.closed) {
    let page: LoggedEvent[]
    try {
      page = await read(cursor, pageSize, signal)
      backoff = 10
    } catch (err) {
      const code = err instanceof CairnError ? err.code : 'INTERNAL'
      if (code === 'ABORTED' || code === 'STOPPED') return
      if (!RETRYABLE.has(code)) throw err
      await sleep(backoff, signal)
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      continue
    }
    for (const e of page) {
      yield e
      cursor = e.seq + 1
    }
    if (page.length < pageSize) await feed.waitBeyond(cursor - 1, signal)
  }
}
