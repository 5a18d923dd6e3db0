/**
 * The board's secret: one token per runtime home, in `$CAIRN_HOME/ui.token`
 * (the home is 0700, the file 0600), carried in the URL `cairn ui` prints,
 * like a notebook server's. Whoever holds it can read the board (and write,
 * when the board allows writes), so:
 *
 * - it is 32 random bytes (base64url), made once and kept across restarts,
 *   so a bookmarked URL keeps working; `rotate` makes a new one;
 * - a file that is not a plain 0600 file of ours, or does not hold a
 *   well-formed token, is replaced, never trusted: a token that was readable
 *   by others may have leaked;
 * - it is compared in constant time (hashes of both sides, so the length of
 *   a guess tells nothing either);
 * - it never appears in a log line or an error message: only `cairn ui`'s
 *   own output (the URL the user asked for) shows it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { closeSync, constants, fsyncSync, lstatSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export const TOKEN_FILE = 'ui.token'
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** The token file of `home`. */
export function tokenPath(home: string): string {
  return join(home, TOKEN_FILE)
}

/**
 * The home's token, made (or remade, see the header) when needed.
 * @example const token = loadOrCreateToken(paths.home)
 */
export function loadOrCreateToken(home: string, opts: { rotate?: boolean } = {}): string {
  const path = tokenPath(home)
  if (!opts.rotate) {
    const kept = readKept(path)
    if (kept !== null) return kept
  }
  const token = randomBytes(32).toString('base64url')
  // Written whole under a temporary name, then renamed: a reader never sees half a token.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    writeSync(fd, `${token}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  return token
}

/** The token a safe file holds, or null when the file is missing or not to be trusted. */
function readKept(path: string): string | null {
  let st
  try {
    st = lstatSync(path)
  } catch {
    return null
  }
  const ours = typeof process.getuid !== 'function' || st.uid === process.getuid()
  if (!st.isFile() || !ours || (st.mode & 0o777) !== 0o600) return null
  const text = readFileSync(path, 'utf8').trim()
  return TOKEN_SHAPE.test(text) ? text : null
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/**
 * Whether `given` is the token, in time that depends on neither.
 * @example tokenMatches(token, url.searchParams.get('token'))
 */
export function tokenMatches(token: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 256) return false
  return timingSafeEqual(digest(token), digest(given))
}

/**
 * The cookie name of this home's board. Cookies are scoped by host, not by
 * port, so two homes' boards on 127.0.0.1 would overwrite each other's
 * cookie under one name; each home gets its own.
 */
export function cookieName(home: string): string {
  return `cairn_ui_${createHash('sha256').update(home).digest('hex').slice(0, 12)}`
}
