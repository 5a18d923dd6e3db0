/**
 * The lease table as this thread's writers see it: what the store holds,
 * under the lease writes still in flight on the store's write chain. It is
 * the {@link LeaseSource} the rules decide against, for the LockKeeper's own
 * operations and for the claims the RepoWorker makes through its LeaseGate
 * (gate.ts): both write on one chain, so each decision sees every earlier
 * one, committed or not, and a block refused because another runtime wrote
 * the table meanwhile is decided again after {@link LeaseLedger.reload}.
 *
 * Staged writes are tagged with a {@link Ticket}, one per block; settling
 * the ticket (its block is durable, or was refused) drops them, and reads
 * fall through to the disk. Reads of the disk alone ({@link committed}) are
 * what list and status show: no answer shows a grant that could still fail.
 *
 * Tokens this thread saw committed are also remembered (per store, across
 * LockKeeper restarts): a token is never handed out again from here even if
 * a later read of the disk shows an older one: lmdb-js's prebuilt LMDB lost
 * commits so (LMDB ITS#9496, scripts/patch-lmdb.mjs), and the write chain,
 * which refuses blocks decided on such reads, takes the disk as it is once
 * its bounded wait for the store to catch up runs out.
 *
 * Cost: a decision on `issue:x` reads two keys and the `repo:` range; on
 * `path:a/b` also the path's ancestors and its descendants' range; `repo:`
 * reads the whole table. Writes in flight are indexed by kind, so claims
 * in flight by the thousand do not slow the next one down.
 */
import type { RootDatabase } from 'lmdb'
import type { LeaseBreak } from '../../protocol/messages.ts'
import type { LeasePolicy } from '../../protocol/results.ts'
import { REMOVE, type RecordedWrite } from '../../lib/kernel/store/recorded-writes.ts'
import type { Lease, LeaseChanges, LeaseSource, Resource } from './leases.ts'
import { GRACE_KEY, openLeaseDbs, POLICY_KEY, type LeaseDbs } from './store.ts'

/** Tokens committed from this thread, per store: resource key -> highest. Bounded; the oldest are forgotten first. */
const committedTokens = new WeakMap<RootDatabase, Map<string, number>>()
const MAX_REMEMBERED_TOKENS = 100_000

/** The writes of one block; identity only. */
export class Ticket {
  readonly entries: Array<[Map<string, Pending<unknown>>, string]> = []
  /** The tokens the block writes, remembered once it applied. */
  readonly tokens: Array<[string, number]> = []
}

interface Pending<V> { value: V; ticket: Ticket }

type Overlay<V> = Map<string, Pending<V>>

export class LeaseLedger implements LeaseSource {
  readonly #env: RootDatabase
  readonly dbs: LeaseDbs
  /** In flight, by kind of resource; `null` is a removal. */
  readonly #leases: Record<Resource['kind'], Overlay<Lease | null>> = { repo: new Map(), path: new Map(), issue: new Map() }
  readonly #tokens: Overlay<number> = new Map()
  readonly #config: Overlay<LeasePolicy | number> = new Map()
  readonly #breaks: Overlay<LeaseBreak> = new Map()
  readonly #committedTokens: Map<string, number>
  /** Issues whose lease was removed, in order; `#freedBase` is the cursor of the first kept. */
  #freed: string[] = []
  #freedBase = 0

  constructor(env: RootDatabase) {
    this.#env = env
    this.dbs = openLeaseDbs(env)
    let remembered = committedTokens.get(env)
    if (!remembered) committedTokens.set(env, remembered = new Map())
    this.#committedTokens = remembered
  }

  get(key: string): Lease | undefined {
    const p = this.#overlayOf(key).get(key)
    if (p) return p.value ?? undefined
    return this.dbs.leases.get(key)
  }

  lastToken(key: string): number {
    const known = this.#tokens.get(key)?.value ?? this.dbs.tokens.get(key) ?? 0
    return Math.max(known, this.#committedTokens.get(key) ?? 0)
  }

  candidates(resource: Resource): Iterable<Lease> {
    const found = new Map<string, Lease>()
    const { leases } = this.dbs
    const range = (start: string, end: string): void => {
      for (const { key, value } of leases.getRange({ start, end })) found.set(key as string, value)
    }
    const overlay = (m: Overlay<Lease | null>): void => {
      for (const [k, p] of m) {
        if (p.value === null) found.delete(k)
        else found.set(k, p.value)
      }
    }
    if (resource.kind === 'repo') {
      range('', '\uffff')
      overlay(this.#leases.repo)
      overlay(this.#leases.path)
      overlay(this.#leases.issue)
      return found.values()
    }
    range('repo:', 'repo;')
    overlay(this.#leases.repo)
    if (resource.kind === 'issue') {
      const own = this.get(resource.key)
      if (own) found.set(resource.key, own)
      return found.values()
    }
    // A path: its ancestors, itself and its descendants ('0' follows '/').
    const name = resource.name
    for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
      const own = this.dbs.leases.get(`path:${name.slice(0, i)}`)
      if (own) found.set(own.resource, own)
    }
    const self = this.dbs.leases.get(resource.key)
    if (self) found.set(resource.key, self)
    range(`${resource.key}/`, `${resource.key}0`)
    overlay(this.#leases.path)
    return found.values()
  }

  /** The repository's lease policy (off until set). */
  policy(): LeasePolicy {
    return (this.#config.get(POLICY_KEY)?.value ?? this.dbs.config.get(POLICY_KEY) ?? 'off') as LeasePolicy
  }

  /** The grace new leases get, or `fallback` when never set. */
  grace(fallback: number): number {
    const v = this.#config.get(GRACE_KEY)?.value ?? this.dbs.config.get(GRACE_KEY)
    return typeof v === 'number' ? v : fallback
  }

  /** The record of the break that ended `resource`'s lease with `token`, if one did. */
  breakOf(resource: string, token: number): LeaseBreak | undefined {
    return this.#breaks.get(`${resource}\0${token}`)?.value ?? this.dbs.breaks.get([resource, token])
  }

  /** Only what is durable: the disk alone. */
  get committed(): { all(): Lease[]; get(key: string): Lease | undefined; policy(): LeasePolicy; grace(fallback: number): number } {
    const { leases, config } = this.dbs
    return {
      all: () => [...leases.getRange({})].map(({ value }) => value),
      get: (key) => leases.get(key),
      policy: () => (config.get(POLICY_KEY) ?? 'off') as LeasePolicy,
      grace: (fallback) => {
        const v = config.get(GRACE_KEY)
        return typeof v === 'number' ? v : fallback
      },
    }
  }

  /** Stages a decision's changes under `ticket`; returns the writes for its block. */
  stage(changes: LeaseChanges, ticket: Ticket): RecordedWrite[] {
    const { leases, tokens } = this.dbs
    const writes: RecordedWrite[] = []
    for (const key of changes.remove) {
      this.#pend(this.#overlayOf(key), key, null, ticket)
      writes.push({ db: leases, key, value: REMOVE })
      if (key.startsWith('issue:')) this.#free(key.slice('issue:'.length))
    }
    for (const lease of changes.put) {
      this.#pend(this.#overlayOf(lease.resource), lease.resource, lease, ticket)
      writes.push({ db: leases, key: lease.resource, value: lease })
    }
    for (const [key, token] of changes.tokens) {
      this.#pend(this.#tokens, key, token, ticket)
      ticket.tokens.push([key, token])
      writes.push({ db: tokens, key, value: token })
    }
    return writes
  }

  stageConfig(key: typeof POLICY_KEY | typeof GRACE_KEY, value: LeasePolicy | number, ticket: Ticket): RecordedWrite {
    this.#pend(this.#config, key, value, ticket)
    return { db: this.dbs.config, key, value }
  }

  stageBreak(record: LeaseBreak, ticket: Ticket): RecordedWrite {
    this.#pend(this.#breaks, `${record.resource}\0${record.token}`, record, ticket)
    return { db: this.dbs.breaks, key: [record.resource, record.token], value: record }
  }

  /**
   * The block of `ticket` came back: applied (its writes are on the disk
   * now) or refused (they never will be). Either way the disk answers again
   * for what it staged, unless a later block staged over it.
   */
  settle(ticket: Ticket, applied: boolean): void {
    for (const [m, key] of ticket.entries) if (m.get(key)?.ticket === ticket) m.delete(key)
    if (applied) for (const [key, token] of ticket.tokens) this.#remember(key, token)
    ticket.entries.length = 0
    ticket.tokens.length = 0
    // This turn's read transaction may predate the commit.
    if (applied) this.#env.resetReadTxn()
  }

  /**
   * Issues whose lease was removed since `cursor` (a hint: a refused block's
   * removal is in it too; the claim that follows decides on the ledger).
   */
  freed(cursor: number): { cursor: number; ids: string[]; stale: boolean } {
    const end = this.#freedBase + this.#freed.length
    if (cursor < this.#freedBase || cursor > end) return { cursor: end, ids: [], stale: true }
    return { cursor: end, ids: this.#freed.slice(cursor - this.#freedBase), stale: false }
  }

  #free(issueId: string): void {
    this.#freed.push(issueId)
    if (this.#freed.length > 4096) {
      this.#freed = this.#freed.slice(2048)
      this.#freedBase += 2048
    }
  }

  /** The store's write chain was refused and re-read: forget every staged write, the disk says what holds. */
  reload(): void {
    for (const m of Object.values(this.#leases)) m.clear()
    this.#tokens.clear()
    this.#config.clear()
    this.#breaks.clear()
  }

  #remember(key: string, token: number): void {
    const m = this.#committedTokens
    if (token <= (m.get(key) ?? 0)) return
    m.delete(key)
    m.set(key, token)
    if (m.size > MAX_REMEMBERED_TOKENS) m.delete(m.keys().next().value as string)
  }

  #overlayOf(key: string): Overlay<Lease | null> {
    const kind = key.slice(0, key.indexOf(':')) as Resource['kind']
    return this.#leases[kind] ?? this.#leases.repo
  }

  #pend<V>(m: Overlay<V>, key: string, value: V, ticket: Ticket): void {
    m.set(key, { value, ticket })
    ticket.entries.push([m as Map<string, Pending<unknown>>, key])
  }
}
