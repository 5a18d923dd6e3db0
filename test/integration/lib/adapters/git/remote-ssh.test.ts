/**
 * Sync and remote leases over ssh: our own sshd on 127.0.0.1 with key
 * authentication. Cairn uses ssh the way git does, so it works exactly
 * where plain git works: once with the key named in an ssh config that
 * `core.sshCommand` points at, once with the key only in ssh-agent
 * (SSH_AUTH_SOCK, GIT_SSH_COMMAND). A key the server does not accept is
 * AUTH_FAILED `rejected`, naming what was tried; plain git fails too.
 *
 * The user's global and system git configuration are kept out (an empty
 * GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM); `ssh -F` keeps the user's ssh
 * configuration out.
 */
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { startGitSsh, type GitSsh } from '../../../../helpers/git-ssh.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const box = sandbox()
writeFileSync(join(box.dir, 'gitconfig-global'), '')
process.env.GIT_CONFIG_GLOBAL = join(box.dir, 'gitconfig-global')
process.env.GIT_CONFIG_NOSYSTEM = '1'
delete process.env.SSH_AUTH_SOCK
delete process.env.GIT_SSH_COMMAND
t.teardown(() => box.cleanup())

let ssh: GitSsh
t.before(async () => { ssh = await startGitSsh() })
t.teardown(() => ssh?.stop())

function plainGit(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: '0' }, stdin: 'ignore' } as never)
  return { status: r.status, stderr: String(r.stderr) }
}

function clone(name: string, origin: string, sshCommand: string | null): string {
  const path = box.repo(name)
  execFileSync('git', ['-C', path, 'remote', 'add', 'origin', origin])
  if (sshCommand !== null) execFileSync('git', ['-C', path, 'config', 'core.sshCommand', sshCommand])
  return path
}

async function runtimeOn(t: Test, path: string, agent: string): Promise<Repo> {
  const rt = await createRuntime({ home: join(box.dir, `home-${agent}`), threads: 1 })
  t.teardown(() => rt.stop())
  return rt.repo(path, { agent })
}

async function syncAndLease(t: Test, ra: Repo, rb: Repo, resource: string): Promise<void> {
  const issue = await ra.issues.create({ title: `over ssh: ${resource}` })
  t.equal((await ra.sync({ remote: 'origin' })).pushed, 1, 'A pushed its WAL ref over ssh')
  t.equal((await rb.sync({ remote: 'origin' })).pulled, 1, 'B pulled it')
  t.equal((await rb.issues.show(issue.id)).title, `over ssh: ${resource}`)
  const lease = await ra.locks.acquire(resource, { ttlMs: 60_000, scope: 'remote', remote: 'origin', autoRenew: false })
  t.match(await rb.locks.acquire(resource, { ttlMs: 60_000, scope: 'remote', remote: 'origin' }).catch((e) => e), { code: 'LEASE_HELD' }, 'B is refused while A holds it')
  await lease.renew()
  await lease.release()
  const next = await rb.locks.acquire(resource, { ttlMs: 60_000, scope: 'remote', remote: 'origin', autoRenew: false })
  t.ok(next.token > lease.token, 'B gets it after the release')
  await next.release()
}

t.test('the key in an ssh config, through core.sshCommand', async (t) => {
  const bare = join(box.dir, 'key.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const sshCommand = `ssh -F ${ssh.configWithKey}`
  const a = clone('k-a', ssh.url(bare), sshCommand)
  const b = clone('k-b', `${'cairn-test-ssh'}:${bare}`, sshCommand) // scp-like form too
  t.equal(plainGit(a, {}, 'ls-remote', 'origin').status, 0, 'plain git reaches it')
  await syncAndLease(t, await runtimeOn(t, a, 'ka'), await runtimeOn(t, b, 'kb'), 'path:via-config')
})

t.test('the key only in ssh-agent, with GIT_SSH_COMMAND', async (t) => {
  const bare = join(box.dir, 'agent.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const agent = await ssh.agent()
  t.teardown(() => agent.stop())
  const env = { SSH_AUTH_SOCK: agent.sock, GIT_SSH_COMMAND: `ssh -F ${ssh.configWithoutKey}` }
  const a = clone('g-a', ssh.url(bare), null)
  const b = clone('g-b', ssh.url(bare), null)
  t.not(plainGit(a, { GIT_SSH_COMMAND: env.GIT_SSH_COMMAND }, 'ls-remote', 'origin').status, 0, 'without the agent plain git is refused')
  t.equal(plainGit(a, env, 'ls-remote', 'origin').status, 0, 'with it plain git gets in')

  // A runtime sees the environment it starts in, as git would: first one without the agent.
  process.env.GIT_SSH_COMMAND = env.GIT_SSH_COMMAND
  t.teardown(() => { delete process.env.SSH_AUTH_SOCK; delete process.env.GIT_SSH_COMMAND })
  const noAgent = await runtimeOn(t, a, 'g-none')
  const refused = await noAgent.sync({ remote: 'origin' }).catch((e) => e)
  t.match(refused, { code: 'AUTH_FAILED', details: { reason: 'rejected', transport: 'ssh' } }, 'without the agent: AUTH_FAILED')
  t.match(refused.message, /accepted none of the keys/, `saying what happened: ${refused.message}`)
  t.match(refused.message, /GIT_SSH_COMMAND.*no ssh-agent \(SSH_AUTH_SOCK is not set/, 'and what was tried')

  process.env.SSH_AUTH_SOCK = env.SSH_AUTH_SOCK
  await syncAndLease(t, await runtimeOn(t, a, 'ga'), await runtimeOn(t, b, 'gb'), 'path:via-agent')
})

t.test('a key the server does not accept: AUTH_FAILED, plain git refused too', async (t) => {
  const bare = join(box.dir, 'other.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const stranger = join(box.dir, 'stranger_key')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger])
  const config = join(box.dir, 'ssh_config_stranger')
  writeFileSync(config, `Host cairn-test-ssh\n  HostName 127.0.0.1\n  Port ${ssh.port}\n  User ${ssh.user}\n  IdentityFile ${stranger}\n  IdentitiesOnly yes\n` +
    `  UserKnownHostsFile ${join(ssh.keyPath, '..', 'known_hosts')}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n`)
  const a = clone('s-a', ssh.url(bare), `ssh -F ${config}`)
  t.not(plainGit(a, {}, 'ls-remote', 'origin').status, 0, 'plain git is refused')
  const repo = await runtimeOn(t, a, 'sa')
  const err = await repo.locks.acquire('path:x', { ttlMs: 10_000, scope: 'remote', remote: 'origin' }).catch((e) => e)
  t.match(err, { code: 'AUTH_FAILED', details: { reason: 'rejected', transport: 'ssh' } })
  t.match(err.message, /core\.sshCommand/, `it names the ssh command that was used: ${err.message}`)
})
