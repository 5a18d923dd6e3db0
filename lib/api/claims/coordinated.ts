/**
 * Issues through a coordination remote (issue 19): when the repository names
 * one (`cairn.remote`, coordination.ts), `claimNext` and `close` go through
 * its claim refs (remote-claims.ts) before anything is written here, so one
 * issue is claimed once across every machine that shares the remote, and a
 * host whose board has not seen a close yet still cannot claim that issue
 * again (its push is refused by the done record).
 *
 * claimNext, in order: this host's ready, unclaimed candidates; the remote
 * claim of the first one (one push; a candidate another agent of this
 * runtime is claiming or holds is skipped without the network); then the
 * local claim of exactly that issue (the RepoWorker's claim step: lease and
 * assignment in one block). A remote refusal tries the next candidate; a
 * local one gives the remote claim back; a remote that cannot be reached
 * fails the claim (UNREACHABLE),
 * never falling back to a local one, unless the caller asked `local: true`.
 * The setting (`cairn.remote`) is read beside the first push, not before it:
 * claimNext starts on the last value read and confirms it before writing
 * anything here (a changed setting gives back what it claimed there and
 * starts again on the new value).
 * The remote claim is renewed beside the local lease and released when the
 * lease ends; losing it ends the lease, which fences the holder's writes.
 *
 * close marks the claim done on the remote first (the holder's claim, or a
 * done record when nobody else's claim is live), then closes here; a close
 * carrying a lease whose remote claim was lost is refused (LEASE_LOST), and
 * once the remote says done, a local lease that lapsed meanwhile does not
 * keep the issue open here. A holder that dies between its done record and
 * its local close leaves an issue done on the remote and open on every
 * board: a claimNext that meets such a record, once the holder had its time
 * (protocol/claim-record.ts adoptable), closes the issue here on its word.
 */
import { createHash } from 'node:crypto'
import { adoptable, type ClaimRecord } from '../../../protocol/claim-record.ts'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { MESSAGE_TYPES as M, type LeaseInfo, type LoggedEvent } from '../../../protocol/messages.ts'
import type { IssueProjection, IssueSummary } from '../../../protocol/results.ts'
import type { Call } from '../call.ts'
import type { ClaimOptions, ClaimResult } from '../claim.ts'
import type { WriteOptions } from '../issues.ts'
import type { LocksApi } from '../locks.ts'
import type { CoordinationApi, Speculation } from './coordination.ts'
import type { HeldClaim, RemoteClaims } from './remote-claims.ts'
import type { LeaseHandle } from '../lease-handle/handle.ts'

const ROUNDS = 8
/** How far apart (in ready order) hosts start their claims. */
const SPREAD = 8
const CANDIDATES_PER_ROUND = 64
const ISSUE_ID = /^[0-9a-f]{32}$/

/** `local: true` claims or closes on this clone only, even when the repository names a coordination remote. */
export type CoordinatedClaimOptions = ClaimOptions & { local?: boolean }
export type CoordinatedWriteOptions = WriteOptions & { local?: boolean; reason?: string }

export interface CoordinatedIssues {
  claimNext(opts: CoordinatedClaimOptions): Promise<ClaimResult>
  close(id: string, opts?: CoordinatedWriteOptions): Promise<unknown>
}

export interface CoordinationDeps {
  call: Call
  locks: LocksApi
  who: { actor: string; session: string; user: string }
  /** With speculate(), claimNext starts on the last value read while a new read confirms it (coordination.ts). */
  coordination: CoordinationApi & { speculate?(): Speculation }
  claims: RemoteClaims
}

/** The coordination remote changed while a claimNext speculated on the old one: it starts again on the new one. */
class Moved extends Error {}

/** `issues` with claimNext and close going through the coordination remote when one is set. */
export function coordinated<I extends CoordinatedIssues>(issues: I, d: CoordinationDeps): I {
  const holder = { actor: d.who.actor, session: d.who.session }
  const spread = createHash('sha256').update(d.who.session).digest().readUInt32BE(0)
  const checkLocal = (opts: { local?: boolean } | undefined): void => {
    if (opts !== undefined && opts !== null && typeof opts === 'object' && opts.local !== undefined && typeof opts.local !== 'boolean') {
      throw invalidArgument('local', 'must be a boolean')
    }
  }
  const remoteOf = async (opts: { local?: boolean } | undefined): Promise<string | null> => {
    checkLocal(opts)
    return opts?.local === true ? null : d.coordination.get()
  }
  const strip = <T extends { local?: boolean }>(opts: T | undefined): T | undefined => {
    if (opts === undefined || opts === null || typeof opts !== 'object' || !('local' in opts)) return opts
    const { local: _local, ...rest } = opts
    return rest as T
  }

  // The remote says done long past when its holder would have closed it here too (claim-record.ts adoptable):
  // closed on its word, so the issue does not stay open on every board and claimable on none. Best effort:
  // a local lease of the holder not yet lapsed refuses it, and the next claimNext tries again.
  const adopt = async (id: string, record: ClaimRecord): Promise<void> => {
    const reason = `closed on the word of the coordination remote: ${record.holder.actor} finished it at ${new Date(record.at).toISOString()}`
    await issues.close(id, { reason }).catch(() => undefined)
  }

  /** When this board saw the issue reopened after `since`, if it did (its last StateChanged to open). */
  const reopenedAfter = async (id: string, since: number): Promise<number | null> => {
    const events = await d.call<LoggedEvent[]>(M.issueHistory, { id }).catch(() => [] as LoggedEvent[])
    let at: number | null = null
    for (const { event } of events) if (event.kind.type === 'StateChanged' && event.kind.state === 'open' && event.tsUnixMs > since) at = event.tsUnixMs
    return at
  }

  const claimNext = async (opts: CoordinatedClaimOptions): Promise<ClaimResult> => {
    if (opts?.local === true || d.coordination.speculate === undefined) {
      const remote = await remoteOf(opts)
      return remote === null ? issues.claimNext(strip(opts) as ClaimOptions) : claimNextOn(remote, opts, null)
    }
    checkLocal(opts)
    const { guess, fresh } = d.coordination.speculate()
    // Nothing known, or known local: nothing to start before the read (a local claim writes here at once).
    if (guess === undefined || guess === null) {
      const remote = await fresh
      return remote === null ? issues.claimNext(strip(opts) as ClaimOptions) : claimNextOn(remote, opts, null)
    }
    try {
      return await claimNextOn(guess, opts, fresh)
    } catch (err) {
      if (!(err instanceof Moved)) throw err
      const remote = await fresh
      return remote === null ? issues.claimNext(strip(opts) as ClaimOptions) : claimNextOn(remote, opts, null)
    }
  }

  /**
   * claimNext through `remote`. `fresh` (when `remote` is a guess): the
   * setting's read, awaited before anything is written here and before any
   * answer or error; a different value gives back what was claimed on the
   * guessed remote and throws Moved.
   */
  const claimNextOn = async (remote: string, opts: CoordinatedClaimOptions, fresh: Promise<string | null> | null): Promise<ClaimResult> => {
    const confirm = async (claim?: HeldClaim): Promise<void> => {
      if (fresh === null || await fresh === remote) return
      if (claim) await d.claims.release(claim).catch(() => undefined)
      throw new Moved()
    }
    try {
      return await claimNextSteps(remote, opts, confirm)
    } catch (err) {
      // An error from the guessed remote is no answer if the setting names another one.
      if (!(err instanceof Moved)) await confirm()
      throw err
    }
  }

  const claimNextSteps = async (remote: string, opts: CoordinatedClaimOptions, confirm: (claim?: HeldClaim) => Promise<void>): Promise<ClaimResult> => {
    if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object with ttlMs')
    if (opts.label !== undefined && typeof opts.label !== 'string') throw invalidArgument('label', 'must be a string')
    if (opts.autoRenew !== undefined && typeof opts.autoRenew !== 'boolean') throw invalidArgument('autoRenew', 'must be a boolean')
    const skip = new Set<string>()
    let refreshed = false
    for (let round = 0; round < ROUNDS; round++) {
      const ready = await d.call<IssueSummary[]>(M.issueReady, { label: opts.label, limit: CANDIDATES_PER_ROUND + skip.size })
      const candidates = ready.map((i) => i.id).filter((id) => !skip.has(id)).slice(0, CANDIDATES_PER_ROUND)
      if (candidates.length === 0) {
        await confirm()
        return null
      }
      // Hosts start a few places apart in ready order: all starting on the earliest issue, all but one lose a round trip.
      const start = spread % Math.min(candidates.length, SPREAD)
      for (const id of [...candidates.slice(start), ...candidates.slice(0, start)]) {
        // Before the remote claim: the handle's validity must bound the remote claim's life too (a process
        // paused between its push and its local step must not wake up holding a claim another host took over).
        const sent = d.locks.monotonic()
        // The remote first: nothing is written here for an issue another host holds or finished.
        let attempt = await d.claims.claim(remote, id, holder, opts.ttlMs)
        const seen = ready.find((i) => i.id === id)
        if (!attempt.ok && attempt.why === 'done' && attempt.record !== null) {
          // Changed here since the done record: if that change is a reopen, this board is not stale about the close.
          const reopenedAt = seen !== undefined && seen.updatedAt > attempt.record.at ? await reopenedAfter(id, attempt.record.at) : null
          if (reopenedAt !== null) attempt = await d.claims.claim(remote, id, holder, opts.ttlMs, reopenedAt)
        }
        if (!attempt.ok) {
          skip.add(id)
          if (attempt.why === 'done') {
            if (attempt.record !== null && seen !== undefined && adoptable(attempt.record, seen.updatedAt, d.claims.now())) {
              await confirm()
              await adopt(id, attempt.record)
            }
          }
          // A finished issue still ready here (a stale board), or one another host holds: learn every claim at once
          // (one fetch), so the next candidates are judged here instead of by a refused push and a read each.
          if (!refreshed && attempt.record !== null && attempt.record.holder.session !== d.who.session) {
            refreshed = true
            await d.claims.refresh(remote).catch(() => undefined) // only a shortcut: each claim still asks the remote
          }
          continue
        }
        const claim = attempt.claim
        // Nothing is written here on a remote the setting no longer names (the read finished long before the push).
        await confirm(claim)
        let got: { issue: IssueProjection; lease: LeaseInfo; duplicate: boolean } | null
        try {
          got = await d.call(M.issueClaimNext, { actor: d.who.actor, session: d.who.session, user: d.who.user, ttlMs: opts.ttlMs, label: opts.label, opId: opts.opId, issue: id },
            { timeoutMs: opts.timeoutMs, signal: opts.signal })
        } catch (err) {
          await d.claims.release(claim).catch(() => undefined)
          throw err
        }
        if (got === null) {
          // Not claimable here after all (leased locally, closed or blocked on this board): the remote claim goes back.
          await d.claims.release(claim).catch(() => undefined)
          skip.add(id)
          continue
        }
        if (got.issue.id !== id) await d.claims.release(claim).catch(() => undefined) // an opId retry answered its first issue
        const lease = d.locks.adoptGranted(got.lease, opts.ttlMs, opts.autoRenew ?? true, sent)
        if (got.issue.id !== id) return { issue: got.issue, lease, duplicate: got.duplicate }
        bindClaim(d, claim, lease)
        return { issue: got.issue, lease, duplicate: got.duplicate }
      }
    }
    await confirm()
    return null
  }

  const close = async (id: string, opts?: CoordinatedWriteOptions): Promise<unknown> => {
    const remote = await remoteOf(opts)
    if (remote !== null) {
      // A remote-scope lease fences on the holder's side: a lapsed one must not mark the issue done first.
      const fence = opts?.lease as { scope?: unknown; assertValid?: () => void } | undefined
      if (typeof fence === 'object' && fence !== null && fence.scope === 'remote') fence.assertValid?.()
      const full = typeof id === 'string' && ISSUE_ID.test(id) ? id : (await d.call<IssueProjection>(M.issueShow, { id })).id
      await d.claims.done(remote, full, holder, opts?.lease !== undefined)
      try {
        return await issues.close(id, strip(opts))
      } catch (err) {
        // The remote says done under this holder's claim: that is the record. A local lease that lapsed
        // meanwhile (a slow machine) must not leave the issue open here and unclaimable everywhere.
        if (!(err instanceof CairnError) || !['LEASE_LOST', 'LEASE_NOT_HELD'].includes(err.code) || opts?.lease === undefined) throw err
        const { lease: _lease, ...unfenced } = strip(opts) as CoordinatedWriteOptions
        return issues.close(id, unfenced)
      }
    }
    return issues.close(id, strip(opts))
  }

  return { ...issues, claimNext, close }
}

/**
 * The remote claim lives as long as the local lease on its issue (however
 * that is renewed: this handle, or a daemon's holds), goes back at once when
 * the handle releases it, and its loss ends the local lease, fencing the
 * holder's writes.
 */
export function bindClaim(d: Pick<CoordinationDeps, 'locks' | 'claims'>, claim: HeldClaim, lease: LeaseHandle): void {
  const token = lease.token
  d.claims.hold(claim, async () => {
    const st = await d.locks.status(`issue:${claim.issue}`)
    return st.lease !== null && (st.lease as { token?: number }).token === token && st.lease.live
  }, () => { void lease.release().catch(() => undefined) })
  const release = lease.release.bind(lease)
  Object.assign(lease, { release: async () => { try { await release() } finally { await d.claims.release(claim).catch(() => undefined) } } })
}
