/**
 * `cairn ui` as a user runs it: the daemon (auto-started) serves the board
 * and keeps serving it; flags are checked; the token lives 0600 in the home
 * and never reaches the daemon's log or `daemon status`; `--open` hands the
 * browser a 0600 redirect page, not the token on a command line;
 * `--rotate-token` retires old URLs (same port); `--stop` ends the board and
 * lets the daemon idle out again; `--no-daemon` serves from the command itself.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { CAIRN, TSX_IMPORT, cli, envelope, eventually, stopDaemonOf } from '../daemon/daemon-helpers.ts'
import { http } from '../ui/board-helpers.ts'

function box(t: { teardown(fn: () => unknown): void }) {
  const b = sandbox()
  t.teardown(async () => { await stopDaemonOf(b.home); b.cleanup() })
  return { ...b, repo: b.repo('repo') }
}

const tokenOf = (url: string): string => new URL(url).searchParams.get('token') ?? ''

t.test('the daemon serves the board; the token stays in the home; flags are checked', async (t) => {
  const b = box(t)
  const env = { ...process.env, CAIRN_HOME: b.home }
  const run = (...args: string[]) => cli([...args, '-C', b.repo], env)

  const bad = await run('ui', '--allow-writes', '--json')
  t.equal(bad.code, 2, '--allow-writes without a name: INVALID_ARGUMENT')
  t.match(envelope(bad), { ok: false, error: { code: 'INVALID_ARGUMENT', message: /--agent/ } })
  t.equal((await run('ui', '--port', '70000', '--json')).code, 2, 'a port out of range')
  t.equal((await run('ui', '--port', 'abc', '--json')).code, 2, 'a port that is no number')
  t.equal((await run('ui', '--stop', '--port', '5', '--json')).code, 2, '--stop with another flag')

  const started = await run('ui', '--port', '0', '--json')
  t.equal(started.code, 0, started.stderr)
  const info = envelope(started).data as { url: string; port: number; pid: number; allowWrites: boolean; repos: { name: string }[] }
  t.match(info, { allowWrites: false, repos: [{ name: 'repo' }] })
  const token = tokenOf(info.url)
  t.equal(readFileSync(join(b.home, 'ui.token'), 'utf8').trim(), token, 'the token is the home\'s')
  t.equal(statSync(join(b.home, 'ui.token')).mode & 0o777, 0o600, 'kept 0600')
  t.equal((await http(info.port, '/api/boards', { headers: { authorization: `Bearer ${token}` } })).status, 200, 'the board answers')

  const human = await run('ui')
  t.equal(human.code, 0)
  t.match(human.stdout, new RegExp(`http://127\\.0\\.0\\.1:${info.port}/\\?token=${token}`), 'a second `cairn ui` prints the same board, same port')
  t.match(human.stdout, /read-only/)

  const status = await cli(['daemon', 'status', '--json'], env)
  t.match(envelope(status), { ok: true, data: { ui: { port: info.port, url: `http://127.0.0.1:${info.port}/`, allowWrites: false } } }, 'daemon status names the board')
  t.notMatch(status.stdout, token, 'but not its token')

  const writes = await run('ui', '--allow-writes', '--agent', 'alice', '--json')
  t.match(envelope(writes), { ok: true, data: { allowWrites: true, writer: 'alice', port: info.port } }, 'writes as the agent named')

  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.teardown(() => holder.close())
  const taken = (holder.address() as { port: number }).port
  const busy = await run('ui', '--port', String(taken), '--json')
  t.equal(busy.code, 11, 'a port in use: BUSY')
  t.match(envelope(busy), { ok: false, error: { code: 'BUSY', message: new RegExp(`port ${taken}`) } })

  const rotated = await run('ui', '--rotate-token', '--json')
  const fresh = tokenOf((envelope(rotated).data as { url: string }).url)
  t.not(fresh, token, '--rotate-token makes a new token')
  t.equal((envelope(rotated).data as { port: number }).port, info.port, 'on the same port')
  t.equal((await http(info.port, '/api/boards', { headers: { authorization: `Bearer ${token}` } })).status, 401, 'the old URL stops working')
  t.equal((await http(info.port, '/api/boards', { headers: { authorization: `Bearer ${fresh}` } })).status, 200)

  const log = readFileSync(join(b.home, 'daemon.log'), 'utf8')
  t.match(log, /board: serving http:\/\/127\.0\.0\.1:/, 'the daemon log says where the board is')
  t.notMatch(log, token, 'never with the token')
  t.notMatch(log, fresh)

  const stopped = await run('ui', '--stop', '--json')
  t.match(envelope(stopped), { ok: true, data: { stopped: true } })
  await t.rejects(http(info.port, '/', {}), 'the port is closed')
  t.match(envelope(await run('ui', '--stop', '--json')), { ok: true, data: { stopped: false } }, 'stopping twice says nothing was served')
})

t.test('--open gives the browser a 0600 page in the home, never the token on its command line', async (t) => {
  const b = box(t)
  const seen = join(b.dir, 'browser-args')
  const browser = join(b.dir, 'fake-browser')
  writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$@" > '${seen}'\n`)
  chmodSync(browser, 0o755)
  const env = { ...process.env, CAIRN_HOME: b.home, BROWSER: browser }
  const r = await cli(['ui', '--port', '0', '--open', '--json', '-C', b.repo], env)
  t.equal(r.code, 0, r.stderr)
  const data = envelope(r).data as { url: string; opened: string }
  t.match(data.opened, /opened in your browser/)
  await eventually(() => { try { return readFileSync(seen, 'utf8').length > 0 } catch { return false } }, 10_000)
  const args = readFileSync(seen, 'utf8').trim()
  t.match(args, /^file:\/\/.*ui-open\.html$/, 'the browser gets a file in the home')
  t.notMatch(args, tokenOf(data.url), 'not the token')
  const page = join(b.home, 'ui-open.html')
  t.equal(statSync(page).mode & 0o777, 0o600)
  t.ok(readFileSync(page, 'utf8').includes(`url=${data.url}`), 'the page redirects to the board URL')

  const none = await cli(['ui', '--open', '--json', '-C', b.repo], { ...env, BROWSER: join(b.dir, 'no-such-browser') })
  t.equal(none.code, 0, 'no browser is no failure')
  t.match(envelope(none).data, { opened: /could not start a browser/ })
})

t.test('serving the board keeps the daemon from idling out; --stop lets it go', async (t) => {
  const b = box(t)
  const env = { ...process.env, CAIRN_HOME: b.home }
  t.equal((await cli(['daemon', 'start', '--idle-timeout', '1', '--json'], env)).code, 0)
  const r = await cli(['ui', '--port', '0', '--json', '-C', b.repo], env)
  const pid = (envelope(r).data as { pid: number }).pid
  await new Promise((resolve) => setTimeout(resolve, 2500))
  t.equal((await cli(['daemon', 'status', '--json'], env)).code, 0, 'still up well past its 1 s idle timeout')
  await cli(['ui', '--stop', '--json'], env)
  await eventually(() => { try { process.kill(pid, 0); return false } catch { return true } }, 15_000)
  t.pass('after --stop the idle daemon stops by itself')
})

t.test('--no-daemon serves the board from the command, on an embedded runtime, until SIGINT', async (t) => {
  const b = box(t)
  const child = spawn(process.execPath, [TSX_IMPORT, CAIRN, 'ui', '--no-daemon', '--port', '0', '--json', '-C', b.repo], {
    env: { ...process.env, CAIRN_HOME: b.home }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  await eventually(() => out.includes('\n'), 30_000)
  const data = JSON.parse(out.split('\n')[0]!).data as { url: string; port: number; pid: number; foreground: boolean }
  t.match(data, { foreground: true, pid: child.pid })
  t.equal((await http(data.port, '/api/boards', { headers: { authorization: `Bearer ${tokenOf(data.url)}` } })).status, 200, 'the board answers')
  child.kill('SIGINT')
  t.equal(await exited, 0, 'Ctrl-C stops it cleanly')
  await t.rejects(http(data.port, '/', {}), 'and the port is closed')
})
