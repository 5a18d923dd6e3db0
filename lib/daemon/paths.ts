/**
 * Where a daemon lives: everything is under the runtime home (`$CAIRN_HOME`,
 * default `~/.local/state/cairn`), so one home means one daemon and two
 * homes never see each other. The home is 0700 and the socket 0600: the
 * socket accepts every request of the user who owns it, so nobody else may
 * reach it.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { CairnError } from '../../protocol/errors.ts'

export interface DaemonPaths {
  home: string
  socket: string
  lock: string
  config: string
  log: string
  /** The home's mutex: a file in the home, flocked by whoever serves it (see home-mutex.ts). */
  mutexName: string
}

/** Linux caps a socket path at 107 bytes (sun_path). */
const MAX_SOCKET_PATH = 107

/** The home a caller means: an explicit one, else `$CAIRN_HOME`, else the default. */
export function resolveHome(explicit?: string): string {
  const home = explicit ?? process.env.CAIRN_HOME ?? join(homedir(), '.local', 'state', 'cairn')
  if (home.length === 0) throw new CairnError('INVALID_ARGUMENT', 'the runtime home must be a non-empty path', { field: 'home' })
  return resolve(home)
}

/**
 * Creates the home (0700) if needed and returns its daemon paths.
 * @example const p = daemonPaths(ensureHome(resolveHome())); p.socket
 */
export function daemonPaths(home: string): DaemonPaths {
  const socket = join(home, 'daemon.sock')
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new CairnError('INVALID_ARGUMENT', `CAIRN_HOME is too long for a Unix socket path (${socket}); use a shorter home`, { field: 'home' })
  }
  return {
    home,
    socket,
    lock: join(home, 'daemon.lock'),
    config: join(home, 'config.json'),
    log: join(home, 'daemon.log'),
    mutexName: join(home, 'home.lock'),
  }
}

/** Makes the home directory exist with mode 0700 (tightening an existing one). */
export function ensureHome(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 })
  if ((statSync(home).mode & 0o777) !== 0o700) chmodSync(home, 0o700)
  return home
}
