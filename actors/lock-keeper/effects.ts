/**
 * The LockKeeper's imperative shell: the lease table in LMDB, FIFO waiters,
 * wake-ups on the runtime clock. All lease rules live in leases.ts (pure);
 * this file decides when they run and makes their results durable.
 *
 * Durability contract: a grant, renewal or release is answered only after
 * the transaction holding it (and the resource's last token) is flushed, so
 * a token is never handed out twice, even across kill -9.
 */
import { randomUUID } from 'node:crypto'
import type { RootDatabase } from 'lmdb'
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import type { Envelope } from '../../protocol/envelope.ts'
import { MESSAGE_TYPES as M, type AcquireBody, type LeaseView, type ReleaseBody, type RenewBody } from '../../protocol/messages.ts'
import type { ActorContext } from '../../lib/kernel/actor-module.ts'
import * as L from './leases.ts'
import { body, graceOf, holderOf, int, tokenOf, ttlOf } from './fields.ts'
import { GRACE_MS, LEASE_POLICIES, type LeasePolicy } from './policy.ts'
import { GRACE_KEY, openLeaseDbs, POLICY_KEY, readGrace, readPolicy, type LeaseDbs } from './store.ts'

export const MAX_WAIT_MS = 10 * 60_000
const MAX_WAITERS = 10_000
export const MAX_CLAIM_CANDIDATES = 256

type Lease = L.Lease
type Table = L.LeaseTable


type Op =
  | { kind: 'acquire'; req: Envelope; resource: string; holder: { actor: string; session: string }; ttlMs: number; graceMs?: number; waitMs: number; waitId: string }
  | { kind: 'renew'; req: Envelope; resource: string; token: number; ttlMs?: number }
  | { kind: 'release'; req: Envelope; resource: string; token: number }
  | { kind: 'cancel'; req: Envelope; waitId: string }
  | { kind: 'policy'; req: Envelope; policy: LeasePolicy }
  | { kind: 'grace'; req: Envelope; graceMs: number }
  /** claimNext's atomic step: lease the first of `resources` that is free, or none. */
  | { kind: 'claim-first'; req: Envelope; resources: string[]; holder: { actor: string; session: string }; ttlMs: number }
  | { kind: 'wake' }

type Acquire = Extract<Op, { kind: 'acquire' }>
interface Waiter { op: Acquire; deadline: number }
type Reply = [Envelope, true, unknown] | [Envelope, false, CairnError]

/** Validates a lease write; reads are not ops. */
export function parseOp(req: Envelope): Op {
  const b = body(req)
  switch (req.type) {
    case M.lockAcquire: {
      const a = b as unknown as AcquireBody
      const resource = L.parseResource(a.resource).key
      const holder = holderOf(a)
      const ttlMs = ttlOf(b) as number
      const graceMs = graceOf(b)
      const waitMs = int(b, 'waitMs', 0, MAX_WAIT_MS, true) ?? 0
      if (a.waitId !== undefined && (typeof a.waitId !== 'string' || a.waitId.length === 0 || a.waitId.length > 128)) throw invalidArgument('waitId', 'must be 1..128 characters')
      return { kind: 'acquire', req, resource, holder, ttlMs, graceMs, waitMs, waitId: a.waitId ?? randomUUID() }
    }
    case M.lockRenew: {
      const r = b as unknown as RenewBody
      return { kind: 'renew', req, resource: L.parseResource(r.resource).key, token: tokenOf(b), ttlMs: ttlOf(b, true) }
    }
    case M.lockRelease: {
      const r = b as unknown as ReleaseBody
      return { kind: 'release', req, resource: L.parseResource(r.resource).key, token: tokenOf(b) }
    }
    case M.lockClaimFirst: {
      const a = b as unknown as AcquireBody & { resources: unknown }
      if (!Array.isArray(a.resources) || a.resources.length === 0 || a.resources.length > MAX_CLAIM_CANDIDATES) {
        throw invalidArgument('resources', `must be an array of 1..${MAX_CLAIM_CANDIDATES} resources`)
      }
      const resources = a.resources.map((r) => L.parseResource(r).key)
      const holder = holderOf(a)
      return { kind: 'claim-first', req, resources, holder, ttlMs: ttlOf(b) as number }
    }
    case M.lockPolicySet:
      if (!LEASE_POLICIES.includes(b.policy as LeasePolicy)) throw invalidArgument('policy', `must be one of ${LEASE_POLICIES.join(', ')}`)
      return { kind: 'policy', req, policy: b.policy as LeasePolicy }
    case M.lockGraceSet:
      return { kind: 'grace', req, graceMs: graceOf(b, false) as number }
    case M.lockCancel:
      if (typeof b.waitId !== 'string' || b.waitId.length === 0) throw invalidArgument('waitId', 'must be a non-empty string')
      return { kind: 'cancel', req, waitId: b.waitId }
    default:
      throw new CairnError('UNKNOWN_MESSAGE', `lock-keeper does not handle ${req.type}`)
  }
}

function view(lease: Lease, now: number): LeaseView {
  const { token: _token, ...rest } = lease
  const takeoverAt = L.takeoverTime(lease, GRACE_MS)
  return { ...rest, live: L.isLive(lease, now, GRACE_MS), takeoverAt }
}

function held(lease: Lease, resource: string, now: number): CairnError {
  return new CairnError('LEASE_HELD', `${resource} conflicts with ${lease.resource}, held by ${lease.holder.actor} until ${lease.expiresAt}`,
    { resource, heldBy: view(lease, now) })
}

export class LockKeeperShell {
  readonly #env: RootDatabase
  readonly #dbs: LeaseDbs
  readonly #ctx: ActorContext
  #table: Table
  #policy: LeasePolicy
  #graceMs: number
  #queue: Op[] = []
  #waiters: Waiter[] = []
  #cancelWake: (() => void) | null = null
  /** Sends WAKE to the machine; set once the machine runs. */
  wake: () => void = () => {}
  failNextCommit = false

  constructor(env: RootDatabase, ctx: ActorContext) {
    this.#env = env
    this.#ctx = ctx
    this.#dbs = openLeaseDbs(env)
    this.#policy = readPolicy(this.#dbs)
    this.#graceMs = readGrace(this.#dbs, GRACE_MS)
    const leases: Record<string, Lease> = {}
    const lastToken: Record<string, number> = {}
    for (const { key, value } of this.#dbs.leases.getRange({})) leases[key as string] = value
    for (const { key, value } of this.#dbs.tokens.getRange({})) lastToken[key as string] = value
    this.#table = { leases, lastToken }
  }

  /** The grace new leases get unless their request names one (remote leases too). */
  get graceMs(): number { return this.#graceMs }

  /** Leases restored from disk keep their absolute deadlines; waiters start fresh. */
  get restored(): number { return Object.keys(this.#table.leases).length }

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

  answerRead(req: Envelope): void {
    try {
      const now = this.#ctx.clock.now()
      if (req.type === M.lockPolicyGet) {
        this.#ctx.replyOk(req, { policy: this.#policy })
      } else if (req.type === M.lockGraceGet) {
        this.#ctx.replyOk(req, { graceMs: this.#graceMs })
      } else if (req.type === M.lockList) {
        this.#ctx.replyOk(req, Object.values(this.#table.leases).sort((a, b) => (a.resource < b.resource ? -1 : 1)).map((l) => view(l, now)))
      } else if (req.type === M.lockStatus) {
        const resource = L.parseResource(body(req).resource).key
        const lease = this.#table.leases[resource]
        this.#ctx.replyOk(req, { resource, lease: lease ? view(lease, now) : null, waiters: this.#waiters.filter((w) => w.op.resource === resource).length })
      } else {
        throw new CairnError('UNKNOWN_MESSAGE', `lock-keeper does not handle ${req.type}`)
      }
    } catch (err) {
      this.#ctx.replyError(req, CairnError.from(err))
    }
  }

  /** Applies everything queued, persists the changes, then replies. */
  async commitBatch(drain: boolean): Promise<{ more: boolean }> {
    if (this.failNextCommit) {
      this.failNextCommit = false
      throw new CairnError('INTERNAL', 'injected commit failure')
    }
    const ops = this.#queue
    this.#queue = []
    const now = this.#ctx.clock.now()
    const before = this.#table
    let table = before
    let policy = this.#policy
    let graceMs = this.#graceMs
    const replies: Reply[] = []

    const tryGrant = (op: Acquire, ahead: Waiter[]): Lease | CairnError => {
      // FIFO: an earlier waiter for a conflicting resource goes first.
      const mine = L.parseResource(op.resource)
      const queued = ahead.find((w) => L.conflicts(L.parseResource(w.op.resource), mine))
      const r = L.acquire(table, { resource: op.resource, holder: op.holder, ttlMs: op.ttlMs, graceMs: op.graceMs ?? graceMs }, now, GRACE_MS)
      if ('conflict' in r) return held(r.conflict, op.resource, now)
      if (queued) return new CairnError('LEASE_HELD', `${op.resource} is queued behind an earlier waiter for ${queued.op.resource}`, { resource: op.resource, queuedBehind: queued.op.resource })
      table = r.state
      return r.lease
    }
    const serveWaiters = (): void => {
      const still: Waiter[] = []
      for (const w of this.#waiters) {
        const got = tryGrant(w.op, still)
        if (!(got instanceof CairnError)) replies.push([w.op.req, true, got])
        else if (now >= w.deadline || drain) replies.push([w.op.req, false, drain ? new CairnError('STOPPED', 'lock-keeper is stopping') : got])
        else still.push(w)
      }
      this.#waiters = still
    }

    serveWaiters()
    for (const op of ops) {
      if (op.kind === 'wake') continue
      if (op.kind === 'policy') {
        policy = op.policy
        replies.push([op.req, true, { policy }])
        continue
      }
      if (op.kind === 'grace') {
        graceMs = op.graceMs
        replies.push([op.req, true, { graceMs }])
        continue
      }
      if (op.kind === 'cancel') {
        const w = this.#waiters.find((x) => x.op.waitId === op.waitId)
        this.#waiters = this.#waiters.filter((x) => x !== w)
        if (w) replies.push([w.op.req, false, new CairnError('ABORTED', 'acquire was cancelled')])
        replies.push([op.req, true, { cancelled: w !== undefined }])
        continue
      }
      if (op.kind === 'claim-first') {
        let won: Lease | null = null
        for (const resource of op.resources) {
          const got = tryGrant({ kind: 'acquire', req: op.req, resource, holder: op.holder, ttlMs: op.ttlMs, waitMs: 0, waitId: '' }, this.#waiters)
          if (!(got instanceof CairnError)) {
            won = got
            break
          }
        }
        replies.push([op.req, true, won])
        continue
      }
      if (op.kind === 'acquire') {
        const got = tryGrant(op, this.#waiters)
        if (!(got instanceof CairnError)) replies.push([op.req, true, got])
        else if (op.waitMs > 0 && !drain && this.#waiters.length < MAX_WAITERS) this.#waiters.push({ op, deadline: now + op.waitMs })
        else replies.push([op.req, false, got])
        continue
      }
      try {
        if (op.kind === 'renew') {
          const r = L.renew(table, { resource: op.resource, token: op.token, ttlMs: op.ttlMs }, now, GRACE_MS)
          table = r.state
          replies.push([op.req, true, r.lease])
        } else {
          const r = L.release(table, { resource: op.resource, token: op.token }, now)
          table = r.state
          replies.push([op.req, true, { released: true }])
          serveWaiters()
        }
      } catch (err) {
        replies.push([op.req, false, CairnError.from(err)])
      }
    }
    serveWaiters()

    const config: [string, LeasePolicy | number][] = []
    if (policy !== this.#policy) config.push([POLICY_KEY, policy])
    if (graceMs !== this.#graceMs) config.push([GRACE_KEY, graceMs])
    if (table !== before || config.length > 0) await this.#persist(before, table, config)
    this.#table = table
    this.#policy = policy
    this.#graceMs = graceMs
    for (const [req, ok, value] of replies) {
      if (ok) this.#ctx.replyOk(req, value)
      else this.#ctx.replyError(req, value as CairnError)
    }
    this.#armWake()
    return { more: this.#queue.length > 0 }
  }

  async #persist(before: Table, after: Table, settings: [string, LeasePolicy | number][]): Promise<void> {
    const { leases, tokens, config } = this.#dbs
    await this.#env.transaction(() => {
      for (const [k, v] of settings) config.put(k, v)
      for (const [k, lease] of Object.entries(after.leases)) if (before.leases[k] !== lease) leases.put(k, lease)
      for (const k of Object.keys(before.leases)) if (!(k in after.leases)) leases.remove(k)
      for (const [k, t] of Object.entries(after.lastToken)) if (before.lastToken[k] !== t) tokens.put(k, t)
    })
    await this.#env.flushed
  }

  /** Wakes at the next waiter deadline or lease lapse, while anyone waits. */
  #armWake(): void {
    this.#cancelWake?.()
    this.#cancelWake = null
    if (this.#waiters.length === 0) return
    const lapse = L.nextDeadline(this.#table, GRACE_MS)
    const at = Math.min(lapse ?? Number.POSITIVE_INFINITY, ...this.#waiters.map((w) => w.deadline))
    if (Number.isFinite(at)) this.#cancelWake = this.#ctx.clock.at(at, () => this.wake())
  }

  /** Stops the wake timer (the actor is stopping or failing). */
  dispose(): void {
    this.#cancelWake?.()
    this.#cancelWake = null
  }
}
