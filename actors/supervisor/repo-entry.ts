/**
 * One repository in the placement table, for as long as the runtime knows
 * it: the RepoLink the public API holds, whatever happens to its thread.
 *
 * A repository is addressable while closed: a request to a closed one opens
 * it again (on the least loaded thread), as Orleans activates a virtual
 * actor. Hand-offs (open, close, move, restart) run one at a time per
 * repository, and requests that arrive meanwhile wait for the hand-off to
 * end, then go to the host it left. Requests already sent to the old host
 * are answered by it: its stop drains what it accepted before it persists.
 * So a hand-off under load answers every request, loses none and runs none
 * twice.
 */
import { CairnError } from '../../protocol/errors.ts'
import type { ActorKind } from '../../protocol/messages.ts'
import type { Clock } from '../../lib/kernel/ports/clock.ts'
import { EventFeed } from './event-feed.ts'
import type { StoreReader } from '../repo-worker/store/reader.ts'
import type { RepoHost } from './repo-host.ts'
import type { RepoLink } from './repo-link.ts'
import type { RequestOptions } from './router.ts'

/** How often a request re-checks after hand-offs before it gives up (each one is bounded). */
const MAX_HANDOFFS_WAITED = 16

export class RepoEntry implements RepoLink {
  readonly id: string
  readonly path: string
  readonly storeDir: string
  readonly feed = new EventFeed()
  /** When the repository was opened in this runtime (runtime clock), null while closed. */
  openSince: number | null = null
  #host: RepoHost | null = null
  /** Settles when the hand-offs queued so far have run; null when none runs. */
  #gate: Promise<void> | null = null
  #chain: Promise<void> = Promise.resolve()
  #lastUsed: number
  readonly #clock: Clock
  readonly #activate: (entry: RepoEntry) => Promise<void>

  constructor(id: string, path: string, storeDir: string, clock: Clock, activate: (entry: RepoEntry) => Promise<void>) {
    this.id = id
    this.path = path
    this.storeDir = storeDir
    this.#clock = clock
    this.#activate = activate
    this.#lastUsed = clock.now()
  }

  /** The host serving the repository now, or null while it is closed. */
  get host(): RepoHost | null { return this.#host }

  set host(host: RepoHost | null) { this.#host = host }

  /** A hand-off is running or queued. */
  get busy(): boolean { return this.#gate !== null }

  /** When a caller last used the repository (runtime clock). */
  get lastUsed(): number { return this.#lastUsed }

  request(kind: ActorKind | 'host', type: string, body: unknown, opts?: RequestOptions): Promise<unknown> {
    this.#lastUsed = this.#clock.now()
    const host = this.#host
    if (host !== null && this.#gate === null) return host.request(kind, type, body, opts)
    return this.#serving(opts?.signal).then((h) => h.request(kind, type, body, opts))
  }

  reader(): StoreReader | Promise<StoreReader> {
    this.#lastUsed = this.#clock.now()
    const host = this.#host
    if (host !== null && this.#gate === null) return host.reader()
    return this.#serving().then((h) => h.reader())
  }

  /** The host once no hand-off runs, opening the repository again if it is closed. */
  async #serving(signal?: AbortSignal): Promise<RepoHost> {
    for (let i = 0; i < MAX_HANDOFFS_WAITED; i++) {
      if (signal?.aborted) throw new CairnError('ABORTED', 'request aborted before it was sent')
      if (this.#gate !== null) {
        await this.#gate
        continue
      }
      if (this.#host !== null) return this.#host
      await this.#activate(this)
    }
    throw new CairnError('UNAVAILABLE', `repository ${this.path} kept changing hands`, { repo: this.path, retryable: true })
  }

  /** Settles when the hand-offs queued so far have run. */
  settled(): Promise<void> { return this.#chain }

  /**
   * Runs a hand-off after the ones already queued; requests wait until the
   * last queued one ends. Its result (or error) is the caller's.
   */
  exclusive<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(op)
    const done = run.then(() => undefined, () => undefined)
    this.#chain = done
    this.#gate = done
    void done.then(() => { if (this.#gate === done) this.#gate = null })
    return run
  }
}
