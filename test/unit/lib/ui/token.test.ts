/**
 * The board's token file: made once with 0600, kept across calls, replaced
 * (never trusted) when it is readable by others, a symlink, or malformed;
 * compared without depending on where a guess goes wrong.
 */
import t from 'tap'
import { chmodSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cookieName, loadOrCreateToken, tokenMatches, tokenPath } from '../../../../lib/ui/token.ts'

function home(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-token-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('made once, 0600, kept; rotate makes a new one', async (t) => {
  const h = home(t)
  const a = loadOrCreateToken(h)
  t.match(a, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  t.equal(lstatSync(tokenPath(h)).mode & 0o777, 0o600)
  t.equal(loadOrCreateToken(h), a, 'the same token next time (a bookmarked URL keeps working)')
  const b = loadOrCreateToken(h, { rotate: true })
  t.not(b, a)
  t.equal(loadOrCreateToken(h), b)
  t.equal(readFileSync(tokenPath(h), 'utf8').trim(), b)
})

t.test('a token file others could read, a symlink or garbage is replaced, not trusted', async (t) => {
  const h = home(t)
  const a = loadOrCreateToken(h)
  chmodSync(tokenPath(h), 0o644)
  const b = loadOrCreateToken(h)
  t.not(b, a, 'a world-readable token may have leaked: a new one')
  t.equal(lstatSync(tokenPath(h)).mode & 0o777, 0o600)

  const elsewhere = join(h, 'elsewhere')
  writeFileSync(elsewhere, `${'A'.repeat(43)}\n`, { mode: 0o600 })
  rmSync(tokenPath(h))
  symlinkSync(elsewhere, tokenPath(h))
  const c = loadOrCreateToken(h)
  t.not(c, 'A'.repeat(43), 'a symlink is not followed')
  t.ok(lstatSync(tokenPath(h)).isFile(), 'and is replaced by a plain file')

  writeFileSync(tokenPath(h), 'short\n', { mode: 0o600 })
  t.match(loadOrCreateToken(h), /^[A-Za-z0-9_-]{43}$/, 'a malformed token is replaced')
})

t.test('tokenMatches: exact only; anything else (missing, wrong type, prefix, oversized) is refused', async (t) => {
  const token = 'x'.repeat(43)
  t.ok(tokenMatches(token, token))
  for (const bad of [undefined, null, 42, '', 'x'.repeat(42), `${token}x`, token.toUpperCase(), 'x'.repeat(10_000)]) {
    t.notOk(tokenMatches(token, bad), `refuses ${typeof bad === 'string' ? `a string of ${bad.length}` : String(bad)}`)
  }
})

t.test('each home gets its own cookie name (cookies are per host, not per port)', async (t) => {
  t.not(cookieName('/a'), cookieName('/b'))
  t.match(cookieName('/a'), /^cairn_ui_[0-9a-f]{12}$/)
})
