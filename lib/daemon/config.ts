/**
 * Daemon settings from `$CAIRN_HOME/config.json`, overridden by flags:
 *
 * ```json
 * { "daemon": { "idleTimeoutSec": 300, "maxConnections": 256, "threads": 2, "idleCloseSec": 120, "reposPerThread": 128 } }
 * ```
 *
 * A missing file means defaults; a malformed one is an INVALID_ARGUMENT that
 * names the field, so a typo never silently becomes a default.
 */
import { readFileSync } from 'node:fs'
import { CairnError } from '../../protocol/errors.ts'

export interface DaemonConfig {
  /** Stop after this long with no connection and no request; 0 never stops. Default 300 s. */
  idleTimeoutSec: number
  /** Connections served at once; the next one is answered BUSY. Default 256. */
  maxConnections: number
  /** Runtime worker threads; default the runtime's own. */
  threads?: number
  /**
   * Close (passivate) a repository nobody used for this long; 0 never. Default
   * 120 s: a daemon that served hundreds of repositories keeps only the ones
   * in use open (each costs a thread slot, LMDB handles and caches).
   */
  idleCloseSec: number
  /** Repositories a runtime thread hosts at once. Default 128. */
  reposPerThread: number
}

export const DEFAULT_DAEMON_CONFIG: DaemonConfig = { idleTimeoutSec: 300, maxConnections: 256, idleCloseSec: 120, reposPerThread: 128 }

const LIMITS: Record<keyof DaemonConfig, [number, number]> = {
  idleTimeoutSec: [0, 7 * 86_400],
  maxConnections: [1, 65_536],
  threads: [1, 64],
  idleCloseSec: [0, 7 * 86_400],
  reposPerThread: [1, 1024],
}

function bad(field: string, problem: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', `config ${field} ${problem}`, { field })
}

/** Checks one setting; shared by the config file and the flags. */
export function checkSetting(field: keyof DaemonConfig, value: unknown): number {
  const [min, max] = LIMITS[field]
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw bad(field, `must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`)
  }
  return value as number
}

/** Reads and validates the config file; defaults when it does not exist. */
export function readDaemonConfig(path: string): DaemonConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_DAEMON_CONFIG }
    throw bad(path, `cannot be read: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw bad(path, `is not JSON: ${(err as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(path, 'must be a JSON object')
  const daemon = (parsed as Record<string, unknown>).daemon ?? {}
  if (daemon === null || typeof daemon !== 'object' || Array.isArray(daemon)) throw bad('daemon', 'must be an object')
  const out: DaemonConfig = { ...DEFAULT_DAEMON_CONFIG }
  for (const [key, value] of Object.entries(daemon)) {
    if (!(key in LIMITS)) throw bad(`daemon.${key}`, 'is not a known setting')
    out[key as keyof DaemonConfig] = checkSetting(key as keyof DaemonConfig, value)
  }
  return out
}
