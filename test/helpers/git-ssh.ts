/**
 * git over ssh for tests, on 127.0.0.1 only: an sshd of our own on a free
 * port with key authentication, host and user keys generated into a temp
 * dir, run as a foreground child (`sshd -D`), plus an ssh-agent on demand.
 * Nothing of the system's ssh setup is read or changed: the client side is
 * an ssh config file (`ssh -F`) with its own known_hosts.
 *
 * sshd run by root insists on its privilege-separation directory
 * (/run/sshd, normally made by the service manager). When it is missing,
 * sshd runs in a private mount namespace with a tmpfs on /run holding it
 * (`unshare -m`), so the host is left as it was; only if that is not
 * allowed is /run/sshd created (an empty root-owned directory, what the
 * openssh-server package expects). Run as another user, sshd needs none.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort, listening, startProcess, type ServerProcess } from './server-process.ts'

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p)) ?? '/usr/sbin/sshd'
const PRIVSEP_DIR = '/run/sshd'
/** The Host alias the generated ssh configs define. */
export const SSH_HOST = 'cairn-test-ssh'

export interface GitSsh {
  port: number
  user: string
  /** The private key sshd accepts (no passphrase). */
  keyPath: string
  /** An ssh config (for `ssh -F`) whose Host alias names the server, the user, the key and our known_hosts. */
  configWithKey: string
  /** The same without any IdentityFile: only an agent's keys get in. */
  configWithoutKey: string
  /** `ssh://cairn-test-ssh/<absolute path>`: reaches `path` through the alias (needs one of the configs). */
  url(path: string): string
  /** Starts an ssh-agent holding the key; `sock` is its SSH_AUTH_SOCK. */
  agent(): Promise<{ sock: string; stop(): Promise<void> }>
  stop(): Promise<void>
}

function keygen(path: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' })
}

function sshdConfig(dir: string, port: number, root: boolean): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    'PidFile none',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The temp dir's parents (/tmp) are world-writable: StrictModes would refuse the key file.
    'StrictModes no',
    root ? 'PermitRootLogin prohibit-password' : '',
    'LogLevel VERBOSE',
  ].filter(Boolean).join('\n') + '\n'
}

function clientConfig(dir: string, port: number, user: string, withKey: boolean): string {
  return [
    `Host ${SSH_HOST}`,
    '  HostName 127.0.0.1',
    `  Port ${port}`,
    `  User ${user}`,
    withKey ? `  IdentityFile ${join(dir, 'id_ed25519')}\n  IdentitiesOnly yes` : '  IdentitiesOnly no',
    `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  ConnectTimeout 10',
  ].join('\n') + '\n'
}

async function launch(dir: string, port: number, root: boolean): Promise<ServerProcess> {
  const args = ['-D', '-e', '-f', join(dir, 'sshd_config')]
  const attempts: (() => ServerProcess)[] = []
  if (!root || existsSync(PRIVSEP_DIR)) attempts.push(() => startProcess(SSHD, args))
  else {
    attempts.push(() => startProcess('unshare', ['-m', 'sh', '-c',
      `mount -t tmpfs -o mode=755 cairn-test-sshd /run && mkdir -m 755 ${PRIVSEP_DIR} && exec "$0" "$@"`, SSHD, ...args]))
    attempts.push(() => {
      mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 })
      return startProcess(SSHD, args)
    })
  }
  let last: Error | null = null
  for (const attempt of attempts) {
    const server = attempt()
    try {
      await listening(port, 10_000, server.gone)
      return server
    } catch (err) {
      await server.stop()
      last = err as Error
    }
  }
  throw last ?? new Error('sshd did not start')
}

/**
 * Starts sshd on a free port of 127.0.0.1 accepting one generated key for
 * the current user.
 * @example
 *   const ssh = await startGitSsh()
 *   execFileSync('git', ['-c', `core.sshCommand=ssh -F ${ssh.configWithKey}`, 'ls-remote', ssh.url('/srv/r.git')])
 */
export async function startGitSsh(): Promise<GitSsh> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-sshd-'))
  const port = await freePort()
  const root = process.getuid?.() === 0
  const user = userInfo().username
  keygen(join(dir, 'host_ed25519'), 'cairn-test-host')
  keygen(join(dir, 'id_ed25519'), 'cairn-test-user')
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')), { mode: 0o600 })
  const hostKey = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`)
  writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir, port, root))
  writeFileSync(join(dir, 'ssh_config_key'), clientConfig(dir, port, user, true), { mode: 0o600 })
  writeFileSync(join(dir, 'ssh_config_agent'), clientConfig(dir, port, user, false), { mode: 0o600 })
  let server: ServerProcess
  try {
    server = await launch(dir, port, root)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const agents: (() => Promise<void>)[] = []
  return {
    port,
    user,
    keyPath: join(dir, 'id_ed25519'),
    configWithKey: join(dir, 'ssh_config_key'),
    configWithoutKey: join(dir, 'ssh_config_agent'),
    url: (path) => `ssh://${SSH_HOST}${path.startsWith('/') ? '' : '/'}${path}`,
    agent: async () => {
      const sock = join(dir, `agent-${agents.length}.sock`)
      const agent = startProcess('ssh-agent', ['-D', '-a', sock])
      agents.push(agent.stop)
      const until = Date.now() + 5_000
      while (!existsSync(sock)) {
        if (agent.gone() !== null || Date.now() > until) throw new Error(`ssh-agent did not start: ${agent.gone() ?? 'timeout'}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      execFileSync('ssh-add', ['-q', join(dir, 'id_ed25519')], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' })
      return { sock, stop: agent.stop }
    },
    stop: async () => {
      await Promise.all(agents.map((stop) => stop()))
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
