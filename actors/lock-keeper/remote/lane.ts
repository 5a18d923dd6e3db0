/**
 * The remote lane's shell: leases on a git remote's lease refs, over the
 * LeaseRefs port, one request at a time (remote/machine.ts). The rules of
 * the chain are in remote/chain.ts (pure); this file reads tips, appends,
 * and turns a lost compare-and-swap into an answer:
 *
 * - acquire: read the tip; if its lease is live, LEASE_HELD. Else append an
 *   acquire commit on it. Losing the race means someone else moved the chain:
 *   re-read, answer LEASE_HELD if the winner's lease is live, else (it was
 *   already released or dead) try once more; a second loss is LEASE_HELD or,
 *   with nobody live at the tip, BUSY.
 * - renew/release: append on the commit this lane last wrote for the lease
 *   (or, after a restart, on the tip if it is still that lease). A lost race
 *   means the chain moved past our commit: LEASE_LOST, unless the re-read tip
 *   is still our lease (our own earlier append whose answer we missed), then
 *   once more on it.
 *
 * Answers are sent only after the remote accepted the append, so a granted
 * epoch is on the remote before its holder learns of it.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { Envelope } from '../../../protocol/envelope.ts'
import type { LeaseBreak, RemoteLeaseInfo } from '../../../protocol/messages.ts'
import type { ActorContext } from '../../../lib/kernel/actor-module.ts'
import type { LeaseRecord, LeaseRefs, LeaseRemote, LeaseTip } from '../../../lib/kernel/ports/lease-refs.ts'
import { acquireRecord, breakRecord, isLive, leaseRef, releaseRecord, remoteView, renewRecord } from './chain.ts'
import { leaseIdHash } from '../leases.ts'
import { newLeaseId } from '../gate.ts'
import { parseRemoteOp, type RemoteOp } from './parse.ts'

/** Requests queued beyond this are refused with BUSY: backpressure, not loss. */
export const MAX_REMOTE_QUEUE = 1024
/** Leases remembered for renewal; the oldest is forgotten past this (a renewal then re-reads the tip). */
const MAX_HELD = 10_000

type Ctx = Pick<ActorContext, 'clock' | 'gitDir' | 'replyOk' | 'replyError'>

export class RemoteLane {
  readonly #ctx: Ctx
  readonly #graceMs: () => number
  readonly #open: (gitDir: string) => Promise<LeaseRefs>
  #refs: Promise<LeaseRefs> | null = null
  #queue: RemoteOp[] = []
  #current: Promise<void> = Promise.resolve()
  /** The commit this lane last appended for each lease it granted, by remote URL and resource. */
  #held = new Map<string, LeaseTip>()

  constructor(ctx: Ctx, graceMs: () => number, open: (gitDir: string) => Promise<LeaseRefs>) {
    this.#ctx = ctx
    this.#graceMs = graceMs
    this.#open = open
  }

  enqueue(req: Envelope): void {
    try {
      if (this.#queue.length >= MAX_REMOTE_QUEUE) throw new CairnError('BUSY', `${MAX_REMOTE_QUEUE} remote lease requests are already queued`)
      this.#queue.push(parseRemoteOp(req))
    } catch (err) {
      this.#ctx.replyError(req, CairnError.from(err))
    }
  }

  /** Works one queued request; with `drain`, answers the rest STOPPED instead and waits for the one in flight. */
  async work(drain: boolean): Promise<{ more: boolean }> {
    if (drain) {
      for (const op of this.#queue.splice(0)) this.#ctx.replyError(op.req, new CairnError('STOPPED', 'lock-keeper is stopping'))
      await this.#current
      return { more: false }
    }
    const op = this.#queue.shift()
    if (op) {
      this.#current = this.#run(op)
      await this.#current
    }
    return { more: this.#queue.length > 0 }
  }

  async #run(op: RemoteOp): Promise<void> {
    try {
      this.#ctx.replyOk(op.req, await this.#serve(op))
    } catch (err) {
      this.#ctx.replyError(op.req, CairnError.from(err))
    }
  }

  /** Releases the repositories the port opened, once the request in flight is done. */
  async close(): Promise<void> {
    await this.#current
    const refs = this.#refs
    this.#refs = null
    if (refs) await (await refs.catch(() => null))?.close()
  }

  #port(): Promise<LeaseRefs> {
    if (!this.#refs) {
      const opening = this.#open(this.#ctx.gitDir)
      // A failed open is answered to this request and retried by the next.
      opening.catch(() => { if (this.#refs === opening) this.#refs = null })
      this.#refs = opening
    }
    return this.#refs
  }

  async #serve(op: RemoteOp): Promise<unknown> {
    const refs = await this.#port()
    const remote = await refs.resolve(op.remote)
    const ref = leaseRef(op.resource)
    const key = `${remote.url}\n${op.resource}`
    const read = async (): Promise<LeaseTip | null> => {
      const tip = await refs.read(remote, ref)
      // A different resource here is a 64-bit hash collision or a forged chain; never build on it.
      if (tip !== null && tip.record.resource !== op.resource) {
        throw new CairnError('INVALID_FORMAT', `${ref} on ${remote.url} holds a lease on ${tip.record.resource}, not ${op.resource}`, { ref, commit: tip.commit })
      }
      return tip
    }
    switch (op.kind) {
      case 'status': {
        const tip = await read()
        const now = this.#ctx.clock.now()
        return { resource: op.resource, lease: tip ? remoteView(tip.record, now, remote.url, tip.commit) : null, waiters: 0 }
      }
      case 'acquire':
        return this.#acquire(op, refs, remote, ref, key, read)
      case 'break':
        return this.#break(op, refs, remote, ref, key, read)
      default:
        return this.#extend(op, refs, remote, ref, key, read)
    }
  }

  async #acquire(op: Extract<RemoteOp, { kind: 'acquire' }>, refs: LeaseRefs, remote: LeaseRemote, ref: string, key: string,
    read: () => Promise<LeaseTip | null>): Promise<RemoteLeaseInfo> {
    // The holder's proof: only its hash goes on the remote.
    const id = newLeaseId()
    const request = { resource: op.resource, holder: op.holder, ttlMs: op.ttlMs, graceMs: op.graceMs ?? this.#graceMs(), idHash: leaseIdHash(id) }
    for (let attempt = 0; attempt < 2; attempt++) {
      const tip = await read()
      const now = this.#ctx.clock.now()
      const next = acquireRecord(tip?.record ?? null, request, now)
      if (!next.ok) throw this.#heldError(next.held, op.resource, remote, tip as LeaseTip, now)
      const r = await refs.append(remote, ref, tip?.commit ?? null, next.record)
      if (r.ok) {
        this.#remember(key, { commit: r.commit, record: next.record })
        return { ...info(next.record, remote, r.commit), id }
      }
    }
    const tip = await read()
    const now = this.#ctx.clock.now()
    if (tip && isLive(tip.record, now)) throw this.#heldError(tip.record, op.resource, remote, tip, now)
    throw new CairnError('BUSY', `the lease chain of ${op.resource} on ${remote.url} keeps moving; retry`, { resource: op.resource, remote: remote.url })
  }

  async #extend(op: Extract<RemoteOp, { kind: 'renew' | 'release' }>, refs: LeaseRefs, remote: LeaseRemote, ref: string, key: string,
    read: () => Promise<LeaseTip | null>): Promise<RemoteLeaseInfo | { released: true }> {
    const mine = this.#held.get(key)
    // Our last commit is the parent to try, for a caller proving it holds it; a lapsed one may have
    // been taken over, and a caller without the id is answered from what the remote holds now.
    const proves = mine !== undefined && (mine.record.idHash === undefined || (op.leaseId !== undefined && leaseIdHash(op.leaseId) === mine.record.idHash))
    const usable = proves && mine.record.epoch === op.token && (op.kind === 'release' || isLive(mine.record, this.#ctx.clock.now()))
    let tip: LeaseTip | null = usable ? mine : await read()
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = this.#ctx.clock.now()
      // Throws LEASE_LOST unless `tip` is the caller's lease with this epoch.
      const record: LeaseRecord = op.kind === 'renew' ? renewRecord(tip?.record ?? null, op, now) : releaseRecord(tip?.record ?? null, op, now)
      const r = await refs.append(remote, ref, (tip as LeaseTip).commit, record)
      if (r.ok) {
        if (op.kind === 'release') {
          this.#held.delete(key)
          return { released: true }
        }
        this.#remember(key, { commit: r.commit, record })
        return info(record, remote, r.commit)
      }
      this.#held.delete(key)
      tip = await read()
    }
    const current = tip?.record.epoch ?? null
    throw new CairnError('LEASE_LOST', `remote lease on ${op.resource} with epoch ${op.token} is lost: the chain moved past it`,
      { resource: op.resource, token: op.token, currentToken: current })
  }

  /** A break commit on the tip; a lost race re-reads once (the tip changed: break what is there now, if anything). */
  async #break(op: Extract<RemoteOp, { kind: 'break' }>, refs: LeaseRefs, remote: LeaseRemote, ref: string, key: string,
    read: () => Promise<LeaseTip | null>): Promise<LeaseBreak> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const tip = await read()
      const record = breakRecord(tip?.record ?? null, op, this.#ctx.clock.now())
      const r = await refs.append(remote, ref, (tip as LeaseTip).commit, record)
      if (r.ok) {
        this.#held.delete(key)
        const broken = record.broken as NonNullable<LeaseRecord['broken']>
        return { resource: op.resource, token: record.epoch, burned: record.seq, holder: { ...record.holder }, by: broken.by, at: broken.at, reason: broken.reason }
      }
    }
    throw new CairnError('BUSY', `the lease chain of ${op.resource} on ${remote.url} keeps moving; retry`, { resource: op.resource, remote: remote.url })
  }

  #remember(key: string, tip: LeaseTip): void {
    this.#held.delete(key)
    if (this.#held.size >= MAX_HELD) this.#held.delete(this.#held.keys().next().value as string)
    this.#held.set(key, tip)
  }

  #heldError(r: LeaseRecord, resource: string, remote: LeaseRemote, tip: LeaseTip, now: number): CairnError {
    return new CairnError('LEASE_HELD', `${resource} is leased on ${remote.url} by ${r.holder.actor} until ${r.expiresAt} (+${r.graceMs} ms grace)`,
      { resource, remote: remote.url, heldBy: remoteView(r, now, remote.url, tip.commit) })
  }
}

function info(r: LeaseRecord, remote: LeaseRemote, commit: string): RemoteLeaseInfo {
  return {
    scope: 'remote', remote: remote.url, commit, resource: r.resource, holder: { ...r.holder }, token: r.epoch,
    ttlMs: r.ttlMs, graceMs: r.graceMs, grantedAt: r.grantedAt, expiresAt: r.expiresAt, heartbeatAt: r.heartbeatAt,
  }
}
