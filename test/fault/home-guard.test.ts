/**
 * Another local user cannot lock a home's owner out: the home's mutex is a
 * flock on a file inside the 0700 home. A process of user `nobody` squatting
 * the abstract socket name the mutex used to be (predictable from the home's
 * path) and trying the lock file changes nothing: an embedded command and a
 * daemon start at once. The kernel frees the lock when its holder is
 * SIGKILLed.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { ensureHome, daemonPaths } from '../../lib/daemon/paths.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { cliProcess, daemonProcess } from '../integration/lib/daemon/daemon-helpers.ts'

const NOBODY = 65534

/** A process of user nobody that holds `\0name` and reports whether it could open `file`. */
function squatter(t: { teardown(fn: () => unknown): void }, name: string, file: string): Promise<string> {
  const code = `
    const net = require('node:net'); const fs = require('node:fs')
    let opened = 'opened'
    try { fs.closeSync(fs.openSync(${JSON.stringify(file)}, 'a')) } catch (e) { opened = e.code }
    net.createServer((s) => s.destroy()).listen('\\0' + ${JSON.stringify(name)}, () => console.log('holding ' + opened))
    setTimeout(() => process.exit(0), 120000)`
  const child = spawn(process.execPath, ['-e', code], { uid: NOBODY, gid: NOBODY, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (s: string) => resolve(s.trim()))
    child.once('exit', (c) => reject(new Error(`squatter exited ${c}`)))
  })
}

t.test('a squatter of another user holds nothing of the home', { skip: process.getuid?.() !== 0 ? 'needs root to run a process as nobody' : false }, async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('r')
  const home = ensureHome(box.home)
  const oldName = `cairn-home:${createHash('sha256').update(realpathSync(home)).digest('hex').slice(0, 40)}`
  t.equal(await squatter(t, oldName, daemonPaths(home).mutexName), 'holding EACCES', 'nobody holds the old abstract name and cannot open the lock file')

  const environment = { ...process.env, CAIRN_HOME: home, CAIRN_AGENT: 'owner' }
  const started = Date.now()
  const embedded = await cliProcess(['issue', 'create', 'mine', '--no-daemon', '--json', '-C', repo], { cwd: repo, env: environment, timeoutMs: 60_000 })
  t.equal(embedded.code, 0, `an embedded command runs (${embedded.stderr.trim()})`)
  t.ok(Date.now() - started < 30_000, `without waiting for the squatter (${Date.now() - started} ms)`)

  const d = daemonProcess(t, home, ['--idle-timeout', '0'])
  t.equal((await d.ready).ok, true, 'a daemon starts')
  const busy = await cliProcess(['issue', 'list', '--no-daemon', '--json', '-C', repo], { cwd: repo, env: environment })
  t.match(JSON.parse(busy.stdout), { ok: false, error: { code: 'BUSY' } }, 'and holds the home against an embedded command')
  d.kill('SIGKILL')
  await d.exited
  const after = await cliProcess(['issue', 'list', '--no-daemon', '--json', '-C', repo], { cwd: repo, env: environment, timeoutMs: 60_000 })
  t.match(JSON.parse(after.stdout), { ok: true, data: [{ title: 'mine' }] }, 'SIGKILL of the daemon frees the home at once')
})
