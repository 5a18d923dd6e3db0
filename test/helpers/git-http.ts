/**
 * Smart HTTP git for tests, on 127.0.0.1 only: git-http-backend (CGI)
 * behind a real web server (lighttpd), optionally with HTTP basic auth,
 * started and stopped by the test. The configuration lives in a temp dir;
 * nothing of the system's web server setup is touched.
 *
 * With auth, lighttpd checks the user and password (mod_auth, plain user
 * file) and passes REMOTE_USER to git-http-backend, which then allows
 * pushes. Without auth, receive-pack is turned on for every repository
 * through the CGI's environment (GIT_CONFIG_*: http.receivepack=true).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, listening, startProcess } from './server-process.ts'

const LIGHTTPD = ['/usr/sbin/lighttpd', '/usr/bin/lighttpd'].find((p) => existsSync(p)) ?? 'lighttpd'
const HTTP_BACKEND = ['/usr/lib/git-core/git-http-backend', '/usr/libexec/git-core/git-http-backend'].find((p) => existsSync(p))
  ?? '/usr/lib/git-core/git-http-backend'

export interface GitHttp {
  port: number
  /** `http://127.0.0.1:<port>/git/<repo>`: no credentials in it. */
  url(repo: string): string
  /** The same URL with `user:password@` in it (for the tests that check such a URL never leaks). */
  urlWithPassword(repo: string, password?: string): string
  /** A line for `git credential-store`'s file that answers for this server. */
  storeLine(user: string, password: string): string
  stop(): Promise<void>
}

export interface GitHttpOptions {
  /** Repositories under this directory are served as /git/<path>. */
  base: string
  /** Basic auth: the one user and password the server accepts; absent, no auth. */
  auth?: { user: string; password: string }
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

/**
 * Starts lighttpd on a free port serving `base` through git-http-backend.
 * @example
 *   const http = await startGitHttp({ base: dir, auth: { user: 'ann', password: 'pw' } })
 *   execFileSync('git', ['push', http.urlWithPassword('r.git'), 'HEAD:main'])
 *   await http.stop()
 */
export async function startGitHttp(opts: GitHttpOptions): Promise<GitHttp> {
  const conf = mkdtempSync(join(tmpdir(), 'cairn-lighttpd-'))
  const port = await freePort()
  const env: [string, string][] = [['GIT_PROJECT_ROOT', opts.base], ['GIT_HTTP_EXPORT_ALL', '1']]
  if (!opts.auth) env.push(['GIT_CONFIG_COUNT', '1'], ['GIT_CONFIG_KEY_0', 'http.receivepack'], ['GIT_CONFIG_VALUE_0', 'true'])
  const lines = [
    'server.modules = ("mod_alias", "mod_auth", "mod_authn_file", "mod_cgi", "mod_setenv")',
    `server.document-root = ${quote(conf)}`,
    'server.bind = "127.0.0.1"',
    `server.port = ${port}`,
    `server.errorlog = ${quote(join(conf, 'error.log'))}`,
    `server.upload-dirs = (${quote(conf)})`,
    `alias.url = ("/git/" => ${quote(`${HTTP_BACKEND}/`)})`,
    '$HTTP["url"] =~ "^/git/" {',
    '  cgi.assign = ("" => "")',
    `  setenv.add-environment = (${env.map(([k, v]) => `${quote(k)} => ${quote(v)}`).join(', ')})`,
    '}',
  ]
  if (opts.auth) {
    writeFileSync(join(conf, 'users'), `${opts.auth.user}:${opts.auth.password}\n`, { mode: 0o600 })
    lines.push(
      'auth.backend = "plain"',
      `auth.backend.plain.userfile = ${quote(join(conf, 'users'))}`,
      'auth.require = ("/git/" => ("method" => "basic", "realm" => "cairn-test", "require" => "valid-user"))',
    )
  }
  writeFileSync(join(conf, 'lighttpd.conf'), `${lines.join('\n')}\n`)
  const server = startProcess(LIGHTTPD, ['-D', '-f', join(conf, 'lighttpd.conf')])
  const stop = async (): Promise<void> => {
    await server.stop()
    rmSync(conf, { recursive: true, force: true })
  }
  try {
    await listening(port, 5_000, server.gone)
  } catch (err) {
    await stop()
    throw err
  }
  const base = `http://127.0.0.1:${port}/git/`
  return {
    port,
    url: (repo) => base + repo,
    urlWithPassword: (repo, password = opts.auth?.password ?? 'none') =>
      `http://${encodeURIComponent(opts.auth?.user ?? 'user')}:${encodeURIComponent(password)}@127.0.0.1:${port}/git/${repo}`,
    storeLine: (user, password) => `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1%3a${port}\n`,
    stop,
  }
}
