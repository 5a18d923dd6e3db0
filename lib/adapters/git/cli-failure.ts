/**
 * A failed git transport call as a coded CairnError, with secrets redacted:
 *
 *   AUTH_FAILED  the remote wants credentials: `details.reason` is
 *                `missing` (none could be found: no helper had them, no
 *                key was accepted), `rejected` (the credentials given were
 *                wrong; git told the helpers to forget them),
 *                `denied` (accepted, but not allowed: HTTP 403), or
 *                `host-key` (ssh does not trust the server's key).
 *                The message says what was tried and what to do.
 *   UNREACHABLE  no route, no server, no repository there.
 *   BUSY         a local ref was locked by a concurrent git (retry).
 *   INTERNAL     anything git said that is none of those (its message kept).
 *
 * Classified on git's and ssh's messages under LC_ALL=C (git-cli.ts); the
 * exit status alone does not say which failure it was.
 */
import { CairnError } from '../../../protocol/errors.ts'
import { redactText } from '../../../protocol/redact.ts'
import type { GitRunResult } from './git-cli.ts'

/** Where a failed call went and what it knows about credentials, for the message. */
export interface FailureContext {
  /** `fetch`, `push`, `listing refs of`: what Cairn was doing. */
  doing: string
  /** The remote as it may be shown (redacted). */
  shown: string
  /** The URL git connected to (may hold a secret: only its kind is used). */
  url: string
  /** Literal secrets to scrub from git's messages. */
  secrets: readonly string[]
  /** What the user's configuration offers for this remote; read only when authentication failed. */
  credentials(): Promise<CredentialSources>
}

export interface CredentialSources {
  /** Credential helpers configured for the URL, by kind (`store`, `cache`, `a shell command`); never their arguments. */
  helpers: string[]
  /** `core.sshCommand` is set. */
  sshCommand: boolean
}

type Transport = 'http' | 'ssh' | 'git' | 'local' | 'other'

/** The transport a URL (or scp-like `host:path`) uses. */
export function transportOf(url: string): Transport {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined) {
    const colon = url.indexOf(':')
    const slash = url.indexOf('/')
    return colon > 0 && (slash < 0 || colon < slash) ? 'ssh' : 'local'
  }
  if (scheme === 'http' || scheme === 'https') return 'http'
  if (scheme === 'ssh' || scheme === 'git+ssh' || scheme === 'ssh+git') return 'ssh'
  if (scheme === 'git') return 'git'
  if (scheme === 'file') return 'local'
  return 'other'
}

const MISSING_HTTP = /could not read (?:Username|Password) for|terminal prompts disabled|No such device or address.*(?:Username|Password)/i
const REJECTED_HTTP = /Authentication failed for|HTTP Basic: Access denied|returned error: 401/i
const DENIED_HTTP = /returned error: 403|The requested URL returned error: 403/i
const SSH_DENIED = /Permission denied \((?:[a-z-]+,?)+\)/i
const SSH_PASSPHRASE = /read_passphrase: can't open \/dev\/tty|Enter passphrase|incorrect passphrase|bad passphrase/i
const HOST_KEY = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No (?:ED25519|RSA|ECDSA|[A-Z0-9-]+) host key is known/i
const LOCKED = /cannot lock ref|Unable to create '[^']*\.lock': File exists|unable to update local ref/i
const UNREACHABLE = new RegExp([
  'Could not resolve host', 'Could not resolve hostname', 'Connection refused', 'Failed to connect', 'unable to connect',
  'Connection timed out', 'Operation timed out', 'Network is unreachable', 'No route to host', 'Connection reset',
  'does not appear to be a git repository', 'Could not read from remote repository', 'not found', 'returned error: 404',
  'No such file or directory', 'Empty reply from server', 'the remote end hung up', 'unable to access',
  'SSL', 'Connection closed by', 'kex_exchange_identification', 'protocol error', 'not a git repository',
].join('|'), 'i')

/** git's last `fatal:`/`error:` lines (or its last lines), redacted, for the message. */
function gitSays(stderr: string, secrets: readonly string[]): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^(?:Warning: Permanently added|hint:)/.test(l))
  const key = lines.filter((l) => /^(?:fatal|error|remote|ssh|[A-Za-z0-9._-]+@[^ ]+: Permission)/i.test(l) || /Permission denied|Host key/i.test(l))
  const chosen = (key.length > 0 ? key : lines).slice(-3).join(' / ')
  return redactText(chosen.length > 600 ? `${chosen.slice(0, 600)}…` : chosen, secrets) || '(git printed nothing)'
}

/**
 * The coded error for a git run that did not succeed.
 * @example throw await transportFailure(result, { doing: 'fetch', shown, url, secrets, credentials })
 */
export async function transportFailure(r: GitRunResult, ctx: FailureContext): Promise<CairnError> {
  const says = gitSays(r.stderr, ctx.secrets)
  const head = `git ${ctx.doing} ${ctx.shown}`
  const details = (extra: Record<string, unknown>): Record<string, unknown> => ({ url: ctx.shown, exitCode: r.code, git: says, ...extra })
  if (r.killed === 'timeout') return new CairnError('UNREACHABLE', `${head}: no answer in time; git was stopped (${says})`, details({ reason: 'timeout' }))
  if (r.killed === 'aborted') return new CairnError('ABORTED', `${head}: stopped before it finished`, details({ reason: 'aborted' }))
  const kind = transportOf(ctx.url)
  const err = r.stderr
  if (HOST_KEY.test(err)) {
    return new CairnError('AUTH_FAILED', `${head}: ssh does not trust the server's host key (${says}). Connect once with plain ssh or git to check and record the key in known_hosts, then retry.`,
      details({ reason: 'host-key', transport: kind }))
  }
  if (kind === 'ssh' || SSH_DENIED.test(err)) {
    if (SSH_PASSPHRASE.test(err) || SSH_DENIED.test(err)) return sshAuth(head, says, err, ctx, details)
  }
  if (DENIED_HTTP.test(err)) {
    return new CairnError('AUTH_FAILED', `${head}: the remote accepted the credentials but denies this user access (HTTP 403: ${says}). Ask for access to the repository, or use other credentials.`,
      details({ reason: 'denied', transport: kind }))
  }
  if (MISSING_HTTP.test(err) || REJECTED_HTTP.test(err)) return httpAuth(head, says, err, ctx, details)
  if (LOCKED.test(err)) return new CairnError('BUSY', `${head}: a local ref was being updated by another git process (${says}); retry`, details({ reason: 'locked' }))
  if (UNREACHABLE.test(err) || r.code === 128) return new CairnError('UNREACHABLE', `${head}: ${says}`, details({ reason: 'unreachable', transport: kind }))
  return new CairnError('INTERNAL', `${head}: git exited with ${r.code ?? r.signal}: ${says}`, details({ transport: kind }))
}

async function httpAuth(head: string, says: string, err: string, ctx: FailureContext, details: (x: Record<string, unknown>) => Record<string, unknown>): Promise<CairnError> {
  const sources = await ctx.credentials().catch((): CredentialSources => ({ helpers: [], sshCommand: false }))
  const fromUrl = ctx.secrets.length > 0
  const helpers = sources.helpers.length > 0 ? `credential helpers ${sources.helpers.join(', ')}` : 'no credential helper (none configured)'
  const tried = [fromUrl ? 'the credentials in the URL' : null, helpers, 'no terminal prompt (Cairn never prompts)'].filter((x): x is string => x !== null)
  if (REJECTED_HTTP.test(err) && !MISSING_HTTP.test(err)) {
    return new CairnError('AUTH_FAILED',
      `${head}: the remote rejected the credentials it was given (wrong user name, password or token?). Tried: ${tried.join('; ')}. ` +
      `git has told the helpers to forget them (credential reject). Store the right ones (a plain \`git ${ctx.doing === 'push' ? 'push' : 'fetch'}\` in a terminal, or \`git credential approve\`), then retry.`,
      details({ reason: 'rejected', transport: 'http', tried }))
  }
  return new CairnError('AUTH_FAILED',
    `${head}: the remote asks for credentials and none were found. Tried: ${tried.join('; ')}. ` +
    'Configure a credential helper that has them (e.g. `git config --global credential.helper store`, then one plain git fetch in a terminal to save them), then retry.',
    details({ reason: 'missing', transport: 'http', tried, git: says }))
}

async function sshAuth(head: string, says: string, err: string, ctx: FailureContext, details: (x: Record<string, unknown>) => Record<string, unknown>): Promise<CairnError> {
  const sources = await ctx.credentials().catch((): CredentialSources => ({ helpers: [], sshCommand: false }))
  const tried = [
    process.env.GIT_SSH_COMMAND ? 'ssh as GIT_SSH_COMMAND runs it' : sources.sshCommand ? 'ssh as core.sshCommand runs it' : process.env.GIT_SSH ? 'GIT_SSH' : 'ssh with your ssh config (~/.ssh/config)',
    process.env.SSH_AUTH_SOCK ? 'the keys in ssh-agent (SSH_AUTH_SOCK)' : 'no ssh-agent (SSH_AUTH_SOCK is not set in the Cairn process)',
    'your default and configured identity files', 'no passphrase or password prompt (Cairn never prompts)',
  ]
  if (SSH_PASSPHRASE.test(err)) {
    return new CairnError('AUTH_FAILED', `${head}: the ssh key needs a passphrase and Cairn cannot ask for one (${says}). Tried: ${tried.join('; ')}. Load the key into ssh-agent (ssh-add) in the environment Cairn runs in, then retry.`,
      details({ reason: 'missing', transport: 'ssh', tried }))
  }
  return new CairnError('AUTH_FAILED', `${head}: the ssh server accepted none of the keys offered (${says}). Tried: ${tried.join('; ')}. ` +
    'Check that the key is authorized on the server and offered (ssh-add -l, IdentityFile in ~/.ssh/config, or core.sshCommand / GIT_SSH_COMMAND), then retry. A daemon sees the environment it was started with.',
  details({ reason: 'rejected', transport: 'ssh', tried }))
}
