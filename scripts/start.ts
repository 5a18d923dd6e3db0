/**
 * `npm start`: the daemon in the foreground on an embedded default.
 *
 * Serves `$CAIRN_HOME` (or `--home`), warms the current git repository (or
 * the one named, or, outside any repository, a demo repository it creates
 * with a few issues) and prints one status line. Stops on Ctrl-C / SIGTERM,
 * or by itself after the idle timeout (default 300 s without a connection).
 *
 *   npm start                          # the repository you are in, or a demo one
 *   npm start -- /path/to/repo --idle-timeout 60
 *   cairn demo                         # the simulated-agents demo
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { connect } from '../lib/daemon/client.ts'
import { resolveHome } from '../lib/daemon/paths.ts'
import { startDaemon } from '../lib/daemon/server.ts'
import { isCairnError } from '../lib/index.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { home: { type: 'string' }, 'idle-timeout': { type: 'string' } },
})
const idle = values['idle-timeout'] === undefined ? undefined : Number(values['idle-timeout'])
if (idle !== undefined && !(Number.isInteger(idle) && idle >= 0)) fail('--idle-timeout must be a whole number of seconds')

function fail(msg: string): never {
  process.stderr.write(`cairn start: ${msg}\n`)
  process.exit(2)
}

function gitTop(dir: string): string | null {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

let repo = positionals[0] ? resolve(positionals[0]) : gitTop(process.cwd())
let demo = false
if (!repo) {
  repo = join(mkdtempSync(join(tmpdir(), 'cairn-demo-')), 'demo-repo')
  execFileSync('git', ['init', '-q', repo])
  demo = true
}
const home = resolveHome(values.home)

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
  process.stdout.write(`cairn: daemon pid ${daemon.pid} serving ${home} on ${daemon.paths.socket}; `
    + `repository ${info.path} (${info.issues} issues, ${info.events} events${demo ? ', demo' : ''}); `
    + `try \`CAIRN_HOME=${home} npx cairn issue list -C ${repo}\`; Ctrl-C stops\n`)
} catch (err) {
  process.stderr.write(`cairn start: ${isCairnError(err) ? `${err.code}: ${err.message}` : String(err)}\n`)
  void daemon.stop('error')
} finally {
  client.close()
}
const reason = await daemon.stopped
process.stdout.write(`cairn: daemon stopped (${reason})\n`)
