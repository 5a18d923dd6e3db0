/**
 * `repo.issues`: the issue board of one repository, written as this handle's
 * actor. Ids may be given in full or as a unique prefix of at least 4 hex
 * characters. The RepoWorker validates every argument (INVALID_ARGUMENT with
 * `details.field`); here only the shape of the call is checked, so a bad
 * call fails the same way through the library, the daemon and the CLI.
 *
 * Writes resolve once their events are durable. Pass `opId` to make a retry
 * (after a timeout or a restart) apply at most once.
 */
import { CairnError, invalidArgument } from '../../protocol/errors.ts'
import { MESSAGE_TYPES as M, type LoggedEvent, type WriteResult } from '../../protocol/messages.ts'
import type { DepType } from '../../protocol/events/types.ts'
import type { IssueProjection } from '../../protocol/results.ts'
import type { IssueSummary, TopoView } from '../../protocol/results.ts'
import type { Call, CallOptions } from './call.ts'
import { checkPlainFields } from './plain-data.ts'

export type WriteOptions = CallOptions & {
  opId?: string
  /**
   * Fence the write on a lease: refused with LEASE_LOST unless this is the
   * writer's live lease covering the issue. A remote-scope handle (its chain
   * lives on a git remote) fences on the holder's side: it must be
   * {@link LeaseHandle.valid} and lease exactly `issue:<this issue>`.
   */
  lease?: { token: number } | number
}

/** A remote-scope lease handle, as far as fencing needs it. */
type RemoteFence = { token: number; scope: 'remote'; resource: string; valid: () => boolean; release?: () => Promise<void> }
const remoteFence = (lease: unknown): lease is RemoteFence => typeof lease === 'object' && lease !== null &&
  (lease as { scope?: unknown }).scope === 'remote' && typeof (lease as { valid?: unknown }).valid === 'function' && typeof (lease as { resource?: unknown }).resource === 'string'
const FULL_ID = /^[0-9a-f]{32}$/

/** A page of a listing: at most `limit` issues, after the issue `after` (a full id, the last of the previous page). */
export interface Page { limit?: number; after?: string }

/** A lease a close can end: a handle (claimNext's), or `{ token, id }` as granted. */
export type ClosingLease = { token: number; leaseId?: string; id?: string; forget?: () => void } | number

export type CloseOptions = Omit<WriteOptions, 'lease'> & {
  /** Recorded with the close, as a comment before it. */
  reason?: string
  /** Fences the close and, with the lease id (a handle carries it), releases the lease: the claim ends with the issue. */
  lease?: ClosingLease
}

export interface IssuesApi {
  create(fields: { title: string; body?: string; labels?: string[] }, opts?: WriteOptions): Promise<IssueProjection>
  show(id: string, opts?: CallOptions): Promise<IssueProjection>
  /**
   * Complete issues, earliest created first (then by id); all states unless
   * `state` is given. At most `limit`; `after` (the id of the last issue of
   * the previous page) starts the page right after that issue.
   */
  list(filter?: { state?: 'open' | 'closed' | 'all'; label?: string; assignee?: string } & Page, opts?: CallOptions): Promise<IssueSummary[]>
  update(id: string, fields: { title?: string; body?: string }, opts?: WriteOptions): Promise<WriteResult>
  comment(id: string, body: string, opts?: WriteOptions): Promise<WriteResult>
  /** Closes the issue; `reason` is recorded, and the claim's `lease` (fenced) is released in the same step. A closed issue answers `noop: true`. */
  close(id: string, opts?: CloseOptions): Promise<WriteResult>
  reopen(id: string, opts?: WriteOptions): Promise<WriteResult>
  label(id: string, change: { add?: string[]; remove?: string[] }, opts?: WriteOptions): Promise<WriteResult>
  assign(id: string, change: { add?: string[]; remove?: string[] }, opts?: WriteOptions): Promise<WriteResult>
  link(id: string, link: { url: string; note?: string }, opts?: WriteOptions): Promise<WriteResult>
  /** Attachment metadata only: the content lives elsewhere, addressed by its sha256. */
  attach(id: string, file: { name: string; sha256: string; mime: string }, opts?: WriteOptions): Promise<WriteResult>
  /**
   * Adds (or with `remove`, removes) a dependency from `id` to `target`.
   * `blocks`/`depends_on` that would close a cycle are refused with CYCLE.
   */
  depend(id: string, dep: { target: string; type: DepType; remove?: boolean }, opts?: WriteOptions): Promise<WriteResult>
  /**
   * Open issues with no open (or unknown) blocker and no live claim (lease
   * on `issue:<id>`), earliest created first. `includeClaimed` lists claimed
   * ones too, each with `claimedBy`.
   */
  ready(filter?: { label?: string; includeClaimed?: boolean } & Page, opts?: CallOptions): Promise<IssueSummary[]>
  /** Open issues in dependency order (the first `limit` of them); cycles merged from replicas are reported, not thrown. */
  topo(opts?: CallOptions & { limit?: number }): Promise<TopoView>
  /** The issue's events in projection order. */
  history(id: string, opts?: CallOptions): Promise<LoggedEvent[]>
}

function record(v: unknown, field: string, optional = false): Record<string, unknown> {
  if (v === undefined && optional) return {}
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgument(field, 'must be an object')
  return v as Record<string, unknown>
}

/** `call` reaches the RepoWorker; `query` answers reads (on this thread where it can). */
export function issuesApi(call: Call, query: Call, actor: string): IssuesApi {
  // Only named fields cross the thread: unknown keys and prototypes stay behind.
  // The remote chain is on another machine: what fences here is the holder's own bound (valid() is false before
  // anyone else could take the lease over) and the lease being on exactly this issue.
  const checkRemote = async (lease: RemoteFence, id: unknown, opts?: CallOptions): Promise<void> => {
    if (!lease.valid()) {
      throw new CairnError('LEASE_LOST', `remote lease on ${lease.resource} with epoch ${lease.token} is no longer valid`, { resource: lease.resource, token: lease.token })
    }
    const leased = lease.resource.startsWith('issue:') ? lease.resource.slice('issue:'.length) : null
    const issue = typeof id === 'string' && FULL_ID.test(id) ? id : (await read<IssueProjection>(M.issueShow, { id }, opts)).id
    if (leased !== issue) {
      throw new CairnError('LEASE_LOST', `remote lease on ${lease.resource} does not cover issue:${issue}`, { resource: `issue:${issue}`, token: lease.token })
    }
  }
  const write = async <T>(type: string, fields: Record<string, unknown>, opts?: WriteOptions): Promise<T> => {
    let lease = opts?.lease
    if (remoteFence(lease)) {
      await checkRemote(lease, fields.id, opts)
      lease = undefined
    }
    const leaseToken = typeof lease === 'object' && lease !== null ? lease.token : lease
    const body = { ...fields, actor, opId: opts?.opId, leaseToken }
    checkPlainFields(body)
    return call<T>(type, body, opts)
  }
  const read = async <T>(type: string, fields: Record<string, unknown>, opts?: CallOptions): Promise<T> => {
    checkPlainFields(fields)
    return query<T>(type, fields, opts)
  }
  return {
    create: async (fields, opts) => {
      const f = record(fields, 'fields')
      return write(M.issueCreate, { title: f.title, body: f.body, labels: f.labels }, opts)
    },
    show: async (id, opts) => read(M.issueShow, { id }, opts),
    list: async (filter, opts) => {
      const f = record(filter, 'filter', true)
      return read(M.issueList, { state: f.state, label: f.label, assignee: f.assignee, limit: f.limit, after: f.after }, opts)
    },
    update: async (id, fields, opts) => {
      const f = record(fields, 'fields')
      return write(M.issueUpdate, { id, title: f.title, body: f.body }, opts)
    },
    comment: async (id, body, opts) => write(M.issueComment, { id, body }, opts),
    close: async (id, opts) => {
      const lease = opts?.lease
      if (remoteFence(lease)) {
        // Fenced like any write; the remote lease ends with the issue, as a local claim's does.
        const r = await write<WriteResult>(M.issueState, { id, state: 'closed', reason: opts?.reason }, opts as WriteOptions)
        await lease.release?.().catch(() => undefined)
        return r
      }
      const leaseId = typeof lease === 'object' && lease !== null ? (lease.leaseId ?? lease.id) : undefined
      const r = await write<WriteResult>(M.issueState, { id, state: 'closed', reason: opts?.reason, ...(leaseId !== undefined ? { leaseId } : {}) },
        opts as WriteOptions | undefined)
      // The handle's lease ended with the close: it must not heartbeat a released lease.
      if (r.released && typeof lease === 'object' && lease !== null) lease.forget?.()
      return r
    },
    reopen: async (id, opts) => write(M.issueState, { id, state: 'open' }, opts),
    label: async (id, change, opts) => {
      const c = record(change, 'change')
      return write(M.issueLabel, { id, add: c.add, remove: c.remove }, opts)
    },
    assign: async (id, change, opts) => {
      const c = record(change, 'change')
      return write(M.issueAssign, { id, add: c.add, remove: c.remove }, opts)
    },
    link: async (id, link, opts) => {
      const l = record(link, 'link')
      return write(M.issueLink, { id, url: l.url, note: l.note }, opts)
    },
    attach: async (id, file, opts) => {
      const f = record(file, 'file')
      return write(M.issueAttach, { id, name: f.name, sha256: f.sha256, mime: f.mime }, opts)
    },
    depend: async (id, dep, opts) => {
      const d = record(dep, 'dependency')
      return write(M.issueDepend, { id, target: d.target, type: d.type, remove: d.remove }, opts)
    },
    ready: async (filter, opts) => {
      const f = record(filter, 'filter', true)
      return read(M.issueReady, { label: f.label, limit: f.limit, after: f.after, includeClaimed: f.includeClaimed }, opts)
    },
    topo: async (opts) => {
      const o = record(opts, 'options', true)
      return read(M.issueTopo, o.limit !== undefined ? { limit: o.limit } : {}, opts)
    },
    history: async (id, opts) => read(M.issueHistory, { id }, opts),
  }
}
