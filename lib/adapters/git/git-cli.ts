/**
 * Runs the user's `git` binary for network transport (fetch, push,
 * ls-remote) and for reading many WAL commits at once (cli-wal-read.ts). Cairn talks to remotes through the same program the user
 * does, so it reaches every remote plain git reaches, with the user's
 * configuration: credential helpers (and their approve/reject), ~/.ssh/config,
 * ssh-agent, `core.sshCommand` / `GIT_SSH_COMMAND`, `url.*.insteadOf`,
 * proxies, CA bundles. libgit2 honours none of those on its own.
 *
 * What this runner adds, and why:
 * - No prompts, ever: `GIT_TERMINAL_PROMPT=0`, stdin closed, and a new
 *   session (no controlling terminal), so neither git nor ssh can stop to
 *   ask for a password a daemon cannot type. Credentials come from helpers,
 *   agents and keys, as in a cron job. `SSH_ASKPASS_REQUIRE=never` unless
 *   the user set it, so ssh does not pop up a dialog either.
 * - One attempt per call, bounded in time: a timeout (and the caller's
 *   signal) kills the whole process group (git, ssh, helpers).
 * - `LC_ALL=C`: failures are classified by git's messages, which are
 *   translated otherwise.
 * - Bounded output: stdout and stderr are capped, so a broken server
 *   cannot grow a buffer without limit.
 *
 * Nothing here prints: the caller turns a failure into a coded error
 * through cli-failure.ts, which redacts secrets.
 */
import { spawn } from 'node:child_process'
import { CairnError } from '../../../protocol/errors.ts'

/** The git executable: `CAIRN_GIT` (a path) when set, else `git` on PATH. */
export const GIT_BIN = process.env.CAIRN_GIT || 'git'
const MAX_STDOUT = 64 * 1024 * 1024
const MAX_STDERR = 64 * 1024
const KILL_GRACE_MS = 2_000

export interface GitRunOptions {
  /** Working directory (relative remote paths resolve from here). */
  cwd: string
  /** The repository's git dir, passed as `--git-dir`. */
  gitDir: string
  timeoutMs: number
  signal?: AbortSignal
  /** Extra environment (e.g. GIT_CONFIG_* carrying a URL that must not be on the command line). */
  env?: Record<string, string>
  /** Written to git's stdin, which is then closed (stdin is closed at once without it). */
  input?: string | Buffer
  /** Bytes of stdout kept at most (default 64 MiB); past it git is stopped and the run counts as aborted. */
  maxStdout?: number
}

export interface GitRunResult {
  code: number | null
  signal: NodeJS.Signals | null
  /** stdout as UTF-8 text. */
  stdout: string
  /** stdout as bytes (object contents). */
  stdoutBytes: Buffer
  stderr: string
  /** The run was ended by its timeout or the caller's signal. */
  killed: 'timeout' | 'aborted' | null
}

/** The environment every transport call runs with (see the header for why). */
export function transportEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  env.GIT_TERMINAL_PROMPT = '0'
  env.GCM_INTERACTIVE = 'never'
  env.LC_ALL = 'C'
  env.LANGUAGE = 'C'
  env.SSH_ASKPASS_REQUIRE ??= 'never'
  // Set by a parent git (hooks, `git -C`): they would point the child at another repository.
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_NAMESPACE', 'GIT_PREFIX']) delete env[k]
  return env
}

/**
 * Runs `git --git-dir=<gitDir> <args>` and collects its output. Resolves for
 * any exit status (the caller interprets it); rejects only when git cannot
 * be started at all (`UNAVAILABLE`: is git installed?).
 * @example const r = await runGit(['ls-remote', 'origin'], { cwd, gitDir, timeoutMs: 30_000 })
 */
export function runGit(args: string[], opts: GitRunOptions): Promise<GitRunResult> {
  return new Promise((resolve, reject) => {
    let child
    try {
      child = spawn(GIT_BIN, [`--git-dir=${opts.gitDir}`, ...args], {
        cwd: opts.cwd,
        env: transportEnv(opts.env),
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true,
        windowsHide: true,
      })
    } catch (err) {
      reject(new CairnError('UNAVAILABLE', `cannot run ${GIT_BIN}: ${(err as Error).message}`))
      return
    }
    const out: Buffer[] = []
    let outBytes = 0
    let stderr = ''
    let killed: GitRunResult['killed'] = null
    let hardKill: NodeJS.Timeout | undefined
    const killGroup = (why: 'timeout' | 'aborted'): void => {
      if (killed !== null || child.exitCode !== null) return
      killed = why
      signalGroup(child.pid, 'SIGTERM')
      hardKill = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS)
      hardKill.unref()
    }
    const timer = setTimeout(() => killGroup('timeout'), opts.timeoutMs)
    const onAbort = (): void => killGroup('aborted')
    if (opts.signal?.aborted) onAbort()
    else opts.signal?.addEventListener('abort', onAbort, { once: true })
    const maxStdout = opts.maxStdout ?? MAX_STDOUT
    child.stdout!.on('data', (b: Buffer) => {
      outBytes += b.length
      if (outBytes <= maxStdout) out.push(b)
      else killGroup('aborted')
    })
    if (opts.input !== undefined && child.stdin) {
      // git may exit before reading everything (a bad object id): that is its answer, not our error.
      child.stdin.on('error', () => undefined)
      child.stdin.end(opts.input)
    }
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (s: string) => { if (stderr.length < MAX_STDERR) stderr = (stderr + s).slice(0, MAX_STDERR) })
    child.on('error', (err) => {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      reject(new CairnError('UNAVAILABLE', `cannot run ${GIT_BIN}: ${err.message}; Cairn's network transport needs git installed`, { git: GIT_BIN }))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (hardKill) clearTimeout(hardKill)
      opts.signal?.removeEventListener('abort', onAbort)
      const bytes = Buffer.concat(out)
      resolve({ code, signal, stdout: bytes.toString('utf8'), stdoutBytes: bytes, stderr, killed })
    })
  })
}

/** Signals git's whole process group (ssh, credential helpers, remote helpers). */
function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return
  try { process.kill(-pid, sig) } catch { /* already gone */ }
}
