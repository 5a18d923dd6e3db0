/**
 * A password in a remote URL never shows, through the CLI as people and
 * scripts use it: real `cairn` processes, a daemon they start in the
 * background, a real HTTP git server with basic auth on 127.0.0.1. The
 * secret is in no stdout or stderr (human and --json output, successes and
 * errors: AUTH_FAILED, LEASE_HELD), not in the daemon's status or log, and
 * in no file of the runtime home or the repository's store.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXIT_CODES } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { startGitHttp } from '../../../helpers/git-http.ts'
import { filesContaining, formsIn, secretForms } from '../../../helpers/secrets.ts'
import { cliProcess, stopDaemonOf } from '../daemon/daemon-helpers.ts'

const USER = 'bob'
const SECRET = 'Cli-S3cret!pw'

t.test('a password in the URL appears in no CLI output, status, log or store', async (t) => {
  const box = sandbox()
  const base = join(box.dir, 'srv')
  execFileSync('git', ['init', '-q', '--bare', join(base, 'remote.git')])
  const http = await startGitHttp({ base, auth: { user: USER, password: SECRET } })
  writeFileSync(join(box.dir, 'gitconfig'), '')
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_HOME: box.home, GIT_CONFIG_GLOBAL: join(box.dir, 'gitconfig'), GIT_CONFIG_NOSYSTEM: '1' }
  delete env.NODE_V8_COVERAGE
  const repo = box.repo('work')
  t.teardown(async () => { await stopDaemonOf(box.home); await http.stop(); box.cleanup() })
  const url = http.urlWithPassword('remote.git')
  const wrong = http.urlWithPassword('remote.git', 'Wrong-Cli-pw')
  const outputs: string[] = []
  const run = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const r = await cliProcess([...args, '-C', repo], { cwd: repo, env, timeoutMs: 120_000 })
    outputs.push(r.stdout, r.stderr)
    return r
  }

  t.equal((await run(['issue', 'create', 'secret-free', '--json'])).code, 0)
  const synced = await run(['sync', '--remote', url])
  t.equal(synced.code, 0, `human sync output: ${synced.stdout.trim()}`)
  t.match(synced.stdout, `${USER}:***@`, 'it names the remote, redacted')
  const json = await run(['sync', '--remote', url, '--json'])
  t.equal(json.code, 0)
  t.match(JSON.parse(json.stdout), { ok: true, data: { url: /\*\*\*/ } })
  const lease = await run(['lock', 'acquire', 'path:docs', '--ttl', '60000', '--remote', url, '--json'])
  t.equal(lease.code, 0, `lease over the URL: ${lease.stdout}${lease.stderr}`)
  const held = await run(['lock', 'acquire', 'path:docs', '--ttl', '60000', '--remote', url, '--agent', 'other'])
  t.equal(held.code, EXIT_CODES.LEASE_HELD, `LEASE_HELD: ${held.stderr.trim()}`)
  t.equal((await run(['lock', 'status', 'path:docs', '--remote', url, '--json'])).code, 0)
  const refused = await run(['sync', '--remote', wrong])
  t.equal(refused.code, EXIT_CODES.AUTH_FAILED, `AUTH_FAILED: ${refused.stderr.trim()}`)
  t.match(refused.stderr, /rejected the credentials/)
  const refusedJson = await run(['sync', '--remote', wrong, '--json'])
  t.match(JSON.parse(refusedJson.stdout), { ok: false, error: { code: 'AUTH_FAILED' } })
  t.equal((await run(['daemon', 'status', '--json'])).code, 0)

  const text = outputs.join('\n')
  t.same(formsIn(text, secretForms(SECRET, USER)), [], 'no output carries the password')
  t.same(formsIn(text, secretForms('Wrong-Cli-pw', USER)), [], 'nor the wrong one')
  await stopDaemonOf(box.home)
  t.same(filesContaining(box.home, secretForms(SECRET, USER)), [], 'no file of the home (daemon log, lock, stores) holds it')
  t.same(filesContaining(join(repo, '.git', 'cairn'), secretForms(SECRET, USER)), [], 'no file of the repository store holds it')
  t.same(filesContaining(join(repo, '.git', 'refs'), secretForms(SECRET, USER)), [], 'nor any ref Cairn wrote')
})
