/**
 * Claims on a repository's coordination remote (issue 19): one claim per
 * issue across every machine that shares the remote. The rules are in
 * protocol/claim-record.ts (pure), git in lib/adapters/git/claim-refs.ts;
 * this file decides which tip to build on and what a refused push means.
 *
 * One push round trip per claim: the next record is built on the tip this
 * host last saw (none, for an issue it never met: most issues are claimed
 * once), so an uncontended claim is one `git push --force-with-lease`. Only a
 * refused push costs a read (one fetch) and a second try. Claims of
 * different issues run at once (no lane): each is its own ref and its own
 * compare-and-swap on the remote. A claim that cannot reach the remote
 * fails UNREACHABLE (or AUTH_FAILED); nothing falls back to a local claim.
 *
 * Held claims are renewed every ttl/3 until released, done or lost; a loss
 * (another host took the lapsed claim, or the remote refused the renewal)
 * is reported to the caller, which ends the local lease with it.
 */
import { CairnError } from '../../../protocol/errors.ts'
import {
  claimRecord, claimRef, collectable, doneClaim, isLive, releaseClaim, renewClaim,
  type ClaimHolder, type ClaimRecord, type ClaimTip,
} from '../../../protocol/claim-record.ts'
import { ClaimRefs } from '../../adapters/git/claim-refs.ts'
import type { TransportRemote } from '../../adapters/git/cli-remote.ts'

/** How long past a claim's expiry others still wait (clock skew between hosts). */
export const CLAIM_GRACE_MS = 2_000
/** How long a done claim stays on the remote, telling stale boards the issue is finished. */
export const DONE_RETENTION_MS = 15 * 60_000
/** Tips remembered per remote and issue; past it the oldest is forgotten (its next claim costs a read). */
const MAX_KNOWN = 100_000
/** A remembered tip younger than this is trusted without reading the remote again. */
const FRESH_MS = 1_000
/**
 * Another holder's live claim, remembered, is trusted this long (at most
 * until it could lapse): it only ends early by a release, and missing one
 * for a few seconds costs this host an issue another host picks up, while
 * reading every held candidate again each second cost a round trip each
 * under contention.
 */
const HELD_TRUST_MS = 5_000
/** Every claim is read at once at most this often per remote. */
const REFRESH_MS = 2_000
/** Attempts of one claim/renew/done against a chain that keeps moving. */
const ATTEMPTS = 3
/** A runtime that finishes or gives back claims on a remote collects it at most this often (one fetch + one push, in the background). */
export const COLLECT_EVERY_MS = 5 * 60_000

export interface HeldClaim {
  /** The remote as shown (redacted). */
  remote: string
  issue: string
  holder: ClaimHolder
  /** The claim's fencing token on the remote. */
  token: number
  ttlMs: number
  tip: ClaimTip
}

export type ClaimAttempt =
  | { ok: true; claim: HeldClaim; pushes: number }
  /** `record`: what refused it (null: another claim of this runtime is deciding it right now). */
  | { ok: false; why: 'done' | 'held'; record: ClaimRecord | null }

export interface CollectReport { remote: string; seen: number; deleted: number; kept: number }

export class RemoteClaims {
  readonly #refs: ClaimRefs
  readonly #now: () => number
  readonly #remotes = new Map<string, Promise<TransportRemote>>()
  /** The last tip seen or written, by remote (shown) and issue; null: seen absent. */
  readonly #known = new Map<string, ClaimTip | null>()
  /** When each remembered tip was read from the remote (a tip this host wrote is as fresh as its push). */
  readonly #seenAt = new Map<string, number>()
  /** One refresh of every claim at a time, per remote, at most every REFRESH_MS. */
  readonly #refreshing = new Map<string, { at: number; done: Promise<void> }>()
  readonly #held = new Map<string, { claim: HeldClaim; timer: NodeJS.Timeout | null; onLost: (err: CairnError) => void }>()
  /** Claims on their way to the remote: another agent of this runtime skips them without a round trip. */
  readonly #claiming = new Set<string>()
  /** When each remote may be collected again, and the collection running now. */
  readonly #collectAt = new Map<string, number>()
  #collecting: Promise<unknown> | null = null
  readonly #collectTimers = new Set<NodeJS.Timeout>()

  constructor(gitDir: string, now: () => number = Date.now) {
    this.#refs = new ClaimRefs(gitDir)
    this.#now = now
  }

  async #remote(spec: string): Promise<TransportRemote> {
    let r = this.#remotes.get(spec)
    if (!r) {
      r = this.#refs.resolve(spec)
      r.catch(() => this.#remotes.delete(spec))
      this.#remotes.set(spec, r)
    }
    return r
  }

  #remember(t: TransportRemote, issue: string, tip: ClaimTip | null): void {
    const key = `${t.shown}\n${issue}`
    this.#known.delete(key)
    if (this.#known.size >= MAX_KNOWN) {
      const oldest = this.#known.keys().next().value as string
      this.#known.delete(oldest)
      this.#seenAt.delete(oldest)
    }
    this.#known.set(key, tip)
    this.#seenAt.set(key, this.#now())
  }

  async #read(t: TransportRemote, issue: string): Promise<ClaimTip | null> {
    const tip = await this.#refs.read(t, issue)
    this.#remember(t, issue, tip)
    return tip
  }

  /** Appends `record` on `tip`; true when the remote took it. A refusal other than a moved tip is PUSH_REJECTED. */
  async #append(t: TransportRemote, issue: string, tip: ClaimTip | null, record: ClaimRecord): Promise<ClaimTip | null> {
    const commit = await this.#refs.write(tip?.commit ?? null, record)
    const [r] = await this.#refs.push(t, [{ ref: claimRef(issue), commit, expected: tip?.commit ?? null }])
    if (r?.ok) {
      const next = { commit, record }
      this.#remember(t, issue, next)
      // The tracking ref follows what we pushed: the next read of this clone starts from it. After this
      // turn: the claim's next step (the local claim) goes first.
      setImmediate(() => { this.#refs.track(t, issue, commit).catch(() => undefined) })
      return next
    }
    if (r && !r.raced) throw new CairnError('PUSH_REJECTED', `git push ${t.shown} ${claimRef(issue)}: ${r.message ?? 'refused'}`, { url: t.shown, ref: claimRef(issue) })
    return null
  }

  /** Claims `issue` for `holder` on the remote: one push when nobody moved its chain since this host last saw it. */
  async claim(remote: string, issue: string, holder: ClaimHolder, ttlMs: number, reopenedAt?: number): Promise<ClaimAttempt> {
    claimRef(issue)
    const t = await this.#remote(remote)
    const key = `${t.shown}\n${issue}`
    if (this.#claiming.has(key)) return { ok: false, why: 'held', record: null }
    let tip = this.#known.get(key) ?? null
    // Held by this runtime (we wrote that tip; only we change it until it lapses): no need to ask the remote.
    if (tip !== null && tip.record.state === 'held' && tip.record.holder.session === holder.session && isLive(tip.record, this.#now())) {
      return { ok: false, why: 'held', record: tip.record }
    }
    this.#claiming.add(key)
    try {
      return await this.#claim(t, issue, holder, ttlMs, tip, reopenedAt)
    } finally {
      this.#claiming.delete(key)
    }
  }

  async #claim(t: TransportRemote, issue: string, holder: ClaimHolder, ttlMs: number, known: ClaimTip | null, reopenedAt?: number): Promise<ClaimAttempt> {
    let tip = known
    // A tip read (or written) moments ago is trusted as it is: a live claim there is not read again.
    const age = this.#now() - (this.#seenAt.get(`${t.shown}\n${issue}`) ?? -Infinity)
    const othersLive = tip !== null && tip.record.state === 'held' && tip.record.holder.session !== holder.session && isLive(tip.record, this.#now())
    let fresh = age < (othersLive ? HELD_TRUST_MS : FRESH_MS)
    let pushes = 0
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const step = claimRecord(tip?.record ?? null, { issue, holder, ttlMs, graceMs: CLAIM_GRACE_MS, reopenedAt }, this.#now())
      if (!step.ok) {
        // Done never changes; a claim we remember as live may have ended since: look once.
        if (step.why === 'done' || fresh) return { ok: false, why: step.why, record: step.tip }
        tip = await this.#read(t, issue)
        fresh = true
        continue
      }
      pushes++
      const next = await this.#append(t, issue, tip, step.record)
      if (next) return { ok: true, claim: { remote: t.shown, issue, holder: { ...holder }, token: step.record.epoch, ttlMs, tip: next }, pushes }
      tip = await this.#read(t, issue)
      fresh = true
    }
    throw new CairnError('BUSY', `the claim of issue ${issue} on ${t.shown} keeps moving; retry`, { issue, remote: t.shown })
  }

  /** Renews a held claim (one push); LEASE_LOST when the chain moved past it. */
  async renew(c: HeldClaim): Promise<HeldClaim> {
    const t = await this.#remote(c.remote)
    let tip: ClaimTip | null = c.tip
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const record = renewClaim(tip?.record ?? null, { issue: c.issue, token: c.token, holder: c.holder, ttlMs: c.ttlMs }, this.#now())
      const next = await this.#append(t, c.issue, tip, record)
      if (next) return { ...c, tip: next }
      tip = await this.#read(t, c.issue)
    }
    throw new CairnError('LEASE_LOST', `claim on issue ${c.issue} with epoch ${c.token} is lost: its chain keeps moving`, { resource: `issue:${c.issue}`, token: c.token })
  }

  /** Releases a held claim; one already lost is left as it is. */
  async release(c: HeldClaim): Promise<void> {
    this.#stop(c)
    const t = await this.#remote(c.remote)
    let tip: ClaimTip | null = this.#known.get(`${t.shown}\n${c.issue}`) ?? c.tip
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let record: ClaimRecord
      try {
        record = releaseClaim(tip?.record ?? null, { issue: c.issue, token: c.token, holder: c.holder }, this.#now())
      } catch (err) {
        if (err instanceof CairnError && err.code === 'LEASE_LOST') return
        throw err
      }
      if (await this.#append(t, c.issue, tip, record)) return this.#scheduleCollect(c.remote)
      tip = await this.#read(t, c.issue)
    }
  }

  /**
   * Marks `issue` done on the remote (closing it): the holder's own claim
   * when it holds one, else a done record on whatever is there, unless
   * someone else's claim is live (LEASE_HELD). `fenced` (the close carries
   * the holder's lease): a lost claim is LEASE_LOST, never closed anyway.
   */
  async done(remote: string, issue: string, holder: ClaimHolder, fenced = false): Promise<void> {
    const t = await this.#remote(remote)
    const held = this.#held.get(`${t.shown}\n${issue}`)
    if (held) this.#stop(held.claim)
    let tip: ClaimTip | null = held?.claim.tip ?? this.#known.get(`${t.shown}\n${issue}`) ?? null
    let token = held?.claim.token ?? null
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let record: ClaimRecord | null
      try {
        record = doneClaim(tip?.record ?? null, { issue, holder, token }, this.#now())
      } catch (err) {
        // Our claim lapsed and someone took it. A close fenced on that claim is refused (its work may be
        // being redone); an unfenced one closes as anyone would, against what is there now.
        if (!(err instanceof CairnError) || err.code !== 'LEASE_LOST' || token === null || fenced) throw err
        token = null
        tip = await this.#read(t, issue)
        continue
      }
      if (record === null) return
      if (await this.#append(t, issue, tip, record)) return this.#scheduleCollect(remote)
      tip = await this.#read(t, issue)
    }
    throw new CairnError('BUSY', `the claim of issue ${issue} on ${t.shown} keeps moving; retry`, { issue, remote: t.shown })
  }

  /**
   * Reads every claim on the remote at once (one fetch) into what this host
   * remembers: a host that met one finished issue its board still shows
   * ready has a stale board, and learning every claim costs one round trip
   * instead of one per stale issue. At most once per REFRESH_MS per remote.
   */
  async refresh(remote: string): Promise<void> {
    const t = await this.#remote(remote)
    const now = this.#now()
    const last = this.#refreshing.get(t.shown)
    if (last && now - last.at < REFRESH_MS) return last.done
    const done = this.#refs.readAll(t).then((all) => {
      for (const [issue, tip] of all) this.#remember(t, issue, tip)
    })
    this.#refreshing.set(t.shown, { at: now, done })
    done.catch(() => { if (this.#refreshing.get(t.shown)?.done === done) this.#refreshing.delete(t.shown) })
    return done
  }

  /** The remote's claim on `issue` now (one fetch). */
  async status(remote: string, issue: string): Promise<ClaimRecord | null> {
    claimRef(issue)
    return (await this.#read(await this.#remote(remote), issue))?.record ?? null
  }

  /**
   * Keeps `c` renewed every ttl/3 while `stillHeld()` says the local claim it
   * guards is alive; once it is not (released, closed, lapsed), the remote
   * claim is released. `onLost` hears once of a renewal the remote refused.
   */
  hold(c: HeldClaim, stillHeld: () => Promise<boolean>, onLost: (err: CairnError) => void): void {
    const key = `${c.remote}\n${c.issue}`
    const entry = { claim: c, timer: null as NodeJS.Timeout | null, onLost }
    this.#held.set(key, entry)
    const mine = (): boolean => this.#held.get(key) === entry
    const step = async (): Promise<void> => {
      if (!(await stillHeld().catch(() => true))) {
        if (mine()) await this.release(entry.claim)
        return
      }
      if (!mine()) return
      entry.claim = await this.renew(entry.claim)
      if (mine()) schedule()
    }
    const schedule = (): void => {
      entry.timer = setTimeout(() => {
        step().catch((err: unknown) => {
          if (!mine()) return
          this.#held.delete(key)
          onLost(CairnError.from(err))
        })
      }, Math.max(50, Math.floor(c.ttlMs / 3)))
      entry.timer.unref?.()
    }
    schedule()
  }

  /** This host's clock, as the claim records read it. */
  now(): number {
    return this.#now()
  }

  /** The claim this runtime holds on `issue` through `remote`, if any. */
  held(remote: string, issue: string): HeldClaim | null {
    for (const e of this.#held.values()) if (e.claim.issue === issue && (e.claim.remote === remote)) return e.claim
    return null
  }

  #stop(c: HeldClaim): HeldClaim {
    const key = `${c.remote}\n${c.issue}`
    const e = this.#held.get(key)
    if (e) {
      if (e.timer) clearTimeout(e.timer)
      this.#held.delete(key)
      return e.claim
    }
    return c
  }

  /**
   * Deletes finished claims from the remote so its refs stay bounded: one
   * fetch of every claim ref, one push of the deletions (each a
   * compare-and-swap on the tip judged; one that moved meanwhile stays).
   */
  async collect(remote: string, opts: { doneRetentionMs?: number } = {}): Promise<CollectReport> {
    const t = await this.#remote(remote)
    const all = await this.#refs.readAll(t)
    const now = this.#now()
    const retention = opts.doneRetentionMs ?? DONE_RETENTION_MS
    const doomed = [...all].filter(([, tip]) => collectable(tip.record, now, retention))
    const results = await this.#refs.push(t, doomed.map(([issue, tip]) => ({ ref: claimRef(issue), commit: null, expected: tip.commit })))
    let deleted = 0
    results.forEach((r, i) => {
      if (!r.ok) return
      deleted++
      this.#remember(t, doomed[i]![0], null)
    })
    return { remote: t.shown, seen: all.size, deleted, kept: all.size - deleted }
  }

  /**
   * Keeps the remote's claim refs bounded without anyone calling collect():
   * a runtime that ends a claim on a remote collects it in the background
   * once that claim can go (a grace after a release), then at most every
   * COLLECT_EVERY_MS, one collection at a time. A failed collection is only
   * late: the next one deletes the same refs.
   */
  #scheduleCollect(remote: string): void {
    const now = this.#now()
    if (now < (this.#collectAt.get(remote) ?? -Infinity)) return
    this.#collectAt.set(remote, now + COLLECT_EVERY_MS)
    const timer = setTimeout(() => {
      this.#collectTimers.delete(timer)
      if (this.#collecting !== null) return
      const run = this.collect(remote).catch(() => undefined).finally(() => { if (this.#collecting === run) this.#collecting = null })
      this.#collecting = run
    }, CLAIM_GRACE_MS + 100)
    timer.unref?.()
    this.#collectTimers.add(timer)
  }

  /** The background collection running now, if any (tests and a stopping runtime wait for it). */
  collecting(): Promise<unknown> {
    return this.#collecting ?? Promise.resolve()
  }

  /** Stops every renewal (the runtime is stopping); claims lapse on the remote by themselves. */
  close(): void {
    for (const timer of this.#collectTimers) clearTimeout(timer)
    this.#collectTimers.clear()
    for (const e of this.#held.values()) if (e.timer) clearTimeout(e.timer)
    this.#held.clear()
  }
}

const shared = new Map<string, RemoteClaims>()

/** The one RemoteClaims of a repository in a runtime (its handles share remembered tips and renewals). */
export function claimsFor(gitDir: string, runtime: string, onStop: (fn: () => void) => void): RemoteClaims {
  const key = `${runtime}\n${gitDir}`
  let c = shared.get(key)
  if (!c) {
    const made = new RemoteClaims(gitDir)
    shared.set(key, made)
    onStop(() => {
      made.close()
      if (shared.get(key) === made) shared.delete(key)
    })
    c = made
  }
  return c
}
