/**
 * The `cairn` command's prebuilt bundle (scripts/cli-bundle.mjs): it answers
 * exactly as the sources do, and it is used only while no input is newer
 * than it (a stale, missing or damaged bundle means "run the sources").
 */
import t from 'tap'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { tmpdir } from 'node:os'
import { pathToFileURL } from 'node:url'
// @ts-expect-error: a plain .mjs script without types
import { buildCliBundle, freshCliBundle, ROOT } from '../../../../scripts/cli-bundle.mjs'
import { runCli as runSources } from '../../../../lib/cli/main.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

type RunCli = typeof runSources
const box = sandbox()
// Two levels below the root, as the real one (dist/cli): paths relative to the bundle resolve the same.
const outDir = join(ROOT as string, 'dist', `test-bundle-${process.pid}`)
t.teardown(() => {
  rmSync(outDir, { recursive: true, force: true })
  box.cleanup()
})

const built = await (buildCliBundle as (d: string) => Promise<{ bundle: string; inputs: string[] }>)(outDir)
const fresh = freshCliBundle as (d: string) => string | null
const { runCli: runBundle } = await import(pathToFileURL(built.bundle).href) as { runCli: RunCli }

async function run(runCli: RunCli, argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, { out: (s) => { out += s }, err: (s) => { err += s }, isTTY: false }, env)
  return { code, out, err }
}

t.test('the bundle answers exactly as the sources', async (t) => {
  const repo = box.repo('same')
  const env = { ...process.env, CAIRN_HOME: box.home, CAIRN_NO_DAEMON: '1' }
  const created = await run(runSources, ['issue', 'create', 'bundled?', '-C', repo, '--json'], env)
  t.equal(created.code, 0, created.err)
  const id = JSON.parse(created.out).data.id as string
  const cases: string[][] = [
    ['--version'],
    ['issue', 'show', id, '-C', repo, '--json'],
    ['issue', 'show', id.slice(0, 8), '-C', repo],
    ['issue', 'list', '-C', repo, '--json'],
    ['issue', 'show', 'f'.repeat(32), '-C', repo, '--json'],
    ['issue', 'list', '--state', 'maybe', '-C', repo, '--json'],
    ['issue', 'frobnicate', '--json'],
    ['lock', 'acquire', '--json'],
  ]
  for (const argv of cases) {
    const a = await run(runSources, argv, env)
    const b = await run(runBundle, argv, env)
    t.same(b, a, `cairn ${argv.join(' ')} (exit ${a.code})`)
  }
})

t.test('used only while fresh: a newer input, a missing or damaged manifest means the sources', async (t) => {
  t.equal(fresh(outDir), built.bundle, 'just built: fresh')
  t.ok(built.inputs.includes('lib/cli/main.ts'), 'inputs are root-relative and include the entry')
  t.notOk(built.inputs.some((p) => p.includes('create-runtime') || p.includes('daemon/server')), 'the runtime stays out of the bundle')

  const scratch = mkdtempSync(join(tmpdir(), 'cairn-bundle-'))
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
  const input = join(scratch, 'input.ts')
  writeFileSync(input, '// an input\n')
  const past = new Date(Date.now() - 60_000)
  utimesSync(input, past, past)
  const manifest = join(outDir, 'inputs.json')
  writeFileSync(manifest, JSON.stringify({ inputs: [relative(ROOT as string, input)] }))
  const bundleTime = new Date(Date.now() - 30_000)
  utimesSync(built.bundle, bundleTime, bundleTime)
  t.equal(fresh(outDir), built.bundle, 'inputs older than the bundle: fresh')
  const future = new Date(Date.now() + 60_000)
  utimesSync(input, future, future)
  t.equal(fresh(outDir), null, 'an input edited after the build: stale')
  rmSync(input)
  t.equal(fresh(outDir), null, 'an input gone: stale')
  for (const bad of ['', '{', '{"inputs":[]}', '{"inputs":[7]}', '{"inputs":"lib/cli/main.ts"}']) {
    writeFileSync(manifest, bad)
    t.equal(fresh(outDir), null, `manifest ${JSON.stringify(bad)}: not used`)
  }
  rmSync(manifest)
  t.equal(fresh(outDir), null, 'no manifest: not used')
  t.equal(fresh(join(scratch, 'nowhere')), null, 'no bundle: not used')
})
