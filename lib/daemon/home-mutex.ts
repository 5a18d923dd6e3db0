/**
 * The home's mutex: an exclusive flock(2) on a file inside the 0700 home,
 * so only the user who owns the home can take it (the abstract socket name
 * used before was predictable and open to every local user: another user
 * holding it locked every `cairn` command out). The kernel releases a flock
 * the instant its holder dies, `kill -9` included, so "who serves this home"
 * is never left stale by a crash and racing starters need no takeover
 * protocol: the lock decides.
 *
 * Node has no flock, so a small `flock(1)` child holds it for us: it takes
 * the lock, says so, and keeps it until its stdin closes, which happens when
 * we release it or when this process dies in any way. The child costs a few
 * milliseconds, once per daemon, embedded command or spawn.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { CairnError } from '../../protocol/errors.ts'

export interface NameLock {
  /** The mutex file's path. */
  readonly name: string
  release(): Promise<void>
}

/** flock(1)'s exit status when the lock is held by another process. */
const HELD = 75
const READY = 'locked\n'

/**
 * Takes the mutex at `path` (a file in the home, created if missing), or
 * resolves null when another live process holds it.
 * @example const lock = await tryLockName(daemonPaths(home).mutexName); if (lock) { ...; await lock.release() }
 */
export async function tryLockName(path: string): Promise<NameLock | null> {
  if (process.platform !== 'linux') throw new CairnError('UNAVAILABLE', 'the daemon needs Linux; use --no-daemon')
  const child = spawn('flock', ['--nonblock', '--conflict-exit-code', String(HELD), path, 'sh', '-c', `printf '${READY.trim()}\\n'; exec cat >/dev/null`], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const taken = await new Promise<boolean | Error>((resolve) => {
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; if (out.includes(READY)) resolve(true) })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s.slice(0, 1000) })
    child.once('error', (e) => resolve(new Error(`cannot run flock: ${e.message}`)))
    void exited.then((code) => resolve(code === HELD ? false : new Error(`flock exited ${code}: ${err.trim()}`)))
  })
  if (taken !== true) {
    child.stdin.destroy()
    if (taken === false) return null
    throw new CairnError('UNAVAILABLE', `cannot take the home's mutex ${path}: ${taken.message}`)
  }
  // Holding the mutex must not keep this process alive on its own.
  child.unref()
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.()
  let released: Promise<void> | null = null
  return {
    name: path,
    release: () => {
      released ??= (async () => {
        child.stdin.end()
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      })()
      return released
    },
  }
}

/**
 * Takes the mutex, retrying until `timeoutMs` passes (then null). Bounded
 * polling: the holder is usually a CLI finishing a one-shot command.
 */
export async function lockName(path: string, timeoutMs: number, stepMs = 25): Promise<NameLock | null> {
  const until = Date.now() + timeoutMs
  for (let i = 0; i < 1_000_000; i++) {
    const lock = await tryLockName(path)
    if (lock) return lock
    if (Date.now() >= until) return null
    await new Promise((r) => setTimeout(r, Math.min(stepMs * 2 ** Math.min(i, 4), 250)))
  }
  return null
}

/** Whether another process holds the mutex right now (takes it and lets go at once when it is free). */
export async function isNameHeld(path: string): Promise<boolean> {
  // No file, no holder: and nothing is created in a home that is only being inspected.
  if (!existsSync(path)) return false
  const lock = await tryLockName(path)
  await lock?.release()
  return lock === null
}
