/**
 * Classifying git's failures (cli-failure.ts) from its messages under
 * LC_ALL=C: the stderr texts here are what git 2.39 and OpenSSH 9.2 print.
 */
import t from 'tap'
import { transportFailure, transportOf, type FailureContext } from '../../../../../lib/adapters/git/cli-failure.ts'
import type { GitRunResult } from '../../../../../lib/adapters/git/git-cli.ts'

const ctx = (url: string, over: Partial<FailureContext> = {}): FailureContext => ({
  doing: 'fetch', shown: url.replace(/:[^:@/]+@/, ':***@'), url, secrets: [], credentials: async () => ({ helpers: ['store'], sshCommand: false }), ...over,
})
const run = (stderr: string, code: number | null = 128, killed: GitRunResult['killed'] = null): GitRunResult => ({ code, signal: null, stdout: '', stdoutBytes: Buffer.alloc(0), stderr, killed })

t.test('transports by URL', async (t) => {
  t.equal(transportOf('https://h/x'), 'http')
  t.equal(transportOf('ssh://h/x'), 'ssh')
  t.equal(transportOf('git@h:x.git'), 'ssh')
  t.equal(transportOf('git://h/x'), 'git')
  t.equal(transportOf('file:///x'), 'local')
  t.equal(transportOf('/srv/x.git'), 'local')
  t.equal(transportOf('./x:y'), 'local', 'a colon after a slash is a path')
})

t.test('http: missing, rejected and denied read differently', async (t) => {
  const missing = await transportFailure(run("fatal: could not read Username for 'http://127.0.0.1:8080': terminal prompts disabled\n"), ctx('http://127.0.0.1:8080/git/r.git'))
  t.match(missing, { code: 'AUTH_FAILED', details: { reason: 'missing', transport: 'http', tried: ['credential helpers store', 'no terminal prompt (Cairn never prompts)'] } })
  t.match(missing.message, /none were found/)
  const rejected = await transportFailure(run("fatal: Authentication failed for 'http://127.0.0.1:8080/git/r.git/'\n"),
    ctx('http://ann:pw99@127.0.0.1:8080/git/r.git', { secrets: ['pw99'] }))
  t.match(rejected, { code: 'AUTH_FAILED', details: { reason: 'rejected' } })
  t.match(rejected.message, /rejected the credentials.*the credentials in the URL/)
  t.notMatch(rejected.message, /pw99/)
  const denied = await transportFailure(run("fatal: unable to access 'http://h/x/': The requested URL returned error: 403\n"), ctx('http://h/x'))
  t.match(denied, { code: 'AUTH_FAILED', details: { reason: 'denied' } })
})

t.test('ssh: refused keys, passphrases, host keys', async (t) => {
  const refused = await transportFailure(run('root@127.0.0.1: Permission denied (publickey).\r\nfatal: Could not read from remote repository.\n'), ctx('ssh://h/x'))
  t.match(refused, { code: 'AUTH_FAILED', details: { reason: 'rejected', transport: 'ssh' } })
  const pass = await transportFailure(run("read_passphrase: can't open /dev/tty: No such device or address\nroot@h: Permission denied (publickey).\n"), ctx('h:x.git'))
  t.match(pass, { code: 'AUTH_FAILED', details: { reason: 'missing' } })
  t.match(pass.message, /ssh-agent/)
  const host = await transportFailure(run('Host key verification failed.\r\nfatal: Could not read from remote repository.\n'), ctx('ssh://h/x'))
  t.match(host, { code: 'AUTH_FAILED', details: { reason: 'host-key' } })
})

t.test('unreachable, locked, timeouts, and the rest', async (t) => {
  t.match(await transportFailure(run("fatal: unable to access 'http://127.0.0.1:1/x/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server\n"), ctx('http://127.0.0.1:1/x')), { code: 'UNREACHABLE' })
  t.match(await transportFailure(run("fatal: '/nope' does not appear to be a git repository\nfatal: Could not read from remote repository.\n"), ctx('/nope')), { code: 'UNREACHABLE' })
  t.match(await transportFailure(run("error: cannot lock ref 'refs/cairn-sync/x/wal/a': Unable to create '/r/.git/refs/cairn-sync/x/wal/a.lock': File exists.\n", 1), ctx('/r')), { code: 'BUSY' })
  t.match(await transportFailure(run('', null, 'timeout'), ctx('git://h/x')), { code: 'UNREACHABLE', details: { reason: 'timeout' } })
  t.match(await transportFailure(run('', null, 'aborted'), ctx('git://h/x')), { code: 'ABORTED' })
  const odd = await transportFailure(run('something new\n', 1), ctx('git://h/x'))
  t.match(odd, { code: 'INTERNAL', details: { git: 'something new' } }, 'an unknown failure keeps what git said')
})

t.test('secrets in git\'s output are scrubbed from message and details', async (t) => {
  const e = await transportFailure(run("fatal: unable to access 'https://ann:s3cret@h/x/': Could not resolve host: h\n"), ctx('https://ann:s3cret@h/x', { secrets: ['s3cret'] }))
  t.notMatch(JSON.stringify({ m: e.message, d: e.details }), /s3cret/)
  t.match(e.message, /ann:\*\*\*@h/)
})
