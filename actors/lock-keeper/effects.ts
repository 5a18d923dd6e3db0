/**
 * The LockKeeper's imperative shell: lease operations decided against the
 * ledger (ledger.ts: the repository's lease table as this thread sees it),
 * written as blocks on the store's write chain, FIFO waiters, and wake-ups
 * on the runtime clock. The rules are pure (leases.ts); this file decides
 * when they run and makes their results durable.
 *
 * One table per repository, whoever opens it: every decision is made
 * against the store plus this thread's writes in flight, and its block
 * applies only if no other writer (another runtime or process on the same
 * repository) changed the store in between. When one did, the block is
 * refused, the ledger forgets what it staged, and the batch is decided
 * again on what the disk holds: two runtimes never both grant a resource,
 * and tokens strictly increase across all of them.
 *
 * Durability contract: a grant, renewal, release or break is answered only
 * after its block is flushed, so a token is never handed out twice, even
 * across kill -9. Reads (list, status, policy, grace) wait for the blocks
 * in flight and answer from the disk alone.
 */
import type { RootDatabase } from 'lmdb'
import { CairnError } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { MESSAGE_TYPES as M, type LeaseBreak } from '../../protocol/messages.ts'
import type { ActorContext } from '../../lib/kernel/actor-module.ts'
import type { RecordedWrite } from '../../lib/kernel/store/recorded-writes.ts'
import { WriteChain } from '../../lib/kernel/store/write-chain.ts'
import * as L from './leases.ts'
import { body } from './fields.ts'
import { leaseInfo, leaseView, LockGate, newLeaseId } from './gate.ts'
import { LeaseLedger, Ticket } from './ledger.ts'
import { parseOp, type Acquire, type Op } from './ops.ts'
import { GRACE_MS, type LeasePolicy } from './policy.ts'
import { GRACE_KEY, POLICY_KEY } from './store.ts'

export { MAX_WAIT_MS, parseOp } from './ops.ts'

const MAX_WAITERS = 10_000
/** Refusals in a row (another writer kept changing the store) before a batch is answered UNAVAILABLE. */
const MAX_TRIES = 16

interface Waiter { op: Acquire; deadline: number }
type Reply = [Envelope, true, unknown] | [Envelope, false, CairnError]

/** What one pass over a batch decided; nothing of it is visible outside until its block is durable. */
interface Decided { replies: Reply[]; writes: RecordedWrite[]; waiters: Waiter[] }

function held(lease: L.Lease, resource: string, now: number): CairnError {
  return new CairnError('LEASE_HELD', `${resource} conflicts with ${lease.resource}, held by ${lease.holder.agent ?? lease.holder.actor} until ${new Date(lease.expiresAt).toISOString()}`,
    { resource, heldBy: leaseView(lease, now) })
}

export class LockKeeperShell {
  readonly #ctx: ActorContext
  readonly #ledger: LeaseLedger
  readonly #chain: WriteChain
  readonly #unlisten: () => void
  #queue: Op[] = []
  #waiters: Waiter[] = []
  #cancelWake: (() => void) | null = null
  /** Resolved when the chain re-read the disk after a refusal. */
  #resynced: { promise: Promise<void>; resolve: () => void } | null = null
  /** Blocks another writer of this thread wrote before this actor started: decisions wait for them. */
  readonly #ready: Promise<void>
  /** Sends WAKE to the machine; set once the machine runs. */
  wake: () => void = () => {}
  failNextCommit = false

  constructor(env: RootDatabase, ctx: ActorContext) {
    this.#ctx = ctx
    this.#ledger = new LeaseLedger(env)
    this.#chain = WriteChain.of(env)
    this.#unlisten = this.#chain.listen({
      reload: () => this.#ledger.reload(),
      rerun: () => { this.#resynced?.resolve(); this.#resynced = null },
    })
    // A predecessor's claims may still be in flight, staged in a ledger that is gone: decide nothing before they land.
    this.#ready = this.#chain.barrier()
  }

  /** The gate the RepoWorker decides claims and write checks through; offer it once {@link ready}. */
  gate(): LockGate {
    return new LockGate(this.#ledger)
  }

  get ready(): Promise<void> { return this.#ready }

  /** The grace new leases get unless their request names one (remote leases too). */
  get graceMs(): number { return this.#ledger.grace(GRACE_MS) }

  /** Leases on disk (live or lapsed, not yet replaced). */
  get restored(): number { return this.#ledger.dbs.leases.getCount() }

  enqueue(req: Envelope): void {
    try {
      this.#queue.push(parseOp(req))
    } catch (err) {
      this.#ctx.replyError(req, CairnError.from(err))
    }
  }

  enqueueWake(): void {
    this.#queue.push({ kind: 'wake' })
  }

  /** Answers once every block in flight is back, from the disk: no answer shows what could still fail. */
  answerRead(req: Envelope): void {
    void Promise.all([this.#ready, this.#chain.barrier()]).then(() => this.#read(req))
  }

  #read(req: Envelope): void {
    try {
      const now = this.#ctx.clock.now()
      const disk = this.#ledger.committed
      if (req.type === M.lockPolicyGet) {
        this.#ctx.replyOk(req, { policy: disk.policy() })
      } else if (req.type === M.lockGraceGet) {
        this.#ctx.replyOk(req, { graceMs: disk.grace(GRACE_MS) })
      } else if (req.type === M.lockList) {
        this.#ctx.replyOk(req, disk.all().sort((a, b) => (a.resource < b.resource ? -1 : 1)).map((l) => leaseView(l, now)))
      } else if (req.type === M.lockStatus) {
        const resource = L.parseResource(body(req).resource).key
        const lease = disk.get(resource)
        this.#ctx.replyOk(req, { resource, lease: lease ? leaseView(lease, now) : null, waiters: this.#waiters.filter((w) => w.op.resource === resource).length })
      } else {
        throw new CairnError('UNKNOWN_MESSAGE', `lock-keeper does not handle ${req.type}`)
      }
    } catch (err) {
      this.#ctx.replyError(req, CairnError.from(err))
    }
  }

  /** Decides everything queued, writes it as one block, then replies once it is durable. */
  async commitBatch(drain: boolean): Promise<{ more: boolean }> {
    if (this.failNextCommit) {
      this.failNextCommit = false
      throw new CairnError('INTERNAL', 'injected commit failure')
    }
    await this.#ready
    const ops = this.#queue
    this.#queue = []
    for (let tries = 1; ; tries++) {
      const ticket = new Ticket()
      const epoch = this.#chain.epoch
      const decided = this.#decide(ops, drain, this.#ctx.clock.now(), ticket)
      if (decided.writes.length > 0) {
        try {
          await this.#chain.write(decided.writes)
          this.#ledger.settle(ticket, true)
        } catch (err) {
          this.#ledger.settle(ticket, false)
          const error = CairnError.from(err)
          if (error.details?.reason !== 'store-changed') {
            for (const [req] of decided.replies) this.#ctx.replyError(req, error)
            throw error
          }
          if (tries < MAX_TRIES) {
            await this.#afterResync(epoch)
            continue
          }
          const busy = new CairnError('UNAVAILABLE', `the lease table kept changing under this writer (another runtime on the same repository); refused ${MAX_TRIES} times`,
            { reason: 'store-changed', retryable: true })
          for (const [req] of decided.replies) this.#ctx.replyError(req, busy)
          return { more: this.#queue.length > 0 }
        }
      }
      this.#waiters = decided.waiters
      for (const [req, ok, value] of decided.replies) {
        if (ok) this.#ctx.replyOk(req, value)
        else this.#ctx.replyError(req, value as CairnError)
      }
      this.#armWake()
      return { more: this.#queue.length > 0 }
    }
  }

  /** Resolves once the chain has re-read the disk since `epoch`. */
  #afterResync(epoch: number): Promise<void> {
    if (this.#chain.epoch !== epoch && !this.#chain.refusing) return Promise.resolve()
    if (!this.#resynced) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => { resolve = r })
      this.#resynced = { promise, resolve }
    }
    return this.#resynced.promise
  }

  /** One pass over the batch against the ledger; stages its writes under `ticket`. */
  #decide(ops: Op[], drain: boolean, now: number, ticket: Ticket): Decided {
    const ledger = this.#ledger
    const replies: Reply[] = []
    const writes: RecordedWrite[] = []
    const graceMs = ledger.grace(GRACE_MS)
    let waiters = this.#waiters

    const tryGrant = (op: Acquire, ahead: Waiter[]): unknown => {
      // FIFO: an earlier waiter for a conflicting resource goes first.
      const mine = L.parseResource(op.resource)
      const queued = ahead.find((w) => L.conflicts(L.parseResource(w.op.resource), mine))
      const id = newLeaseId()
      const r = L.decideAcquire(ledger, { resource: op.resource, holder: op.holder, ttlMs: op.ttlMs, graceMs: op.graceMs ?? graceMs, idHash: L.leaseIdHash(id) }, now, GRACE_MS)
      if (!r.granted) return held(r.conflict, op.resource, now)
      if (queued) return new CairnError('LEASE_HELD', `${op.resource} is queued behind an earlier waiter for ${queued.op.resource}`, { resource: op.resource, queuedBehind: queued.op.resource })
      writes.push(...ledger.stage(r.changes, ticket))
      return leaseInfo(r.lease, id)
    }
    const serveWaiters = (): void => {
      const still: Waiter[] = []
      for (const w of waiters) {
        const got = tryGrant(w.op, still)
        if (!(got instanceof CairnError)) replies.push([w.op.req, true, got])
        else if (now >= w.deadline || drain) replies.push([w.op.req, false, drain ? new CairnError('STOPPED', 'lock-keeper is stopping') : got])
        else still.push(w)
      }
      waiters = still
    }

    serveWaiters()
    for (const op of ops) {
      if (op.kind === 'wake') continue
      if (op.kind === 'policy' || op.kind === 'grace') {
        writes.push(ledger.stageConfig(op.kind === 'policy' ? POLICY_KEY : GRACE_KEY, op.kind === 'policy' ? op.policy : op.graceMs, ticket))
        replies.push([op.req, true, op.kind === 'policy' ? { policy: op.policy as LeasePolicy } : { graceMs: op.graceMs }])
        continue
      }
      if (op.kind === 'cancel') {
        const w = waiters.find((x) => x.op.waitId === op.waitId)
        waiters = waiters.filter((x) => x !== w)
        if (w) replies.push([w.op.req, false, new CairnError('ABORTED', 'acquire was cancelled')])
        replies.push([op.req, true, { cancelled: w !== undefined }])
        continue
      }
      if (op.kind === 'acquire') {
        const got = tryGrant(op, waiters)
        if (!(got instanceof CairnError)) replies.push([op.req, true, got])
        else if (op.waitMs > 0 && !drain && waiters.length < MAX_WAITERS) waiters = [...waiters, { op, deadline: now + op.waitMs }]
        else replies.push([op.req, false, got])
        continue
      }
      try {
        if (op.kind === 'renew') {
          const r = L.decideRenew(ledger, op, now, GRACE_MS)
          writes.push(...ledger.stage(r.changes, ticket))
          replies.push([op.req, true, leaseInfo(r.lease, op.leaseId)])
        } else if (op.kind === 'release') {
          const r = L.decideRelease(ledger, op, now)
          writes.push(...ledger.stage(r.changes, ticket))
          replies.push([op.req, true, { resource: op.resource, token: op.token, released: true }])
          serveWaiters()
        } else {
          const r = L.decideBreak(ledger, op, now)
          const record: LeaseBreak = { resource: op.resource, token: r.broken.token, burned: r.burned, holder: r.broken.holder, by: op.by, at: now, reason: op.reason }
          writes.push(...ledger.stage(r.changes, ticket), ledger.stageBreak(record, ticket))
          replies.push([op.req, true, record])
          serveWaiters()
        }
      } catch (err) {
        replies.push([op.req, false, this.#explain(CairnError.from(err))])
      }
    }
    serveWaiters()
    return { replies, writes, waiters }
  }

  /** A lost lease that was broken says by whom, when and why. */
  #explain(err: CairnError): CairnError {
    if (err.code !== 'LEASE_LOST') return err
    const { resource, token } = err.details as { resource: string; token: number }
    const broken = this.#ledger.breakOf(resource, token)
    if (!broken) return err
    return new CairnError('LEASE_LOST', `${err.message}: broken by ${broken.by.agent ?? broken.by.actor} at ${new Date(broken.at).toISOString()} (${broken.reason})`,
      { ...err.details, broken })
  }

  /** Wakes at the next waiter deadline or lapse of a lease in a waiter's way, while anyone waits. */
  #armWake(): void {
    this.#cancelWake?.()
    this.#cancelWake = null
    if (this.#waiters.length === 0) return
    const now = this.#ctx.clock.now()
    let at = Number.POSITIVE_INFINITY
    for (const w of this.#waiters) {
      at = Math.min(at, w.deadline)
      const { conflict } = L.conflictOf(this.#ledger, L.parseResource(w.op.resource), now, GRACE_MS)
      if (conflict) at = Math.min(at, L.takeoverTime(conflict, GRACE_MS))
    }
    if (Number.isFinite(at)) this.#cancelWake = this.#ctx.clock.at(at, () => this.wake())
  }

  /** Stops the wake timer and the chain's calls (the actor is stopping or failing). */
  dispose(): void {
    this.#cancelWake?.()
    this.#cancelWake = null
    this.#unlisten()
    this.#resynced?.resolve()
  }
}
