/**
 * One repository's host as the Supervisor runs it. The host machine
 * (host-machine.ts) decides; this shell carries out its effects: it launches
 * the host task on a thread, carries frames over the task's port, reports
 * what the thread says and does back to the machine as events, and refuses
 * the requests the machine's state says cannot be served now.
 *
 * Frames of an older generation (a thread that died and was replaced) are
 * ignored: only the current launch speaks for the repository.
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { createActor, type Actor } from 'xstate'
import { decode, encode } from '../../protocol/codec.ts'
import { CairnError } from '../../protocol/errors.ts'
import { envelope, REPLY } from '../../protocol/envelope.ts'
import {
  actorAddress, hostAddress, MESSAGE_TYPES as M, SUPERVISOR,
  type ActorKind, type HostMessage, type PongBody, type RepoReconciliation,
} from '../../protocol/messages.ts'
import { CHANNELS, isChannelName, publish } from '../../lib/kernel/diagnostics.ts'
import type { HostTask } from '../../lib/kernel/host-task.ts'
import { FramePort, framesIn } from '../../lib/kernel/frame-port.ts'
import type { Clock, ClockDescriptor } from '../../lib/kernel/ports/clock.ts'
import { StoreReader } from '../repo-worker/store/reader.ts'
import { committedClaims } from '../lock-keeper/committed-claims.ts'
import { hostMachine, hostState, type HostContext, type HostState } from './host-machine.ts'
import { causeOf, failureOfActor, type ActorSupervision, type FailureCause } from './host-restarts.ts'
import type { EventFeed } from './event-feed.ts'
import type { SupervisionReport } from './supervision-log.ts'
import type { RestartPolicy } from './restart-policy.ts'
import type { RequestOptions, Router } from './router.ts'
import type { ThreadSlot } from './thread-slot.ts'

/** How long a stop waits for a host task to close its store before giving up on it. */
const HOST_END_GRACE_MS = 10_000

/** What a host needs from the Supervisor that runs it. */
export interface HostServices {
  /** The thread to launch the host task on now (its own, or a live one when its thread died). */
  launchSlot(): ThreadSlot
  router: Router
  clock: Clock & { describe(): ClockDescriptor }
  restart: RestartPolicy
  mailboxCapacity: number
  faultInjection: boolean
  coalesceRequests: boolean
  serving(): boolean
  /** The host reported ready for the first time: what its boot reconciled. */
  firstReady(report: RepoReconciliation): void
  /** A supervision event for runtime.watch(). */
  report(event: SupervisionReport): void
}

/** One actor of a host, for status(). */
export interface HostActorView {
  kind: ActorKind
  supervision: ActorSupervision
}

/** XState's clock interface over the runtime clock: the machine's backoffs run on injected time. */
function machineClock(clock: Clock) {
  return {
    setTimeout: (fn: () => void, ms: number) => clock.at(clock.now() + ms, fn),
    clearTimeout: (cancel: unknown) => { (cancel as () => void)() },
  }
}

export class RepoHost {
  readonly repoId: string
  readonly path: string
  readonly storeDir: string
  readonly feed: EventFeed
  /** What the current generation's boot reconciled. */
  reconciliation: RepoReconciliation | null = null
  readonly #s: HostServices
  readonly #actor: Actor<typeof hostMachine>
  #port: FramePort | null = null
  #ended: Promise<void> = Promise.resolve()
  #reader: StoreReader | null = null
  #slot: ThreadSlot | null = null

  /**
   * `announce`: report `started` when it first serves (an operator's restart
   * or a move reports itself instead).
   */
  constructor(repoId: string, path: string, storeDir: string, feed: EventFeed, services: HostServices, announce = true) {
    this.repoId = repoId
    this.path = path
    this.storeDir = storeDir
    this.feed = feed
    this.#s = services
    const ignore = (p: Promise<unknown>): void => { p.catch(() => undefined) }
    const report = (e: Omit<SupervisionReport, 'repo' | 'repoId'>): void => services.report({ repo: path, repoId, ...e })
    this.#actor = createActor(hostMachine.provide({
      actions: {
        launch: (_, { generation }) => this.#launch(generation),
        announceReady: (_, { threadId, first }) => {
          if (first && this.reconciliation) this.#s.firstReady(this.reconciliation)
          for (const kind of Object.keys(this.#context().actors)) {
            publish(first ? CHANNELS.actorStarted : CHANNELS.actorRestarted, { actor: actorAddress(kind as ActorKind, repoId), thread: threadId })
          }
          if (!first) report({ type: 'restarted', reason: 'thread', thread: threadId })
          else if (announce) report({ type: 'started', thread: threadId })
        },
        failInFlight: (_, { cause }) => {
          this.#s.router.rejectGroup(repoId, () => new CairnError('UNAVAILABLE', `the thread hosting ${path} died: ${cause.message}`,
            { repo: path, cause, retryable: true }))
        },
        threadDied: (_, { threadId, generation, cause }) => {
          publish(CHANNELS.threadDied, { repo: repoId, path, thread: threadId, generation, cause })
          report({ type: 'thread-died', thread: threadId, cause })
        },
        gaveUp: (_, { kind, error }) => {
          publish(CHANNELS.actorFailed, { actor: kind === null ? hostAddress(repoId) : actorAddress(kind, repoId), repo: repoId, reason: error.message, error })
          const cause = (error.details as { cause?: FailureCause } | undefined)?.cause
          report({ type: 'gave-up', ...(kind === null ? {} : { kind }), thread: this.threadId, error: { code: error.code, message: error.message }, ...(cause ? { cause } : {}) })
        },
        actorFailing: (_, { kind, cause, restartInMs }) => report({ type: 'failed', kind, thread: this.threadId, cause, restartInMs }),
        restartActor: (_, { kind, generation }) => ignore(this.#send(hostAddress(repoId), M.actorRestart, { kind }, { timeoutMs: 30_000 }, true).then(
          () => this.#actor.send({ type: 'ACTOR_RESTARTED', kind, generation }),
          (err: unknown) => { if (this.#context().generation === generation) this.#actorFailed(kind, causeOf(err)) },
        )),
        actorRestarted: (_, { kind }) => {
          publish(CHANNELS.actorRestarted, { actor: actorAddress(kind, repoId) })
          report({ type: 'restarted', kind, reason: 'failure', thread: this.threadId })
        },
        // Posted at once; the task returns once its actors stopped and its store closed (EXITED).
        sendStop: () => ignore(this.#send(hostAddress(repoId), M.hostStop, {}, { timeoutMs: 30_000 }, true)),
      },
    }), { input: { repoId, path, policy: services.restart }, clock: machineClock(services.clock) })
    this.#actor.start()
  }

  get state(): HostState { return hostState(this.#actor.getSnapshot().value) }

  get threadId(): number | null { return this.#context().threadId }

  /** Failed before its thread ever served (READY sets the thread id): nothing of it runs. */
  get failedToStart(): boolean { return this.state === 'failed' && this.threadId === null }

  #context(): HostContext { return this.#actor.getSnapshot().context }

  actors(): HostActorView[] {
    return Object.entries(this.#context().actors).map(([kind, supervision]) => ({ kind: kind as ActorKind, supervision }))
  }

  /** Resolves once the host serves; rejects with why it cannot (its failure, or STOPPED). */
  whenOpen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const state = this.state
        if (state === 'ready') resolve()
        else if (state === 'failed') reject(CairnError.fromWire(this.#context().failure))
        else if (state === 'stopping' || state === 'stopped') reject(new CairnError('STOPPED', `repository ${this.path} was stopped`))
        else return false
        return true
      }
      if (check()) return
      const sub = this.#actor.subscribe(() => { if (check()) sub.unsubscribe() })
    })
  }

  /** Starts one generation of the host task (the machine's `launch`). */
  #launch(generation: number): void {
    const { port1, port2 } = new MessageChannel()
    const port = this.#port = new FramePort(port1, { coalesce: this.#s.coalesceRequests })
    const current = (): boolean => this.#context().generation === generation
    const task: HostTask = {
      port: port2, repoId: this.repoId, storeDir: this.storeDir, clock: this.#s.clock.describe(),
      mailboxCapacity: this.#s.mailboxCapacity, faultInjection: this.#s.faultInjection,
    }
    const slot = this.#slot = this.#s.launchSlot()
    const launch = slot.run(task, [port2])
    const onMessage = (data: unknown): void => {
      launch.running()
      if (!current()) return
      // Whatever the thread reports (a reply, new events) was committed before it was sent.
      this.#reader?.refresh()
      for (const frame of framesIn(data) ?? []) this.#fromHost(frame)
    }
    port1.on('message', onMessage)
    const exited = (cause: ReturnType<typeof causeOf> | null): void => {
      // Piscina's result can overtake the frames the task posted before it
      // returned (a refused store's report); they are queued here already.
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) onMessage(m.message)
      port.close()
      if (current()) this.#actor.send({ type: 'EXITED', cause, at: this.#s.clock.now(), jitter: Math.random() })
    }
    this.#ended = launch.ended.then(() => exited(null), (err: unknown) => exited(causeOf(err)))
  }

  /** One frame from the current generation's thread (made by lib/host: a HostMessage). */
  #fromHost(data: Uint8Array): void {
    let msg: HostMessage
    try { msg = decode(data) as HostMessage } catch { return }
    switch (msg.type) {
      case REPLY:
        if (!msg.body.ok && msg.body.error.code === 'MAILBOX_FULL') publish(CHANNELS.mailboxFull, { actor: msg.from })
        this.#s.router.deliver(msg)
        return
      case M.hostReady:
        this.reconciliation = msg.body.reconciliation
        this.#actor.send({ type: 'READY', threadId: msg.body.threadId })
        return
      case M.hostFailed:
        // A malformed-frame report (`frame: true`) comes from a serving host: not a start failure.
        if (msg.body.frame !== true) this.#actor.send({ type: 'START_FAILED', error: CairnError.fromWire(msg.body.error).toWire() })
        return
      case M.actorFailed: {
        const error = CairnError.fromWire(msg.body.error)
        this.#actorFailed(msg.body.kind, { message: error.message, code: error.code })
        return
      }
      case M.eventsAppended:
        this.feed.advance(msg.body.lastSeq)
        return
      case M.syncProgress: {
        const { corr, ...progress } = msg.body
        this.#s.router.progress(corr, progress)
        return
      }
      case M.diagnostic:
        // Reports made on the thread reach subscribers of the main thread's channels.
        if (isChannelName(msg.body.channel)) publish(msg.body.channel, { repo: this.repoId, ...msg.body.message })
    }
  }

  #actorFailed(kind: ActorKind, cause: { message: string; code?: string }): void {
    this.#actor.send({ type: 'ACTOR_FAILED', kind, cause, at: this.#s.clock.now(), jitter: Math.random() })
  }

  /** Why `kind` (or the host itself) cannot take a request now, or null. */
  refusal(kind: ActorKind | 'host'): CairnError | null {
    if (!this.#s.serving()) return new CairnError('STOPPED', 'runtime is not serving')
    const snap = this.#actor.getSnapshot()
    const state = hostState(snap.value)
    if (state === 'ready') {
      if (kind === 'host') return null
      const a = snap.context.actors[kind]
      if (a.state === 'failed') return CairnError.fromWire(failureOfActor(actorAddress(kind, this.repoId), a))
      if (a.state === 'restarting') return new CairnError('UNAVAILABLE', `${actorAddress(kind, this.repoId)} is restarting`, { retryable: true })
      return null
    }
    if (state === 'failed') return CairnError.fromWire(snap.context.failure)
    if (state === 'stopping' || state === 'stopped') return new CairnError('STOPPED', `repository ${this.path} is ${state}`)
    return new CairnError('UNAVAILABLE', `repository ${this.path} is ${state}`, { retryable: true })
  }

  /**
   * Sends a request to an actor of this repository (or its host) and awaits
   * the reply. Refuses at once when the actor is down (UNAVAILABLE) or failed.
   */
  request(kind: ActorKind | 'host', type: string, body: unknown, opts?: RequestOptions): Promise<unknown> {
    const refused = this.refusal(kind)
    if (refused) return Promise.reject(refused)
    return this.#send(kind === 'host' ? hostAddress(this.repoId) : actorAddress(kind, this.repoId), type, body, opts)
  }

  /** `control`: the Supervisor's own message (a ping, a tick, a stop), not a caller's request. */
  #send(to: string, type: string, body: unknown, opts?: RequestOptions, control = false): Promise<unknown> {
    const port = this.#port
    if (port === null) return Promise.reject(new CairnError('UNAVAILABLE', `repository ${this.path} has no thread`, { retryable: true }))
    const router = this.#s.router
    if (!control) this.#slot?.touch()
    const id = router.nextId()
    let frame: Uint8Array
    try {
      frame = encode(envelope(id, type, SUPERVISOR, to, body))
    } catch (err) {
      return Promise.reject(new CairnError('INVALID_ARGUMENT', `arguments cannot be encoded: ${(err as Error).message}`, { field: 'arguments' }))
    }
    return router.request(this.repoId, id, () => port.post(frame), opts, !control)
  }

  /**
   * The reader that answers queries of the RepoWorker here, from the
   * repository's store (actors/repo-worker/store/reader.ts); refuses
   * exactly as {@link request}.
   */
  reader(): StoreReader {
    const refused = this.refusal('repo-worker')
    if (refused) throw refused
    return this.#reader ??= new StoreReader(this.storeDir, committedClaims(() => this.#s.clock.now()))
  }

  /** Live liveness probe (the watchdog, status()). */
  ping(timeoutMs: number): Promise<PongBody> {
    return this.#send(hostAddress(this.repoId), M.ping, { at: Date.now() }, { timeoutMs }, true) as Promise<PongBody>
  }

  /** Tells a serving host that the manual clock moved. */
  tick(): Promise<unknown> {
    return this.state === 'ready' ? this.#send(hostAddress(this.repoId), M.clockTick, {}, { timeoutMs: 60_000 }, true).catch(() => undefined) : Promise.resolve()
  }

  /**
   * Stops the host: a booting one as soon as it can take the message, a
   * waiting restart at once. Resolves once its task returned (its store is
   * closed), or after a bounded grace on real time (a hung thread).
   */
  async stop(): Promise<void> {
    this.#actor.send({ type: 'STOP' })
    const stopped = new Promise<void>((resolve) => {
      if (this.state === 'stopped') { resolve(); return }
      const sub = this.#actor.subscribe((s) => { if (hostState(s.value) === 'stopped') { sub.unsubscribe(); resolve() } })
    })
    let timer: NodeJS.Timeout | undefined
    // The host closes its LMDB env after replying; terminating its thread
    // during that close aborts the whole process, so wait (bounded).
    await Promise.race([
      Promise.all([stopped, this.#ended]),
      new Promise((resolve) => { timer = setTimeout(resolve, HOST_END_GRACE_MS); timer.unref() }),
    ])
    clearTimeout(timer)
    this.#port?.close()
    this.#port = null
    await this.#reader?.close()
    this.#reader = null
  }
}
