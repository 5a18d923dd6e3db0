/**
 * The long-lived task that hosts one repository's actors (RepoWorker,
 * LockKeeper, Sync) on one thread, over one transferred MessagePort. Loaded
 * by the thread's entry (host.ts) when the thread is first given work.
 *
 * It opens the repository store, reconciles what a crash left behind, starts
 * the actors, then routes envelopes until told to stop. It never calls
 * `process.exit` and never uses `transactionSync` (either, inside a write
 * transaction, would hang every LMDB writer of the process), except for the
 * opt-in fault injection the tests use to prove the supervisor copes.
 */
import { dirname } from 'node:path'
import { threadId, type MessagePort } from 'node:worker_threads'
import type { RootDatabase } from 'lmdb'
import { decode, encode } from '../../protocol/codec.ts'
import { CairnError } from '../../protocol/errors.ts'
import { redactText } from '../../protocol/redact.ts'
import { envelope, PROTOCOL_VERSION, REPLY, type Envelope } from '../../protocol/envelope.ts'
import {
  ACTOR_KINDS, actorAddress, hostAddress, MESSAGE_TYPES as M, SUPERVISOR,
  type ActorKind, type DiagnosticBody, type FaultBody, type HostControlMessage, type RepoReconciliation,
} from '../../protocol/messages.ts'
import type { HostTask } from '../kernel/host-task.ts'
import { clockFromDescriptor } from '../adapters/clock-from-descriptor.ts'
import { nodegitOpeners } from '../adapters/git/loader.ts'
import { openReadableStore } from '../kernel/store/open-store.ts'
import { closeAndSeal } from '../kernel/store/seal.ts'
import { blake2bReady } from '../../protocol/events/blake2b.ts'
import { pendingEntries, type JournalDb, type JournalEntry } from '../kernel/store/journal.ts'
import type { ActorsDb } from '../kernel/store/snapshots.ts'
import type { ActorModule } from '../kernel/actor-module.ts'
import { ActorCell } from './actor-cell.ts'
import { threadPorts } from '../kernel/ports/thread-ports.ts'
import { FramePort, framesIn } from '../kernel/frame-port.ts'
import { repoWorker } from '../../actors/repo-worker/index.ts'
import { lockKeeper } from '../../actors/lock-keeper/index.ts'
import { sync } from '../../actors/sync/index.ts'

const MODULES: Record<ActorKind, ActorModule> = { 'repo-worker': repoWorker, 'lock-keeper': lockKeeper, sync }
/** Who stops first when the host stops (see hostStop). */
const STOP_ORDER: readonly ActorKind[] = ['sync', 'repo-worker', 'lock-keeper']

/**
 * When a commit fails (a full disk), lmdb-js rejects the promise of every
 * write of the transaction and, later, each error's `commitError`. The
 * transaction's owner learns of the failure through the transaction or block
 * it awaits (write-chain.ts answers STORAGE_FULL); the echoes of single
 * writes nobody awaits must not end the thread and every actor on it. Any
 * other unhandled rejection still does.
 */
process.on('unhandledRejection', (reason) => {
  const echo = reason as { message?: unknown; commitError?: Promise<unknown> } | null
  if (echo !== null && typeof echo === 'object' && echo.message === 'Commit failed (see commitError for details)') {
    void echo.commitError?.catch(() => undefined)
    return
  }
  // The thread ends with it; say why where the operator looks (the main thread only learns an exit code).
  const told = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)
  process.stderr.write(`cairn: repository thread ${threadId} ends on an unhandled rejection: ${redactText(told).slice(0, 4_000)}\n`)
  throw reason
})

export interface HostExit { repoId: string; threadId: number }

export async function serve(task: HostTask): Promise<HostExit> {
  const { repoId } = task
  const port = new FramePort(task.port)
  const self = hostAddress(repoId)
  let nextId = 1
  const post = (env: Envelope): void => port.post(encode(env))
  const clock = clockFromDescriptor(task.clock)
  // The store is `<git common dir>/cairn` (actors/supervisor/supervisor.ts openRepo).
  const gitDir = dirname(task.storeDir)
  const git = nodegitOpeners()

  let env: RootDatabase
  let readOnly: boolean
  try {
    // Event ids are hashed from the first command on: start with the fast hasher (protocol/events/blake2b.ts).
    ;[{ env, readOnly }] = await Promise.all([openReadableStore(task.storeDir, 'repo'), blake2bReady])
  } catch (err) {
    post(envelope(nextId++, M.hostFailed, self, SUPERVISOR, { error: CairnError.from(err).toWire() }))
    port.close()
    return { repoId, threadId }
  }
  const journal = env.openDB({ name: 'journal' }) as unknown as JournalDb
  const actorsDb = env.openDB({ name: 'actors' }) as unknown as ActorsDb

  // Requests between actors of this thread (the Sync actor's ingests) never
  // cross the port: negative ids keep them apart from the supervisor's.
  let nextLocalId = -1
  const localWaiters = new Map<string, { resolve(v: unknown): void; reject(e: CairnError): void }>()
  const reply = (req: Envelope, ok: boolean, value: unknown): void => {
    const waiter = req.id < 0 ? localWaiters.get(`${req.from}:${req.id}`) : undefined
    if (waiter) {
      localWaiters.delete(`${req.from}:${req.id}`)
      if (ok) waiter.resolve(value)
      else waiter.reject(CairnError.fromWire(value as never))
      return
    }
    post({ v: PROTOCOL_VERSION, id: nextId++, type: REPLY, from: req.to, to: req.from, corr: req.id,
      body: ok ? { ok: true, value } : { ok: false, error: value as never } })
  }
  const cells = new Map<string, ActorCell>()
  const ports = threadPorts()
  for (const kind of ACTOR_KINDS) {
    const address = actorAddress(kind, repoId)
    cells.set(address, new ActorCell(MODULES[kind], repoId, address, env, actorsDb, clock, task.mailboxCapacity, {
      reply,
      failed: (cell, error) => post(envelope(nextId++, M.actorFailed, cell.address, SUPERVISOR, { actor: cell.address, kind: cell.kind, error: error.toWire() })),
      notify: (cell, type, body) => post(envelope(nextId++, type, cell.address, SUPERVISOR, body)),
      report: (cell, channel, message) => post(envelope(nextId++, M.diagnostic, cell.address, SUPERVISOR,
        { channel, message: { actor: cell.address, ...message } } satisfies DiagnosticBody)),
      ask: (cell, kind, type, body) => new Promise((resolve, reject) => {
        const req: Envelope = { v: PROTOCOL_VERSION, id: nextLocalId--, type, from: cell.address, to: actorAddress(kind, repoId), body }
        localWaiters.set(`${req.from}:${req.id}`, { resolve, reject })
        const target = cells.get(req.to)
        if (target) target.deliver(req)
        else reply(req, false, new CairnError('NOT_FOUND', `no actor ${req.to} on this host`).toWire())
      }),
    }, { gitDir, git, readOnly, ports }))
  }

  const report: RepoReconciliation = {
    repoId, operations: [], timersRestored: 0, timersOverdue: 0, snapshotsRestored: [], snapshotsDiscarded: [],
    projections: { rebuilt: false, reason: null, events: 0, ms: 0 },
    wal: { drainedEvents: 0, commits: 0, adopted: 0, pending: 0, error: null },
  }
  try {
    for (const kind of ACTOR_KINDS) Object.assign(report, await MODULES[kind].prepare?.(env, { gitDir, clock, git, readOnly }))
  } catch (err) {
    post(envelope(nextId++, M.hostFailed, self, SUPERVISOR, { error: CairnError.from(err).toWire() }))
    port.close()
    await closeAndSeal(env, task.storeDir)
    return { repoId, threadId }
  }
  const reconciliation = await reconcile(journal, cells, readOnly)
  for (const cell of cells.values()) {
    const resume = reconciliation.resume.get(cell.address) ?? []
    const started = cell.start(resume)
    report.timersRestored += started.timers
    report.timersOverdue += started.overdue
    if (started.restored) report.snapshotsRestored.push(cell.address)
    if (started.discardedVersion !== undefined) report.snapshotsDiscarded.push({ actor: cell.address, version: started.discardedVersion })
  }
  report.operations = reconciliation.operations

  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => { resolveDone = resolve })
  const stats = () => [...cells.values()].map((c) => c.stats())

  let stopping = false
  // The Supervisor's frames to the host itself (a HostControlMessage; anything else is refused below).
  const control = async (req: HostControlMessage): Promise<void> => {
    switch (req.type) {
      case M.ping:
        return reply(req, true, { threadId, actors: stats() })
      case M.clockTick:
        clock.tick?.()
        return reply(req, true, null)
      case M.actorRestart: {
        const cell = cells.get(actorAddress(req.body.kind, repoId))
        if (!cell) return reply(req, false, new CairnError('NOT_FOUND', 'no such actor').toWire())
        // The failed instance's background work ends first (bounded: its WAL drain stops without flushing).
        await cell.released()
        if (cell.status !== 'failed' || stopping) {
          return reply(req, false, new CairnError('STOPPED', `${cell.address} is ${stopping ? 'stopping' : cell.status}`, { actor: cell.address }).toWire())
        }
        const resume = pendingEntries(journal).filter((e) => e.actor === cell.address && e.resumable)
        cell.start(resume)
        return reply(req, true, cell.stats())
      }
      case M.hostStop: {
        stopping = true
        // Sync first: its last ingest still finds the RepoWorker running. The
        // LockKeeper last: the RepoWorker's drain runs the commands queued
        // before the stop, and they check leases through the LockKeeper's gate.
        for (const kind of STOP_ORDER) await cells.get(actorAddress(kind, repoId))?.stop()
        if (!readOnly) await env.flushed
        reply(req, true, null)
        resolveDone()
        return
      }
      case M.fault:
        if (!task.faultInjection) return reply(req, false, new CairnError('INVALID_ARGUMENT', 'fault injection is disabled').toWire())
        return injectFault(req, req.body, cells, reply)
      default: {
        const other: Envelope = req
        return reply(other, false, new CairnError('UNKNOWN_MESSAGE', `host does not handle ${other.type}`).toWire())
      }
    }
  }

  const badFrame = (err: unknown): void => {
    // The supervisor only sends well-formed frames; report, never crash.
    post(envelope(nextId++, M.hostFailed, self, SUPERVISOR, { error: CairnError.from(err).toWire(), frame: true }))
  }
  const onFrame = (data: Uint8Array): void => {
    let req: Envelope
    try {
      req = decode(data)
    } catch (err) {
      badFrame(err)
      return
    }
    if (req.to === self) {
      control(req as HostControlMessage).catch((err) => reply(req, false, CairnError.from(err).toWire()))
      return
    }
    const cell = cells.get(req.to)
    if (req.type === M.eventsIngest) reply(req, false, new CairnError('UNKNOWN_MESSAGE', `${req.type} is accepted only from actors of this thread`).toWire())
    else if (cell) cell.deliver(req)
    else reply(req, false, new CairnError('NOT_FOUND', `no actor ${req.to} on this host`).toWire())
  }
  task.port.on('message', (data: unknown) => {
    const frames = framesIn(data)
    if (frames === null) badFrame(new CairnError('INVALID_FORMAT', 'a port message must be a frame or an array of frames'))
    else for (const f of frames) onFrame(f)
  })

  post(envelope(nextId++, M.hostReady, self, SUPERVISOR, { threadId, reconciliation: report, actors: stats() }))
  await done
  port.close()
  await closeAndSeal(env, task.storeDir)
  return { repoId, threadId }
}

/**
 * Sorts what the journal holds: resumable entries go back to their actor
 * (applied by its first commit, deduplicated by opId); the rest are dropped
 * and reported `crashed`.
 */
async function reconcile(journal: JournalDb, cells: Map<string, ActorCell>, readOnly: boolean) {
  const resume = new Map<string, JournalEntry[]>()
  const operations: RepoReconciliation['operations'] = []
  const crashed: string[] = []
  for (const e of pendingEntries(journal)) {
    // A read-only store cannot apply or drop them: they wait for a writable open.
    if (readOnly) continue
    const safe = e.resumable && cells.has(e.actor)
    operations.push({ opId: e.opId, type: e.type, actor: e.actor, startedAt: e.startedAt, outcome: safe ? 'resumed' : 'crashed' })
    if (safe) {
      const list = resume.get(e.actor)
      if (list) list.push(e)
      else resume.set(e.actor, [e])
    }
    else crashed.push(e.opId)
  }
  if (crashed.length > 0) {
    await journal.transaction(() => { for (const id of crashed) journal.remove(id) })
  }
  return { resume, operations }
}

function injectFault(req: Envelope, body: FaultBody, cells: Map<string, ActorCell>,
  reply: (req: Envelope, ok: boolean, value: unknown) => void): void {
  switch (body.mode) {
    case 'throw-actor':
      for (const cell of cells.values()) if (cell.kind === 'repo-worker') cell.injectFailure()
      return reply(req, true, null)
    // The reply first: its frame leaves in an Immediate (FramePort), which must run before the one that kills the thread.
    case 'throw-thread':
      reply(req, true, null)
      setImmediate(() => { throw new Error('injected thread failure') })
      return
    case 'exit':
      reply(req, true, null)
      // eslint-disable-next-line n/no-process-exit -- the fault under test
      setImmediate(() => process.exit(1))
      return
    case 'hang': {
      reply(req, true, null)
      // Bounded busy loop: long enough for the watchdog, never forever.
      const until = Date.now() + Math.min(body.hangMs ?? 30_000, 120_000)
      setImmediate(() => { while (Date.now() < until) { /* hang */ } })
      return
    }
    default:
      return reply(req, false, new CairnError('INVALID_ARGUMENT', `unknown fault mode ${String(body.mode)}`).toWire())
  }
}
