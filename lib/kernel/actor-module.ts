/**
 * What a thread host needs from an actor kind, and what it gives each actor.
 * Actor kinds (actors/<name>/index.ts) implement {@link ActorModule}; the host
 * owns mailboxes, replies, timers and failure reporting around them.
 */
import type { RootDatabase } from 'lmdb'
import type { CairnError } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import type { ActorKind, ActorNotice, RepoReconciliation } from '../../protocol/messages.ts'
import type { ChannelName } from './diagnostics.ts'
import type { ThreadClock } from './ports/clock.ts'
import type { GitOpeners } from './ports/git.ts'
import type { ThreadPorts } from './ports/thread-ports.ts'
import type { JournalEntry } from './store/journal.ts'
import type { DurableTimer } from './store/snapshots.ts'

/** Durable timers of one actor: deadlines live in LMDB, the clock arms them. */
export interface TimerService {
  /** Arms a timer whose deadline is already durable. */
  arm(timer: DurableTimer): void
  /** Forgets a timer whose firing has been committed. */
  fired(timer: DurableTimer): void
  list(): { id: string; at: number; payload: unknown }[]
}

export interface ActorContext {
  readonly address: string
  readonly kind: ActorKind
  readonly repoId: string
  readonly env: RootDatabase
  /**
   * The store could be opened for reading only (read-only file system, no
   * write permission): the host refuses every request outside the module's
   * `readOnlyTypes` with STORE_READ_ONLY, and the actor must not write.
   */
  readonly readOnly: boolean
  /** The repository's git common dir (the store lives in `<gitDir>/cairn`). */
  readonly gitDir: string
  /** Opens git for this actor's port (nodegit, loaded on first use). */
  readonly git: GitOpeners
  readonly clock: ThreadClock
  readonly timers: TimerService
  replyOk(req: Envelope, value: unknown): void
  replyError(req: Envelope, error: CairnError): void
  /** Posts a one-way message to the supervisor (e.g. `events.appended`). */
  notify<T extends ActorNotice['type']>(type: T, body: Extract<ActorNotice, { type: T }>['body']): void
  /**
   * Publishes a diagnostics report. Actors run on worker threads, where
   * nobody subscribes: the host forwards it over its port and the main
   * thread publishes it on the channel of that name, with `repo` and
   * `actor` added, so a subscriber on the main thread sees it.
   */
  report(channel: ChannelName, message: Record<string, unknown>): void
  /** Request/reply with another actor of the same repository, on this thread (no port, no encoding). */
  ask(kind: ActorKind, type: string, body: unknown): Promise<unknown>
  /** Synchronous ports the actors of this repository offer each other (the LockKeeper's lease gate). */
  readonly ports: ThreadPorts
}

export interface RestoreInput {
  snapshot: unknown
  /** Journal entries left by a crash that this actor declared resumable. */
  resume: JournalEntry[]
}

export interface ActorInstance {
  /** Delivers a request; the instance must eventually reply exactly once. */
  deliver(req: Envelope): void
  /** Delivers a due durable timer. */
  timerDue(timer: DurableTimer): void
  /** Drains and returns the snapshot to persist. */
  stop(): Promise<unknown>
  /** Current machine state, for status(). */
  state(): string
  /** Fault injection: make the next effect throw. */
  injectFailure(): void
  /** Resolves/rejects when the machine fails on its own (error or `failed` state). */
  readonly failure: Promise<never>
  /**
   * After a failure: settles once the instance's background work (a WAL
   * drain) stopped touching the store, so its host may close the store.
   */
  readonly released?: Promise<void>
}

export interface ActorModule {
  kind: ActorKind
  snapshotVersion: number
  /** Request types this kind answers without writing: all a read-only store serves. */
  readOnlyTypes?: ReadonlySet<string>
  /** Store preparation before any actor of the repository starts (e.g. rebuilding projections); reported in reconciliation. */
  prepare?(env: RootDatabase, repo: { gitDir: string; clock: ThreadClock; git: GitOpeners; readOnly: boolean }): Promise<Partial<RepoReconciliation>>
  start(ctx: ActorContext, restored: RestoreInput): ActorInstance
}
