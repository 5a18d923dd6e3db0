/**
 * Claims across machines (issue 19), pure: the claim record a coordination
 * remote holds for an issue, and what the next one may be. No I/O, no clock
 * reads: `now` comes in.
 *
 * An issue's claim lives in `refs/cairn/claims/<issue id>` on the repository's
 * coordination remote (`git config cairn.remote`): a commit chain that only
 * fast-forwards, each commit's message one {@link ClaimRecord} as JSON. A
 * claim is a compare-and-swap on that ref (remote-claims.ts): the next record
 * is built on the tip this host saw and git moves the remote ref only if it is
 * still there, so of two hosts claiming at once exactly one gets its push in.
 *
 * `done` is terminal: once an issue's claim says done, no host claims it
 * again, however stale its board (it learns so from the refused push). A
 * `held` record holds the issue until `expiresAt + graceMs` on the reader's
 * clock, as remote leases do (actors/lock-keeper/remote/chain.ts says why the
 * grace covers clock skew); `released` frees it at once.
 */
import { CairnError } from './errors.ts'

export type ClaimState = 'held' | 'released' | 'done'

export interface ClaimHolder { actor: string; session: string }

export interface ClaimRecord {
  /** Format version: 1. */
  v: 1
  issue: string
  state: ClaimState
  holder: ClaimHolder
  /** The claim's fencing token: the `seq` of the commit that granted it. Renewals, release and done repeat it. */
  epoch: number
  /** This commit's position in the chain: 1 for the root, parent's + 1 after. */
  seq: number
  ttlMs: number
  graceMs: number
  /** When this commit was written, on its writer's clock. */
  at: number
  /** 0 once released or done. */
  expiresAt: number
}

/** A chain's tip as seen on the remote (or as this host last wrote it). */
export interface ClaimTip { commit: string; record: ClaimRecord }

export const CLAIM_REF_PREFIX = 'refs/cairn/claims/'
const ISSUE_ID = /^[0-9a-f]{32}$/
const ACTOR_ID = /^[0-9a-f]{32}$/
const STATES: readonly ClaimState[] = ['held', 'released', 'done']
/** A claim message is a few hundred bytes; anything much larger is not ours. */
const MAX_RECORD_BYTES = 4096

/** @example claimRef('0123456789abcdef0123456789abcdef') // 'refs/cairn/claims/0123…' */
export function claimRef(issue: string): string {
  if (typeof issue !== 'string' || !ISSUE_ID.test(issue)) throw new CairnError('INVALID_ARGUMENT', 'issue must be 32 lowercase hex characters', { field: 'issue' })
  return CLAIM_REF_PREFIX + issue
}

/** True while `r` keeps others from claiming its issue at `now`. */
export function isLive(r: ClaimRecord, now: number): boolean {
  return r.state === 'done' || (r.state === 'held' && now < r.expiresAt + r.graceMs)
}

const same = (a: ClaimHolder, b: ClaimHolder): boolean => a.actor === b.actor && a.session === b.session

export type ClaimStep =
  | { ok: true; record: ClaimRecord }
  /** `done`: the issue was finished under a claim; `held`: someone's claim is live. */
  | { ok: false; why: 'done' | 'held'; tip: ClaimRecord }

/**
 * The record claiming `issue` on `tip` (null: no chain yet), or why not.
 * The same holder claiming again while its claim is live is refused too: one
 * token names one grant. A done tip is claimed only by a board that saw the
 * issue reopened after it (`reopenedAt`, the reopen's time, later than the
 * done record): that board is not stale about the close.
 */
export function claimRecord(tip: ClaimRecord | null, req: { issue: string; holder: ClaimHolder; ttlMs: number; graceMs: number; reopenedAt?: number }, now: number): ClaimStep {
  // Done is terminal for every board but one that saw the issue reopened after it (reopenedAt > its time).
  if (tip !== null && tip.state === 'done') {
    if (!(req.reopenedAt !== undefined && req.reopenedAt > tip.at)) return { ok: false, why: 'done', tip }
  } else if (tip !== null && isLive(tip, now)) return { ok: false, why: 'held', tip }
  const seq = (tip?.seq ?? 0) + 1
  return {
    ok: true,
    record: { v: 1, issue: req.issue, state: 'held', holder: { ...req.holder }, epoch: seq, seq, ttlMs: req.ttlMs, graceMs: req.graceMs, at: now, expiresAt: now + req.ttlMs },
  }
}

function lost(tip: ClaimRecord | null, issue: string, token: number, why: string): CairnError {
  return new CairnError('LEASE_LOST', `claim on issue ${issue} with epoch ${token} is lost: ${why}`, { resource: `issue:${issue}`, token, currentToken: tip?.epoch ?? null })
}

/** LEASE_LOST unless `tip` is the holder's claim with epoch `token`, still held. */
function own(tip: ClaimRecord | null, issue: string, token: number, holder: ClaimHolder): ClaimRecord {
  if (tip === null) throw lost(tip, issue, token, 'the remote has no claim for it')
  if (tip.epoch !== token) throw lost(tip, issue, token, `the chain moved on to epoch ${tip.epoch}`)
  if (!same(tip.holder, holder)) throw lost(tip, issue, token, 'another holder wrote that epoch')
  if (tip.state !== 'held') throw lost(tip, issue, token, `it was ${tip.state}`)
  return tip
}

/** The renewal of the holder's live claim; LEASE_LOST once it lapsed past its grace (anyone may have taken it). */
export function renewClaim(tip: ClaimRecord | null, req: { issue: string; token: number; holder: ClaimHolder; ttlMs?: number }, now: number): ClaimRecord {
  const r = own(tip, req.issue, req.token, req.holder)
  if (!isLive(r, now)) throw lost(r, req.issue, req.token, 'it lapsed past its grace period')
  const ttlMs = req.ttlMs ?? r.ttlMs
  return { ...r, holder: { ...r.holder }, seq: r.seq + 1, ttlMs, at: now, expiresAt: now + ttlMs }
}

/** The release of the holder's claim (a lapsed one nobody took over can still be released). */
export function releaseClaim(tip: ClaimRecord | null, req: { issue: string; token: number; holder: ClaimHolder }, now: number): ClaimRecord {
  const r = own(tip, req.issue, req.token, req.holder)
  return { ...r, holder: { ...r.holder }, state: 'released', seq: r.seq + 1, at: now, expiresAt: 0 }
}

/**
 * The record marking `issue` done. With a token: the holder's own claim
 * (LEASE_LOST if it is not, or if another holder finished it). Without: a
 * close by someone holding no claim, allowed while nobody else's claim is
 * live (LEASE_HELD otherwise). Null when the tip already says done under
 * this claim or, without a token, under any (closing twice changes nothing).
 */
export function doneClaim(tip: ClaimRecord | null, req: { issue: string; holder: ClaimHolder; token: number | null }, now: number): ClaimRecord | null {
  if (tip !== null && tip.state === 'done') {
    // Finished under another claim: a close fenced on a claim that was taken over must not pass as done.
    if (req.token !== null && (tip.epoch !== req.token || !same(tip.holder, req.holder))) throw lost(tip, req.issue, req.token, 'another holder finished it')
    return null
  }
  if (req.token !== null) {
    const r = own(tip, req.issue, req.token, req.holder)
    return { ...r, holder: { ...r.holder }, state: 'done', seq: r.seq + 1, at: now, expiresAt: 0 }
  }
  if (tip !== null && isLive(tip, now) && !same(tip.holder, req.holder)) {
    throw new CairnError('LEASE_HELD', `issue ${req.issue} is claimed by ${tip.holder.actor} until ${tip.expiresAt} (+${tip.graceMs} ms grace)`,
      { resource: `issue:${req.issue}`, heldBy: { actor: tip.holder.actor, expiresAt: tip.expiresAt } })
  }
  const seq = (tip?.seq ?? 0) + 1
  return { v: 1, issue: req.issue, state: 'done', holder: { ...req.holder }, epoch: tip !== null && same(tip.holder, req.holder) ? tip.epoch : seq, seq, ttlMs: 0, graceMs: 0, at: now, expiresAt: 0 }
}

/** The least time a done record waits before a board that never saw its close closes the issue on its word. */
export const ADOPT_MIN_MS = 5_000

/**
 * Whether a board on which the issue is still open, unchanged since
 * `updatedAt`, closes it on the word of done record `r` (its holder's own
 * close never reached this board). The holder writes its close right after
 * the done record; once as long has passed as anyone waits before taking a
 * lapsed claim over (ttl + grace, at least ADOPT_MIN_MS), the holder died
 * between the two or its host does not sync, and the issue would otherwise
 * stay open everywhere and claimable nowhere. An issue changed here after
 * the done record (reopened) is left as it is.
 */
export function adoptable(r: ClaimRecord, updatedAt: number, now: number): boolean {
  return r.state === 'done' && updatedAt < r.at && now >= r.at + Math.max(r.ttlMs + r.graceMs, ADOPT_MIN_MS)
}

/**
 * Whether a tip may be deleted from the remote so refs stay bounded: a
 * released claim once a grace has passed, a lapsed one once twice its grace
 * has, a done one after `doneRetentionMs` (kept that long so a host with a
 * stale board still learns the issue is done from the refused push; a board
 * older than that is what a sync is for).
 */
export function collectable(r: ClaimRecord, now: number, doneRetentionMs: number): boolean {
  if (r.state === 'done') return now >= r.at + doneRetentionMs
  if (r.state === 'released') return now >= r.at + r.graceMs
  return now >= r.expiresAt + 2 * r.graceMs
}

/** The commit message holding `r`. */
export function encodeClaim(r: ClaimRecord): string {
  const ordered: ClaimRecord = {
    v: 1, issue: r.issue, state: r.state, holder: { actor: r.holder.actor, session: r.holder.session },
    epoch: r.epoch, seq: r.seq, ttlMs: r.ttlMs, graceMs: r.graceMs, at: r.at, expiresAt: r.expiresAt,
  }
  return `cairn claim: ${r.state} ${r.issue} epoch ${r.epoch}\n\n${JSON.stringify(ordered)}\n`
}

const malformed = (commit: string, why: string): CairnError => new CairnError('INVALID_FORMAT', `claim commit ${commit}: ${why}`, { commit })
const count = (x: unknown, min: number): boolean => Number.isSafeInteger(x) && (x as number) >= min

/** The record in a claim commit's message; INVALID_FORMAT for anything else (a forged or foreign ref). */
export function decodeClaim(message: string, commit: string): ClaimRecord {
  if (message.length > MAX_RECORD_BYTES) throw malformed(commit, 'the message is too long for a claim')
  const body = message.slice(message.indexOf('\n\n') + 2).trim()
  let o: Record<string, unknown>
  try {
    o = JSON.parse(body) as Record<string, unknown>
  } catch {
    throw malformed(commit, 'the message holds no claim record')
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw malformed(commit, 'the claim record is not an object')
  if (o.v !== 1) throw malformed(commit, `claim version ${JSON.stringify(o.v)} is not 1`)
  if (typeof o.issue !== 'string' || !ISSUE_ID.test(o.issue)) throw malformed(commit, 'issue is not 32 lowercase hex')
  if (!STATES.includes(o.state as ClaimState)) throw malformed(commit, `state ${JSON.stringify(o.state)} is not held, released or done`)
  const h = o.holder as Record<string, unknown> | null
  if (h === null || typeof h !== 'object' || typeof h.actor !== 'string' || !ACTOR_ID.test(h.actor) || typeof h.session !== 'string' || h.session.length > 256) {
    throw malformed(commit, 'holder is not { actor, session }')
  }
  if (!count(o.seq, 1) || !count(o.epoch, 1) || (o.epoch as number) > (o.seq as number)) throw malformed(commit, 'epoch and seq are not 1 <= epoch <= seq')
  for (const k of ['ttlMs', 'graceMs', 'at', 'expiresAt'] as const) if (!count(o[k], 0)) throw malformed(commit, `${k} is not a non-negative integer`)
  return {
    v: 1, issue: o.issue, state: o.state as ClaimState, holder: { actor: h.actor, session: h.session }, epoch: o.epoch as number, seq: o.seq as number,
    ttlMs: o.ttlMs as number, graceMs: o.graceMs as number, at: o.at as number, expiresAt: o.expiresAt as number,
  }
}
