/**
 * The README's embedding example runs as written against the sources (its
 * `'cairn'` import pointed at lib/index.ts, run through tsx), so editing
 * either keeps them in step. test/integration/package runs the same example
 * from the packed package with plain node, and type-checks it.
 */
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { README_EXAMPLE_LINES, readmeExample } from '../helpers/readme-example.ts'

const SOURCES = new URL('../../lib/index.ts', import.meta.url).href

t.test('the README embedding example runs as written', async (t) => {
  const code = readmeExample()
  t.ok(code.split('\n').length <= 40, 'the example stays short')
  t.match(code, /from 'cairn'/, "it imports the package by its name")
  const dir = mkdtempSync(join(tmpdir(), 'cairn-readme-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync('git', ['init', '-q', join(dir, 'repo')])
  const file = join(dir, 'example.mts')
  writeFileSync(file, code.replaceAll("from 'cairn'", `from '${SOURCES}'`))
  const res = spawnSync(process.execPath, ['--import=tsx', file], {
    env: { ...process.env, CAIRN_HOME: join(dir, 'home'), REPO_PATH: join(dir, 'repo') },
    encoding: 'utf8',
    timeout: 60_000,
  })
  t.equal(res.status, 0, `exits 0 by itself (stderr: ${res.stderr})`)
  t.same(res.stdout.trim().split('\n'), README_EXAMPLE_LINES, 'ready, idempotent retry, CYCLE, then the subscription replays the log in order')
})
