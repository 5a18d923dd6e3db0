/**
 * The lease commit format, without git: encoding `lease.json` and checking
 * what a commit holds. Pure, so adapters share the rules and tests check
 * them by value.
 *
 * Wire contract: a lease commit's tree holds `lease.json` (other entries are
 * ignored), pretty JSON with the keys of {@link LeaseRecord} in the order
 * below; its first parent is the previous commit of the chain. Readers parse
 * JSON and never compare bytes. Lease refs arrive from other machines, so a
 * reader trusts nothing: every field is checked and a bad one is
 * INVALID_FORMAT naming the commit.
 */
import { CairnError } from '../../../protocol/errors.ts'
import type { LeaseRecord, LeaseRecordOp } from '../../kernel/ports/lease-refs.ts'

export const LEASE_FILE = 'lease.json'
/** `refs/cairn/leases/<first 16 hex of sha256(resource key)>`: the only refs lease appends move. */
export const LEASE_REF = /^refs\/cairn\/leases\/[0-9a-f]{16}$/
const OPS: readonly LeaseRecordOp[] = ['acquire', 'renew', 'release', 'break']
const HASH = /^[0-9a-f]{64}$/
const ACTOR_ID = /^[0-9a-f]{32}$/
/** Longer than any resource key (1024-char names plus the kind); a bound on what a reader holds. */
const MAX_RESOURCE = 2048

/**
 * The bytes of lease.json.
 * @example encodeLeaseRecord(record) // '{\n  "v": 1,\n  "op": "acquire",\n  ...}\n'
 */
export function encodeLeaseRecord(r: LeaseRecord): string {
  const ordered: LeaseRecord = {
    v: r.v, op: r.op, resource: r.resource, holder: { actor: r.holder.actor, session: r.holder.session },
    epoch: r.epoch, seq: r.seq, ttlMs: r.ttlMs, graceMs: r.graceMs,
    grantedAt: r.grantedAt, expiresAt: r.expiresAt, heartbeatAt: r.heartbeatAt,
    ...(r.idHash !== undefined ? { idHash: r.idHash } : {}),
    ...(r.broken !== undefined ? { broken: { by: { actor: r.broken.by.actor, ...(r.broken.by.agent !== undefined ? { agent: r.broken.by.agent } : {}) }, at: r.broken.at, reason: r.broken.reason } } : {}),
  }
  return `${JSON.stringify(ordered, null, 2)}\n`
}

function malformed(commit: string, problem: string): CairnError {
  return new CairnError('INVALID_FORMAT', `lease commit ${commit}: ${problem}`, { commit })
}

/**
 * Parses and checks lease.json; throws INVALID_FORMAT naming `commit`.
 * @example decodeLeaseRecord(Buffer.from(encodeLeaseRecord(r)), 'ab12…') // r
 */
export function decodeLeaseRecord(bytes: Uint8Array, commit: string): LeaseRecord {
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch {
    throw malformed(commit, 'lease.json is not JSON')
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw malformed(commit, 'lease.json is not an object')
  const o = v as Record<string, unknown>
  if (o.v !== 1) throw malformed(commit, `lease.json version ${JSON.stringify(o.v)} is not 1`)
  if (!OPS.includes(o.op as LeaseRecordOp)) throw malformed(commit, `op ${JSON.stringify(o.op)} is not acquire, renew, release or break`)
  if (typeof o.resource !== 'string' || o.resource.length === 0 || o.resource.length > MAX_RESOURCE) throw malformed(commit, 'resource is not a string')
  const h = o.holder as Record<string, unknown> | null
  if (h === null || typeof h !== 'object' || typeof h.actor !== 'string' || !ACTOR_ID.test(h.actor)
    || typeof h.session !== 'string' || h.session.length === 0 || h.session.length > 128) {
    throw malformed(commit, 'holder is not { actor: 32 hex, session: 1..128 chars }')
  }
  const ints = ['epoch', 'seq', 'ttlMs', 'graceMs', 'grantedAt', 'expiresAt', 'heartbeatAt'] as const
  for (const k of ints) {
    if (!Number.isSafeInteger(o[k]) || (o[k] as number) < 0) throw malformed(commit, `${k} is not a non-negative integer`)
  }
  const epoch = o.epoch as number
  const seq = o.seq as number
  if (epoch < 1 || epoch > seq) throw malformed(commit, `epoch ${epoch} is not in 1..seq (${seq})`)
  if (o.idHash !== undefined && (typeof o.idHash !== 'string' || !HASH.test(o.idHash))) throw malformed(commit, 'idHash is not 64 lowercase hex')
  const broken = o.broken as Record<string, unknown> | undefined
  if (o.op === 'break' || broken !== undefined) {
    const by = broken?.by as Record<string, unknown> | undefined
    if (o.op !== 'break' || broken === null || typeof broken !== 'object' || by === null || typeof by !== 'object'
      || typeof by.actor !== 'string' || !ACTOR_ID.test(by.actor) || (by.agent !== undefined && (typeof by.agent !== 'string' || by.agent.length > 128))
      || !Number.isSafeInteger(broken.at) || typeof broken.reason !== 'string' || broken.reason.length > 1024) {
      throw malformed(commit, 'a break commit needs broken: { by: { actor, agent? }, at, reason }, and only a break commit has it')
    }
  }
  return {
    v: 1, op: o.op as LeaseRecordOp, resource: o.resource, holder: { actor: h.actor, session: h.session },
    epoch, seq, ttlMs: o.ttlMs as number, graceMs: o.graceMs as number,
    grantedAt: o.grantedAt as number, expiresAt: o.expiresAt as number, heartbeatAt: o.heartbeatAt as number,
    ...(o.idHash !== undefined ? { idHash: o.idHash as string } : {}),
    ...(broken !== undefined ? { broken: {
      by: { actor: (broken.by as { actor: string }).actor, ...((broken.by as { agent?: string }).agent !== undefined ? { agent: (broken.by as { agent: string }).agent } : {}) },
      at: broken.at as number, reason: broken.reason as string,
    } } : {}),
  }
}
