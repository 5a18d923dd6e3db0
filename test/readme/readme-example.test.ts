import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

t.test('the README embedding example runs as written', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const m = /<!-- embed-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- embed-example:end -->/.exec(readme)
  t.ok(m, 'README has the marked example')
  const code = m![1]!
  t.ok(code.split('\n').length <= 40, 'the example stays short')
  const dir = mkdtempSync(join(tmpdir(), 'cairn-readme-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync('git', ['init', '-q', join(dir, 'repo')])
  // Inside the package so `import 'cairn'` resolves through package.json exports.
  const file = join(root, 'test', 'readme', `.example-${process.pid}.ts`)
  writeFileSync(file, code)
  t.teardown(() => rmSync(file, { force: true }))
  const res = spawnSync(process.execPath, ['--import=tsx', file], {
    env: { ...process.env, CAIRN_HOME: join(dir, 'home'), REPO_PATH: join(dir, 'repo') },
    encoding: 'utf8',
    timeout: 60_000,
  })
  t.equal(res.status, 0, `exits 0 by itself (stderr: ${res.stderr})`)
  const lines = res.stdout.trim().split('\n')
  t.same(lines, [
    "[ 'Design the API' ]",
    'true',
    'refused: would close a cycle',
    '1 IssueCreated',
    '2 IssueCreated',
    '3 DependencyAdded',
    '4 CommentAdded',
  ], 'ready, idempotent retry, CYCLE, then the subscription replays the log in order')
})
