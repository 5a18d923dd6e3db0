/**
 * `npm start`: the daemon in the foreground on the repository you are in.
 *
 * npm runs scripts in the package's own folder, so the folder you ran it from
 * comes from `INIT_CWD`: the git repository there is served (or the one named,
 * relative to that folder; or, outside any repository, a demo repository
 * created with a few issues under the system temp dir). Serves `$CAIRN_HOME`
 * (or `--home`), prints one status line whose hint runs from any folder, and
 * stops on Ctrl-C / SIGTERM or by itself after the idle timeout (default
 * 300 s without a connection). Bundled into dist/bundle/start.js by the
 * build; `npm start` builds first when a source is newer.
 *
 *   npm start                                   # where you are, or a demo
 *   npm --prefix /path/to/cairn start           # from any folder: the repository you are in
 *   npm start -- /path/to/repo --idle-timeout 60
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { connect } from '../lib/daemon/client.ts'
import { resolveHome } from '../lib/daemon/paths.ts'
import { startDaemon } from '../lib/daemon/server.ts'
import { cairnCommand } from '../lib/daemon/spawn.ts'
import { exitCodeOf } from '../lib/cli/exit-codes.ts'
import { isCairnError } from '../lib/index.ts'

function fail(msg: string): never {
  process.stderr.write(`cairn start: ${msg}\n`)
  process.exit(2)
}

let parsed
try {
  parsed = parseArgs({ allowPositionals: true, options: { home: { type: 'string' }, 'idle-timeout': { type: 'string' } } })
} catch (err) {
  fail((err as Error).message)
}
const { values, positionals } = parsed
const idle = values['idle-timeout'] === undefined ? undefined : Number(values['idle-timeout'])
if (idle !== undefined && !(Number.isInteger(idle) && idle >= 0)) fail('--idle-timeout must be a whole number of seconds')
if (positionals.length > 1) fail(`one repository at most (got ${positionals.length})`)

/** The folder the user ran `npm start` from (npm itself runs us in the package's folder). */
const userDir = process.env.INIT_CWD ?? process.cwd()

function gitTop(dir: string): string | null {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

/** A word for a POSIX shell: quoted only when it needs to be. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`
}

let repo = positionals[0] !== undefined ? resolve(userDir, positionals[0]) : gitTop(userDir)
let demo = false
if (repo === null) {
  repo = join(mkdtempSync(join(tmpdir(), 'cairn-demo-')), 'demo-repo')
  execFileSync('git', ['init', '-q', repo])
  demo = true
}
const home = resolveHome(values.home === undefined ? undefined : resolve(userDir, values.home))

let daemon
try {
  daemon = await startDaemon({ home, ...(idle !== undefined ? { idleTimeoutSec: idle } : {}), log: (l) => process.stderr.write(`cairn daemon: ${l}\n`) })
} catch (err) {
  fail(isCairnError(err) ? `${err.code}: ${err.message}` : String(err))
}
process.once('SIGINT', () => { void daemon.stop('signal') })
process.once('SIGTERM', () => { void daemon.stop('signal') })

const client = await connect(home)
try {
  if (demo) {
    const design = await client.request<{ id: string }>('issues.create', { repo, agent: 'demo', args: { title: 'Design the API', labels: ['api'] } })
    const build = await client.request<{ id: string }>('issues.create', { repo, agent: 'demo', args: { title: 'Build it' } })
    await client.request('issues.depend', { repo, agent: 'demo', args: { id: build.id, target: design.id, type: 'depends_on' } })
  }
  const info = await client.request<{ path: string; issues: number; events: number }>('repo.init', { repo })
  // Absolute paths throughout, so the hint works from any folder and any shell.
  const defaultHome = resolve(join(homedir(), '.local', 'state', 'cairn'))
  const hint = ['node', ...cairnCommand(), 'issue', 'list', '-C', info.path, ...(home === defaultHome ? [] : ['--home', home])].map(shellWord).join(' ')
  process.stdout.write(`cairn: daemon pid ${daemon.pid} serving ${home}; repository ${info.path} `
    + `(${info.issues} issues, ${info.events} events${demo ? ', demo' : ''}); try \`${hint}\`; Ctrl-C stops\n`)
} catch (err) {
  process.stderr.write(`cairn start: ${isCairnError(err) ? `${err.code}: ${err.message}` : String(err)}\n`)
  process.exitCode = isCairnError(err) ? exitCodeOf(err.code) : 1
  void daemon.stop('error')
} finally {
  client.close()
}
const reason = await daemon.stopped
process.stdout.write(`cairn: daemon stopped (${reason})\n`)
