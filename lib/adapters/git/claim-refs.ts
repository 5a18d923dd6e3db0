/**
 * Claim refs on a coordination remote (protocol/claim-record.ts). A claim
 * commit (the record is the commit message, the tree the empty one) is
 * written in this process as a loose object (loose-objects.ts: the same
 * bytes, so the same id, `git commit-tree` would write; with
 * `git commit-tree` itself in a repository that is not SHA-1 with loose
 * refs), and moved onto the remote through the user's git binary with
 * `git push --force-with-lease=<ref>:<expected> <commit>:<ref>`, which
 * receive-pack applies only while the ref still holds the expected id (none:
 * it must not exist). That push is the compare-and-swap; git is the whole
 * distributed engine. One push is one network round trip, as plain
 * `git push` of one ref is.
 *
 * Reading fetches into `refs/cairn-claims/<16 hex of the remote>/<issue>` (every claim at once: under `<16 hex>-all/`)
 * (never under refs/cairn/, which Sync and leases own). Collection fetches
 * every claim ref at once and deletes the finished ones in one push, each
 * deletion a compare-and-swap on the tip it judged.
 */
import { createHash } from 'node:crypto'
import { CairnError, invalidArgument } from '../../../protocol/errors.ts'
import { decodeClaim, encodeClaim, CLAIM_REF_PREFIX, type ClaimRecord, type ClaimTip } from '../../../protocol/claim-record.ts'
import { fetchOne, fetchRefs, LEASE_TIMEOUT_MS, placeOf, pushRefs, transportRemote, type GitPlace, type TransportRemote } from './cli-remote.ts'
import { runGit } from './git-cli.ts'
import { commitBody, repoLayout, writeLooseObject, writeLooseRef, type RepoLayout } from './loose-objects.ts'

const TRACKING_PREFIX = 'refs/cairn-claims/'
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
const LOCAL_TIMEOUT_MS = 30_000
/** A fetch that met a tracking ref locked by another git on this clone tries again this often. */
const BUSY_RETRIES = 4

export type ClaimPush = { ok: true } | { ok: false; raced: boolean; message: string | null }

export class ClaimRefs {
  readonly place: GitPlace
  #emptyTree: Promise<void> | null = null
  /** Where to write objects and refs without a git process (null: through git); looked up once. */
  #layout: Promise<RepoLayout | null> | null = null

  constructor(gitDir: string) {
    this.place = placeOf(gitDir)
  }

  /** A configured remote's name, or a URL or path, as git reaches it. A name not configured is NOT_FOUND. */
  async resolve(remote: string): Promise<TransportRemote> {
    if (typeof remote !== 'string' || remote.length === 0 || remote.length > 4096 || /[\0\n\r]/.test(remote) || remote.startsWith('-')) {
      throw invalidArgument('remote', 'must be a remote name, URL or path (1..4096 characters, no control characters, not starting with "-")')
    }
    if (REMOTE_NAME.test(remote) && !remote.includes('.')) {
      const r = await runGit(['config', '--get', `remote.${remote}.url`], { ...this.place, timeoutMs: LOCAL_TIMEOUT_MS })
      const url = r.stdout.trim()
      if (r.code !== 0 || url === '') throw new CairnError('NOT_FOUND', `no remote named ${remote} in this repository`, { remote })
      return transportRemote(remote, url, true)
    }
    return transportRemote(remote, remote, false)
  }

  /** The tracking ref of `issue`'s claim on `remote`. */
  tracking(remote: TransportRemote, issue: string): string {
    return `${TRACKING_PREFIX}${hex16(remote.shown)}/${issue}`
  }

  /** Writes the commit holding `record` on `parent` (null: a root) in this repository; its id. */
  async write(parent: string | null, record: ClaimRecord): Promise<string> {
    const layout = await this.#ensureEmptyTree()
    const seconds = Math.floor(record.at / 1000)
    const email = `${record.holder.actor}@cairn.invalid`
    if (layout !== null) {
      return writeLooseObject(layout.objectsDir, 'commit', commitBody({ tree: EMPTY_TREE, parent, name: 'cairn', email, seconds, message: encodeClaim(record) }))
    }
    const date = `${seconds} +0000`
    const r = await runGit(['commit-tree', EMPTY_TREE, ...(parent === null ? [] : ['-p', parent]), '-F', '-'], {
      ...this.place, timeoutMs: LOCAL_TIMEOUT_MS, input: encodeClaim(record),
      env: { GIT_AUTHOR_NAME: 'cairn', GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: date, GIT_COMMITTER_NAME: 'cairn', GIT_COMMITTER_EMAIL: email, GIT_COMMITTER_DATE: date },
    })
    const id = r.stdout.trim()
    if (r.code !== 0 || !/^[0-9a-f]{40}$/.test(id)) throw new CairnError('INTERNAL', `git commit-tree failed: ${r.stderr.trim().slice(0, 500)}`)
    return id
  }

  /** Moves the remote's `ref` from `expected` (null: absent) to `commit`, or (commit null) deletes it; never forces. */
  async push(remote: TransportRemote, updates: { ref: string; commit: string | null; expected: string | null }[]): Promise<ClaimPush[]> {
    if (updates.length === 0) return []
    const results = await pushRefs(this.place, remote, updates.map((u) => `${u.commit ?? ''}:${u.ref}`), {
      expect: new Map(updates.map((u) => [u.ref, u.expected])), timeoutMs: LEASE_TIMEOUT_MS,
    })
    return results.map((r) => (r.ok ? { ok: true } : { ok: false, raced: r.raced, message: r.message }))
  }

  /** Points the tracking ref at a commit this host pushed (so the next read starts from it). */
  async track(remote: TransportRemote, issue: string, commit: string): Promise<void> {
    const layout = await this.#ensureLayout()
    // Its lock held by a fetch of this clone right now: that fetch sets it from the remote anyway.
    if (layout !== null) writeLooseRef(layout.commonDir, this.tracking(remote, issue), commit)
    else await runGit(['update-ref', this.tracking(remote, issue), commit], { ...this.place, timeoutMs: LOCAL_TIMEOUT_MS })
  }

  /** The remote's claim tip for `issue` now (one fetch), or null when it has none. */
  async read(remote: TransportRemote, issue: string): Promise<ClaimTip | null> {
    const dst = this.tracking(remote, issue)
    for (let attempt = 0; ; attempt++) {
      try {
        const found = await fetchOne(this.place, remote, CLAIM_REF_PREFIX + issue, dst)
        if (!found) {
          await runGit(['update-ref', '-d', dst], { ...this.place, timeoutMs: LOCAL_TIMEOUT_MS })
          return null
        }
        break
      } catch (err) {
        if (!(err instanceof CairnError) || err.code !== 'BUSY' || attempt >= BUSY_RETRIES) throw err
        await new Promise((r) => setTimeout(r, 10 * 2 ** attempt + Math.floor(Math.random() * 10)))
      }
    }
    const tips = await this.#local(dst)
    return tips.get(issue) ?? null
  }

  /** Every claim on the remote (one fetch, pruning the tracking refs of claims it deleted). */
  async readAll(remote: TransportRemote): Promise<Map<string, ClaimTip>> {
    // Its own namespace: single reads and pushes move the per-issue tracking refs all the time,
    // and a wildcard fetch that finds one of them moved under it fails whole.
    const prefix = `${TRACKING_PREFIX}${hex16(remote.shown)}-all/`
    await fetchRefs(this.place, remote, [`+${CLAIM_REF_PREFIX}*:${prefix}*`])
    return this.#local(prefix)
  }

  /** Claim tips under a local tracking prefix (or one ref), by issue id; a malformed one is INVALID_FORMAT. */
  async #local(pattern: string): Promise<Map<string, ClaimTip>> {
    const r = await runGit(['for-each-ref', '--format=%(objectname)%00%(refname)%00%(contents)%01', pattern], { ...this.place, timeoutMs: LOCAL_TIMEOUT_MS })
    if (r.code !== 0) throw new CairnError('INTERNAL', `git for-each-ref failed: ${r.stderr.trim().slice(0, 500)}`)
    const out = new Map<string, ClaimTip>()
    for (const entry of r.stdout.split('\x01')) {
      const [commit, ref, message] = entry.replace(/^\n/, '').split('\0')
      if (!commit || !ref || message === undefined) continue
      const issue = ref.slice(ref.lastIndexOf('/') + 1)
      const record = decodeClaim(message, commit)
      if (record.issue !== issue) throw new CairnError('INVALID_FORMAT', `claim commit ${commit} names issue ${record.issue}, not ${issue}`, { commit })
      out.set(issue, { commit, record })
    }
    return out
  }

  #ensureLayout(): Promise<RepoLayout | null> {
    this.#layout ??= repoLayout(this.place).catch((err) => { this.#layout = null; throw err })
    return this.#layout
  }

  /** The empty tree is in this repository (git's pack-objects reads it when pushing); the layout to write with. */
  async #ensureEmptyTree(): Promise<RepoLayout | null> {
    const layout = await this.#ensureLayout()
    this.#emptyTree ??= (layout !== null
      ? Promise.resolve().then(() => {
        const id = writeLooseObject(layout.objectsDir, 'tree', Buffer.alloc(0))
        if (id !== EMPTY_TREE) throw new CairnError('INTERNAL', `the empty tree hashed to ${id}`)
      })
      : runGit(['hash-object', '-w', '-t', 'tree', '--stdin'], { ...this.place, timeoutMs: LOCAL_TIMEOUT_MS, input: '' }).then((r) => {
        if (r.code !== 0) throw new CairnError('INTERNAL', `git hash-object failed: ${r.stderr.trim().slice(0, 500)}`)
      })).catch((err) => { this.#emptyTree = null; throw err })
    await this.#emptyTree
    return layout
  }
}

const hex16 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16)
