/**
 * Network transport through the user's git binary (git-cli.ts): fetch,
 * push and listing a remote's refs, for Sync and for lease refs. Local
 * object and ref work stays on nodegit; only talking to a remote goes
 * through git, because only git reaches every remote plain git reaches
 * (credential helpers, ssh config and agents, core.sshCommand, insteadOf,
 * proxies).
 *
 * Secrets: a URL with credentials in it never goes on a command line (where
 * any local user can read it in /proc); it reaches git as a one-off remote
 * defined through GIT_CONFIG_* environment variables, which only this user
 * can read. Every message that leaves is redacted (cli-failure.ts).
 *
 * Pushes never force: `--force-with-lease=<ref>:<old>` is used only as a
 * compare-and-swap on a commit built on `<old>`, i.e. a fast-forward that
 * must also find the remote ref still at `<old>` (receive-pack checks the
 * old id under the ref's lock). `--no-verify`: the user's pre-push hook is
 * for their branches, not for Cairn's bookkeeping refs.
 */
import { basename, dirname } from 'node:path'
import { invalidArgument, type CairnError } from '../../../protocol/errors.ts'
import { redactText, redactUrl, secretsOf } from '../../../protocol/redact.ts'
import { runGit, type GitRunResult } from './git-cli.ts'
import { transportFailure, type CredentialSources } from './cli-failure.ts'

/** How long one network call may take before git is stopped (UNREACHABLE). */
export const FETCH_TIMEOUT_MS = 10 * 60_000
export const PUSH_TIMEOUT_MS = 10 * 60_000
/** Lease reads and appends are small; a remote that takes longer is as good as down for a lease. */
export const LEASE_TIMEOUT_MS = 60_000
/** A fetch that found a local ref locked by another git (a second runtime on this clone) is retried this often. */
const LOCKED_RETRIES = 4

// `src:dst` or `+src:dst`, dst under refs/; src a ref or a commit id. No shell or option syntax reaches git.
const REFSPEC = /^\+?(?:refs\/[^\s:]+|[0-9a-f]{40}):refs\/[^\s:]+$/
/** The one-off remote name a secret-bearing URL is given through the environment. */
const ENV_REMOTE = 'cairn-transport'

/** The repository git runs in. */
export interface GitPlace { gitDir: string; cwd: string }

/** Where git runs for a repository whose git dir is `gitDir`: relative remote paths resolve from its work tree, as for git run at its top. */
export function placeOf(gitDir: string): GitPlace {
  const dir = gitDir.replace(/[/\\]+$/, '')
  return { gitDir: dir, cwd: basename(dir) === '.git' ? dirname(dir) : dir }
}

/**
 * A remote as the transport reaches it. `shown` is safe to print and store;
 * `via` (a configured remote's name, or the URL itself) may hold a secret.
 */
export interface TransportRemote {
  /** The URL with secrets redacted: for messages, reports, keys, stores. */
  shown: string
  /** What git is pointed at: a configured remote name, or the URL (possibly with credentials). */
  via: string
  /** The URL git connects to (the configured one for a name), for classifying failures. */
  url: string
  /** Whether `via` names a configured remote. */
  named: boolean
}

/** A remote by name (with its configured URL) or by URL/path. */
export function transportRemote(via: string, url: string, named: boolean): TransportRemote {
  return { shown: redactUrl(url), via, url, named }
}

function checkRefspecs(refspecs: unknown): asserts refspecs is string[] {
  if (!Array.isArray(refspecs) || refspecs.some((r) => typeof r !== 'string' || !REFSPEC.test(r))) {
    throw invalidArgument('refspecs', 'must be an array of [+]refs/...:refs/... refspecs')
  }
}

/** The remote argument and environment for one call: a secret-bearing URL goes through the environment. */
function addressOf(remote: TransportRemote): { arg: string; env: Record<string, string> } {
  if (remote.named || secretsOf(remote.via).length === 0) {
    // A URL git would read as an option must not reach its command line.
    if (remote.via.startsWith('-')) throw invalidArgument('remote', 'must not start with "-"')
    return { arg: remote.via, env: {} }
  }
  return { arg: ENV_REMOTE, env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `remote.${ENV_REMOTE}.url`, GIT_CONFIG_VALUE_0: remote.via } }
}

/** What the user's git configuration offers for credentials (kinds only, never arguments). */
async function credentialSources(place: GitPlace): Promise<CredentialSources> {
  const r = await runGit(['config', '--get-regexp', '^credential\\..*helper$|^core\\.sshcommand$'], { ...place, timeoutMs: 10_000 })
  const helpers = new Set<string>()
  let sshCommand = false
  for (const line of r.stdout.split('\n')) {
    const space = line.indexOf(' ')
    const key = (space < 0 ? line : line.slice(0, space)).toLowerCase()
    const value = space < 0 ? '' : line.slice(space + 1).trim()
    if (key === 'core.sshcommand') sshCommand = value !== ''
    else if (value !== '') helpers.add(value.startsWith('!') ? 'a shell command' : /^[A-Za-z0-9._-]+/.exec(value.replace(/^.*[/\\]git-credential-/, ''))?.[0] ?? 'a program')
  }
  return { helpers: [...helpers], sshCommand }
}

async function run(place: GitPlace, remote: TransportRemote, args: (arg: string) => string[], timeoutMs: number, signal?: AbortSignal): Promise<GitRunResult> {
  const { arg, env } = addressOf(remote)
  return runGit(args(arg), { ...place, env, timeoutMs, signal })
}

function failure(place: GitPlace, remote: TransportRemote, doing: string, r: GitRunResult): Promise<CairnError> {
  return transportFailure(r, {
    doing, shown: remote.shown, url: remote.url, secrets: [...secretsOf(remote.via), ...secretsOf(remote.url)],
    credentials: () => credentialSources(place),
  })
}

/**
 * Fetches by refspec, pruning local refs the refspecs map to that the
 * remote no longer has. A remote without matching refs fetches nothing.
 * @example await fetchRefs(place, remote, ['+refs/cairn/wal/*:refs/cairn-sync/0123/wal/*'])
 */
export async function fetchRefs(place: GitPlace, remote: TransportRemote, refspecs: string[], opts: { prune?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  checkRefspecs(refspecs)
  for (let attempt = 0; ; attempt++) {
    const r = await run(place, remote, (arg) => [
      'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--recurse-submodules=no', ...(opts.prune === false ? [] : ['--prune']), arg, ...refspecs,
    ], FETCH_TIMEOUT_MS, opts.signal)
    if (r.code === 0) return
    const err = await failure(place, remote, 'fetch', r)
    // Another runtime on this clone fetching the same tracking refs right now: its fetch wins, ours tries again.
    if (err.code !== 'BUSY' || attempt >= LOCKED_RETRIES) throw err
    await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt + Math.floor(Math.random() * 20)))
  }
}

/**
 * Fetches one ref into `dst`: true when the remote has it, false when it
 * does not (nothing changes then).
 */
export async function fetchOne(place: GitPlace, remote: TransportRemote, ref: string, dst: string, signal?: AbortSignal): Promise<boolean> {
  checkRefspecs([`+${ref}:${dst}`])
  const r = await run(place, remote, (arg) => [
    'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--recurse-submodules=no', arg, `+${ref}:${dst}`,
  ], LEASE_TIMEOUT_MS, signal)
  if (r.code === 0) return true
  if (/couldn't find remote ref/i.test(r.stderr)) return false
  throw await failure(place, remote, 'fetch', r)
}

/** One ref a push tried to update, as git reported it. */
export interface PushResult {
  ref: string
  ok: boolean
  /** git's summary when refused: `[rejected] (non-fast-forward)`, `[remote rejected] (hook declined)`, `[rejected] (stale info)`. */
  message: string | null
  /** The remote moved under us: not a fast-forward of what it has now, or a compare-and-swap that found another value. */
  raced: boolean
}

/**
 * Pushes `<src>:<dst>` refspecs without force. `expect` turns a ref's
 * update into a compare-and-swap: it applies only while the remote ref is
 * at the given id (null: must not exist); `:<dst>` deletes that way. Refs refused one by one come
 * back with `ok: false`; a push that could not run at all throws.
 */
export async function pushRefs(place: GitPlace, remote: TransportRemote, refspecs: string[], opts: { expect?: Map<string, string | null>; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<PushResult[]> {
  // `:<dst>` deletes, and only as a compare-and-swap on the id it must still have.
  const deletions = refspecs.filter((r) => typeof r === 'string' && r.startsWith(':'))
  if (deletions.some((r) => typeof opts.expect?.get(r.slice(1)) !== 'string')) throw invalidArgument('refspecs', 'a deletion needs the id the remote ref must still have')
  checkRefspecs(refspecs.map((r) => (typeof r === 'string' && r.startsWith(':') ? `${opts.expect?.get(r.slice(1))}${r}` : r)))
  if (refspecs.some((r) => r.startsWith('+'))) throw invalidArgument('refspecs', 'Cairn never force-pushes')
  if (refspecs.length === 0) return []
  const leases = [...(opts.expect ?? new Map())].map(([ref, old]) => `--force-with-lease=${ref}:${old ?? ''}`)
  const r = await run(place, remote, (arg) => ['push', '--porcelain', '--no-verify', ...leases, arg, ...refspecs],
    opts.timeoutMs ?? PUSH_TIMEOUT_MS, opts.signal)
  const lines = parsePorcelain(r.stdout)
  if (lines.size === 0 && r.code !== 0) throw await failure(place, remote, 'push', r)
  const secrets = [...secretsOf(remote.via), ...secretsOf(remote.url)]
  return refspecs.map((spec) => {
    const dst = spec.slice(spec.indexOf(':') + 1)
    const line = lines.get(dst)
    if (!line) return { ref: dst, ok: r.code === 0, message: r.code === 0 ? null : redactText(`not reported by git push (exit ${r.code})`, secrets), raced: false }
    const ok = line.flag !== '!'
    const raced = !ok && /non-fast-forward|fetch first|stale info|failed to update ref|cannot lock ref|failed to lock|incorrect old value|is at [0-9a-f]+ but expected/i.test(line.summary)
    return { ref: dst, ok, message: ok ? null : redactText(line.summary, secrets), raced }
  })
}

/** `git push --porcelain` lines: `<flag>\t<src>:<dst>\t<summary>` per ref, keyed by dst. */
function parsePorcelain(stdout: string): Map<string, { flag: string; summary: string }> {
  const out = new Map<string, { flag: string; summary: string }>()
  for (const line of stdout.split('\n')) {
    const m = /^([ +\-*!=])\t([^\t]*):([^\t]*)\t(.*)$/.exec(line)
    if (m) out.set(m[3] as string, { flag: m[1] as string, summary: (m[4] as string).trim() })
  }
  return out
}

/** The refs a remote advertises under `prefix`, name → commit (no objects are fetched). */
export async function listRemote(place: GitPlace, remote: TransportRemote, prefix: string, signal?: AbortSignal): Promise<Map<string, string>> {
  if (typeof prefix !== 'string' || !prefix.startsWith('refs/') || /[\s*?[\\]/.test(prefix)) throw invalidArgument('prefix', 'must start with refs/ and hold no pattern characters')
  const r = await run(place, remote, (arg) => ['ls-remote', '--refs', arg], LEASE_TIMEOUT_MS, signal)
  if (r.code !== 0) throw await failure(place, remote, 'listing refs of', r)
  const out = new Map<string, string>()
  for (const line of r.stdout.split('\n')) {
    const m = /^([0-9a-f]{40})\t(\S+)$/.exec(line)
    if (m && (m[2] as string).startsWith(prefix)) out.set(m[2] as string, m[1] as string)
  }
  return out
}
