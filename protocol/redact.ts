/**
 * Secrets out of everything Cairn shows or stores: remote URLs may carry a
 * password or token in their userinfo (`https://user:secret@host/x`), and
 * git's own messages repeat them. Every URL that reaches an error, a report,
 * `syncStatus()`, a log line or an LMDB record goes through here first.
 *
 * The rule: a password is always replaced by `***`; for http(s) and ftp(s) a
 * userinfo without a password is replaced whole (`https://<token>@host` is a
 * common way to pass a token); an ssh/git user name (`ssh://git@host`,
 * `git@host:path`) is a login name, not a secret, and stays readable.
 *
 * Pure string work, no URL parser: git accepts URLs WHATWG's parser rejects
 * (scp-like `host:path`, raw `@` in a password), and a redactor that throws
 * on odd input would let the odd input through.
 */

export const REDACTED = '***'

/** `scheme://` then the authority, which ends at the first `/`, `?`, `#` or whitespace. */
const URL_IN_TEXT = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#\s'"<>`]*)/g
const SECRET_USER_SCHEMES = /^(?:https?|ftps?):\/\/$/i

function redactAuthority(scheme: string, authority: string): string {
  const at = authority.lastIndexOf('@')
  if (at < 0) return scheme + authority
  const userinfo = authority.slice(0, at)
  const host = authority.slice(at + 1)
  const colon = userinfo.indexOf(':')
  if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@${host}`
  if (SECRET_USER_SCHEMES.test(scheme)) return `${scheme}${REDACTED}@${host}`
  return scheme + authority
}

/**
 * The URL with its secret replaced by `***`; anything else unchanged.
 * @example redactUrl('https://ann:hunter2@git.example/x.git') // 'https://ann:***@git.example/x.git'
 * @example redactUrl('ssh://git@host/x.git')                 // unchanged: a login name
 */
export function redactUrl(url: string): string {
  return redactText(url)
}

/**
 * `text` with the userinfo secrets of every URL in it replaced, and each of
 * `secrets` (literal strings known to be secret) too.
 * @example redactText("fatal: unable to access 'https://t0ken@host/x/'") // "fatal: unable to access 'https://***@host/x/'"
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_IN_TEXT, (_m, scheme: string, authority: string) => redactAuthority(scheme, authority))
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join(REDACTED)
  return out
}

/**
 * The secrets a URL carries (its password, or an http(s) token user name),
 * raw and percent-decoded, for scrubbing text that may repeat them in
 * another form. Empty for URLs without userinfo.
 * @example secretsOf('https://ann:p%40ss@host/x') // ['p%40ss', 'p@ss']
 */
export function secretsOf(url: string): string[] {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#\s]*)/.exec(url)
  if (!m) return []
  const authority = m[2] as string
  const at = authority.lastIndexOf('@')
  if (at < 0) return []
  const userinfo = authority.slice(0, at)
  const colon = userinfo.indexOf(':')
  const raw = colon >= 0 ? userinfo.slice(colon + 1) : SECRET_USER_SCHEMES.test(m[1] as string) ? userinfo : ''
  if (raw === '') return []
  let decoded = raw
  try { decoded = decodeURIComponent(raw) } catch { /* not percent-encoded: the raw form is all there is */ }
  return decoded === raw ? [raw] : [raw, decoded]
}

/** True when the URL carries a secret that {@link redactUrl} would hide. */
export function hasSecret(url: string): boolean {
  return secretsOf(url).length > 0
}
