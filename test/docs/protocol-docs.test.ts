/**
 * docs/protocol.md says what the daemon does: its generated sections (every
 * operation's arguments, every error code) are what the code renders now,
 * and its Python client, run as written by a real Python against a real
 * daemon, creates, comments on and lists issues, and reads a coded error.
 */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOC, DOCUMENTED, regenerate } from '../../scripts/protocol-docs.ts'
import { OPERATION_SPECS } from '../../protocol/operations/index.ts'
import { UI_OPERATIONS } from '../../protocol/operations/ui.ts'
import { ERROR_CODES } from '../../protocol/errors.ts'
import { connect } from '../../lib/daemon/client.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { inProcessDaemon } from '../integration/lib/daemon/daemon-helpers.ts'

const doc = readFileSync(DOC, 'utf8')

t.test('the generated sections are up to date (npm run docs:protocol)', async (t) => {
  t.equal(regenerate(doc), doc, 'docs/protocol.md is what the schemas and the error table render')
  t.same(Object.keys(DOCUMENTED).sort(), [...Object.keys(OPERATION_SPECS), ...Object.keys(UI_OPERATIONS)].sort(), 'the operations and the board methods')
  for (const method of Object.keys(DOCUMENTED)) t.match(doc, `### \`${method}\``, `${method} is documented`)
  for (const code of Object.keys(ERROR_CODES)) t.match(doc, `| \`${code}\` |`, `${code} is documented`)
})

/** A Python 3 that has msgpack (scripts/setup installs Debian's python3-msgpack for /usr/bin/python3). */
function python(): string | null {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(exe, ['-c', 'import msgpack'], { stdio: 'ignore' }).status === 0) return exe
  }
  return null
}

t.test('the documented Python client creates and lists issues through the socket', async (t) => {
  const m = /<!-- python-client:start -->\s*```python\n([\s\S]*?)```\s*<!-- python-client:end -->/.exec(doc)
  t.ok(m, 'the page has the marked client')
  const exe = python()
  t.ok(exe, 'a python3 with msgpack is installed (scripts/setup)')
  if (!m || !exe) return
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('py')
  const d = await inProcessDaemon(t, { home: box.home, idleTimeoutSec: 0 })
  const script = join(box.dir, 'cairn_client.py')
  writeFileSync(script, m[1]!)
  // Asynchronously: the daemon answering it runs in this process.
  const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(exe, [script, repo], { cwd: repo, env: { ...process.env, CAIRN_HOME: box.home } })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }) })
  })
  t.equal(run.code, 0, `exits 0 (stderr: ${run.err})`)
  const lines = run.out.trim().split('\n')
  t.match(lines, [/^[0-9a-f]{32} open Written from Python 1$/, 'INVALID_ARGUMENT title'], 'the listing, then the coded error naming the field')
  const id = lines[0]!.split(' ')[0]!
  const c = await connect(d.paths.home)
  t.teardown(() => c.close())
  const issue = await c.request<{ title: string; labels: string[]; comments: { body: string }[]; createdBy: string }>('issues.show', { repo, args: { id } })
  t.match(issue, { title: 'Written from Python', labels: ['python'], comments: [{ body: 'and commented on' }] }, 'what Python wrote is on the board')
  const who = await c.request<{ actor: string }>('repo.init', { repo, agent: 'py-agent' })
  t.equal(issue.createdBy, who.actor, 'written as the agent Python named')
})
