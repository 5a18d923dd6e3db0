/**
 * Sync and remote leases over smart HTTP: git-http-backend behind lighttpd
 * on 127.0.0.1, with basic auth. Cairn works exactly where plain git works:
 * credentials from a credential helper (`credential.helper store`), or in
 * the URL; a wrong password is AUTH_FAILED `rejected` (and git's reject
 * makes the helper forget it), a missing one AUTH_FAILED `missing`, each
 * with its own message; plain git fails the same way at the same time. The
 * password appears nowhere: not in reports, errors, LEASE_HELD messages,
 * syncStatus, nor any file of the stores and homes.
 *
 * The user's global and system git configuration are kept out (an empty
 * GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM) so only what the test configures
 * applies, for git and Cairn alike.
 */
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { startGitHttp } from '../../../../helpers/git-http.ts'
import { filesContaining, formsIn, secretForms } from '../../../../helpers/secrets.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const USER = 'ann'
const SECRET = 'Pw-7xQ!r2 s3cr3t'
const box = sandbox()
writeFileSync(join(box.dir, 'gitconfig-global'), '')
process.env.GIT_CONFIG_GLOBAL = join(box.dir, 'gitconfig-global')
process.env.GIT_CONFIG_NOSYSTEM = '1'
t.teardown(() => box.cleanup())

/** Plain git in `cwd`, as a user would run it in a script (no prompts): its exit status and stderr. */
function plainGit(cwd: string, ...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })
  return { status: r.status, stderr: r.stderr }
}

function clone(name: string, origin: string, creds: string | null): string {
  const path = box.repo(name)
  execFileSync('git', ['-C', path, 'remote', 'add', 'origin', origin])
  if (creds !== null) execFileSync('git', ['-C', path, 'config', 'credential.helper', `store --file=${creds}`])
  return path
}

async function runtimeOn(t: Test, path: string, agent: string): Promise<Repo> {
  const rt = await createRuntime({ home: join(box.dir, `home-${agent}`), threads: 1 })
  t.teardown(() => rt.stop())
  return rt.repo(path, { agent })
}

t.test('basic auth with a credential helper: sync and remote leases work where plain git does', async (t) => {
  const base = join(box.dir, 'srv-helper')
  execFileSync('git', ['init', '-q', '--bare', join(base, 'remote.git')])
  const http = await startGitHttp({ base, auth: { user: USER, password: SECRET } })
  t.teardown(() => http.stop())
  const creds = join(box.dir, 'creds-good')
  writeFileSync(join(creds), http.storeLine(USER, SECRET), { mode: 0o600 })
  const a = clone('h-a', http.url('remote.git'), creds)
  const b = clone('h-b', http.url('remote.git'), creds)
  t.equal(plainGit(a, 'ls-remote', 'origin').status, 0, 'plain git reaches the remote with the helper')

  const ra = await runtimeOn(t, a, 'ha')
  const rb = await runtimeOn(t, b, 'hb')
  const issue = await ra.issues.create({ title: 'over https with a helper' })
  const pushed = await ra.sync({ remote: 'origin' })
  t.equal(pushed.pushed, 1, 'A pushed its WAL ref')
  const pulled = await rb.sync({ remote: 'origin' })
  t.equal(pulled.pulled, 1, 'B pulled the event')
  t.equal((await rb.issues.show(issue.id)).title, 'over https with a helper')
  t.match(execFileSync('git', ['--git-dir', join(base, 'remote.git'), 'for-each-ref', '--format=%(refname)'], { encoding: 'utf8' }), `refs/cairn/wal/${ra.actor}`)

  const lease = await ra.locks.acquire('path:src', { ttlMs: 60_000, scope: 'remote', remote: 'origin', autoRenew: false })
  t.equal(lease.token, 1, 'a remote lease over https')
  const held = await rb.locks.acquire('path:src', { ttlMs: 60_000, scope: 'remote', remote: 'origin' }).catch((e) => e)
  t.match(held, { code: 'LEASE_HELD' }, 'B is refused while A holds it')
  await lease.renew()
  await lease.release()
  const next = await rb.locks.acquire('path:src', { ttlMs: 60_000, scope: 'remote', remote: 'origin', autoRenew: false })
  t.ok(next.token > lease.token, `after the release B gets a later epoch (${next.token})`)
  await next.release()
})

t.test('a wrong password is AUTH_FAILED rejected, then (forgotten by the helper) missing; plain git agrees', async (t) => {
  const base = join(box.dir, 'srv-wrong')
  execFileSync('git', ['init', '-q', '--bare', join(base, 'remote.git')])
  const http = await startGitHttp({ base, auth: { user: USER, password: SECRET } })
  t.teardown(() => http.stop())
  const creds = join(box.dir, 'creds-wrong')
  const wrong = 'not-the-Pw-42'
  writeFileSync(creds, http.storeLine(USER, wrong), { mode: 0o600 })
  const path = clone('w-a', http.url('remote.git'), creds)
  const plainPath = clone('w-plain', http.url('remote.git'), join(box.dir, 'creds-wrong-plain'))
  writeFileSync(join(box.dir, 'creds-wrong-plain'), http.storeLine(USER, wrong), { mode: 0o600 })
  const plain = plainGit(plainPath, 'fetch', 'origin')
  t.not(plain.status, 0, 'plain git fails with the wrong password too')
  t.match(plain.stderr, /Authentication failed/)

  const repo = await runtimeOn(t, path, 'wa')
  await repo.issues.create({ title: 'stays local' })
  const rejected = await repo.sync({ remote: 'origin' }).catch((e) => e)
  t.match(rejected, { code: 'AUTH_FAILED', details: { reason: 'rejected', transport: 'http' } }, 'the wrong password is rejected')
  t.match(rejected.message, /rejected the credentials/, `the message says so: ${rejected.message}`)
  t.match(rejected.message, /credential helpers store/, 'and names what was tried')
  t.equal(readFileSync(creds, 'utf8'), '', 'git told the helper to forget them (credential reject)')
  const missing = await repo.sync({ remote: 'origin' }).catch((e) => e)
  t.match(missing, { code: 'AUTH_FAILED', details: { reason: 'missing' } }, 'now nothing is stored: missing')
  t.match(missing.message, /none were found/, `a different message: ${missing.message}`)
  t.not(missing.message, rejected.message)
  const leaseErr = await repo.locks.acquire('path:x', { ttlMs: 10_000, scope: 'remote', remote: 'origin' }).catch((e) => e)
  t.match(leaseErr, { code: 'AUTH_FAILED', details: { reason: 'missing' } }, 'a remote lease fails the same way')
  t.equal((await repo.events.stats()).events, 1, 'nothing was lost')
  t.same(formsIn(JSON.stringify([rejected, missing, leaseErr, rejected.message, missing.message, await repo.syncStatus()]), secretForms(wrong, USER)), [],
    'the wrong password is not in the errors or the status either')

  writeFileSync(creds, http.storeLine(USER, SECRET), { mode: 0o600 })
  const ok = await repo.sync({ remote: 'origin' })
  t.equal(ok.pushed, 1, 'with the right password stored, the next sync goes through')
})

t.test('a password in the URL works and never shows: reports, errors, LEASE_HELD, status, stores', async (t) => {
  const base = join(box.dir, 'srv-url')
  execFileSync('git', ['init', '-q', '--bare', join(base, 'remote.git')])
  const http = await startGitHttp({ base, auth: { user: USER, password: SECRET } })
  t.teardown(() => http.stop())
  const a = clone('u-a', http.url('remote.git'), null)
  const b = clone('u-b', http.url('remote.git'), null)
  const url = http.urlWithPassword('remote.git')
  t.equal(plainGit(a, 'ls-remote', url).status, 0, 'plain git reaches it with the password in the URL')
  t.not(plainGit(a, 'ls-remote', 'origin').status, 0, 'and not without (no helper)')
  const ra = await runtimeOn(t, a, 'ua')
  const rb = await runtimeOn(t, b, 'ub')
  const seen: unknown[] = []

  await ra.issues.create({ title: 'over a URL with a password' })
  const report = await ra.sync({ remote: url })
  t.equal(report.pushed, 1, 'the sync pushed')
  t.match(report.url, `${USER}:***@127.0.0.1`, `the report shows the URL redacted: ${report.url}`)
  seen.push(report, await ra.syncStatus())
  const pulled = await rb.sync({ remote: url, push: false })
  t.equal(pulled.pulled, 1)
  seen.push(pulled)

  const lease = await ra.locks.acquire('issue:beef', { ttlMs: 60_000, scope: 'remote', remote: url, autoRenew: false })
  t.match(lease.remote, '***', `the handle shows the remote redacted: ${lease.remote}`)
  await lease.renew() // through the redacted form: the runtime remembers the credentials, in memory only
  const held = await rb.locks.acquire('issue:beef', { ttlMs: 60_000, scope: 'remote', remote: url }).catch((e) => e)
  t.match(held, { code: 'LEASE_HELD' })
  seen.push(held, held.message, held.details, await rb.locks.status('issue:beef', { scope: 'remote', remote: url }))

  const wrongUrl = http.urlWithPassword('remote.git', 'Wrong-pw-99')
  const wrong = await rb.sync({ remote: wrongUrl }).catch((e) => e)
  t.match(wrong, { code: 'AUTH_FAILED', details: { reason: 'rejected' } }, 'a wrong password in the URL is rejected')
  t.match(wrong.message, /the credentials in the URL/, `and the message says where they came from: ${wrong.message}`)
  seen.push(wrong, wrong.message, await rb.syncStatus())
  await lease.release()

  const text = JSON.stringify(seen)
  t.same(formsIn(text, secretForms(SECRET, USER)), [], 'the password is in no report, error or status')
  t.same(formsIn(text, secretForms('Wrong-pw-99', USER)), [], 'nor the wrong one')
  for (const dir of [join(a, '.git', 'cairn'), join(b, '.git', 'cairn'), join(box.dir, 'home-ua'), join(box.dir, 'home-ub')]) {
    t.same(filesContaining(dir, secretForms(SECRET, USER)), [], `no file under ${dir} holds it`)
  }
})

t.test('without auth: plain smart HTTP', async (t) => {
  const base = join(box.dir, 'srv-open')
  execFileSync('git', ['init', '-q', '--bare', join(base, 'remote.git')])
  const http = await startGitHttp({ base })
  t.teardown(() => http.stop())
  const a = clone('o-a', http.url('remote.git'), null)
  const ra = await runtimeOn(t, a, 'oa')
  await ra.issues.create({ title: 'open server' })
  t.equal((await ra.sync({ remote: 'origin' })).pushed, 1)
  const lease = await ra.locks.acquire('repo:main', { ttlMs: 30_000, scope: 'remote', remote: 'origin', autoRenew: false })
  t.equal(lease.token, 1)
  await lease.release()
})
