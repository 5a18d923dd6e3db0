/**
 * A mutex the kernel releases for us: binding a Linux abstract Unix socket
 * (a name starting with NUL, never a file) succeeds for exactly one process
 * at a time, and the name is freed the instant that process dies, `kill -9`
 * included. So "who serves this home" can never be left stale by a crash,
 * and racing starters need no lock-file takeover protocol: the bind decides.
 *
 * The socket only holds the name: any connection to it is closed at once.
 * Abstract sockets are Linux-only; elsewhere {@link tryLockName} reports
 * UNAVAILABLE and callers fall back to the embedded runtime.
 */
import { createServer, type Server } from 'node:net'
import { CairnError } from '../../protocol/errors.ts'

export interface NameLock {
  readonly name: string
  release(): Promise<void>
}

/**
 * Takes the named mutex, or resolves null when another live process holds it.
 * @example const lock = await tryLockName('cairn-home:ab12'); if (lock) { ...; await lock.release() }
 */
export async function tryLockName(name: string): Promise<NameLock | null> {
  if (process.platform !== 'linux') throw new CairnError('UNAVAILABLE', 'the daemon needs Linux abstract sockets; use --no-daemon')
  const server: Server = createServer((sock) => sock.destroy())
  const bound = await new Promise<boolean>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') resolve(false)
      else reject(new CairnError('UNAVAILABLE', `cannot take the mutex ${name}: ${err.message}`))
    }
    server.once('error', onError)
    server.listen(`\0${name}`, () => {
      server.off('error', onError)
      resolve(true)
    })
  })
  if (!bound) return null
  // Holding a name must not keep a process alive on its own.
  server.unref()
  let released = false
  return {
    name,
    release: () => new Promise<void>((resolve) => {
      if (released) { resolve(); return }
      released = true
      server.close(() => resolve())
    }),
  }
}

/**
 * Takes the mutex, retrying until `timeoutMs` passes (then null). Bounded
 * polling: the holder is usually a CLI finishing a one-shot command.
 */
export async function lockName(name: string, timeoutMs: number, stepMs = 25): Promise<NameLock | null> {
  const until = Date.now() + timeoutMs
  for (let i = 0; i < 1_000_000; i++) {
    const lock = await tryLockName(name)
    if (lock) return lock
    if (Date.now() >= until) return null
    await new Promise((r) => setTimeout(r, Math.min(stepMs * 2 ** Math.min(i, 4), 250)))
  }
  return null
}

/** Whether another process holds `name` right now (takes it and lets go at once when it is free). */
export async function isNameHeld(name: string): Promise<boolean> {
  const lock = await tryLockName(name)
  await lock?.release()
  return lock === null
}
