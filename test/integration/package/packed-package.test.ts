/**
 * Cairn as a user installs it: `npm pack`, unpacked into a consumer project
 * whose node_modules holds only Cairn's runtime dependencies (no tsx, no
 * esbuild, no typescript: see test/helpers/packed-package.ts). There, with
 * plain `node` and no loader:
 *
 * - the tarball holds the compiled package (JavaScript and the declarations
 *   its entry points reach) and nothing of test/, bench/ or the TypeScript
 *   sources;
 * - `import { createRuntime } from 'cairn'` creates an issue, reads it back
 *   and exits by itself; so does the README's example;
 * - a strict NodeNext TypeScript project type-checks against the package
 *   with no extra flags (and a wrong use is reported, so the types are real);
 * - Cairn runs inside the consumer's own worker thread, and bundled by
 *   esbuild with dependencies external;
 * - the `cairn` bin answers --version and writes through a daemon it starts
 *   from the package (whose board serves the packaged page), and embedded
 *   with --no-daemon;
 * - a broken install fails at once with the cause.
 *
 * The runs are started together (each with its own repository and home) and
 * each subtest awaits its own: most of a run is waiting on threads and disk.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { build as esbuild } from 'esbuild'
import { packedConsumer, ROOT, writeText, type RunResult } from '../../helpers/packed-package.ts'
import { README_EXAMPLE_LINES, readmeExample } from '../../helpers/readme-example.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const consumer = packedConsumer()
t.teardown(() => consumer.cleanup())
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

/** A fresh git repository and its own runtime home, so the runs below can go at once. */
let count = 0
function fresh(): { repo: string; env: NodeJS.ProcessEnv } {
  const n = ++count
  const repo = join(consumer.dir, `repo-${n}`)
  execFileSync('git', ['init', '-q', repo])
  return { repo, env: consumer.env({ CAIRN_HOME: join(consumer.dir, `home-${n}`) }) }
}

/** The last stdout line of a run that must exit 0, parsed. */
function lastJson(r: RunResult): Record<string, unknown> {
  if (r.status !== 0) throw new Error(`exit ${r.status} (${r.signal}); stderr: ${r.stderr}; stdout: ${r.stdout}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
}

// One issue written and read back through the package's public entry, with
// where it ran and whether a build tool could be found from there.
writeText(join(consumer.dir, 'app.mjs'), `
import { isMainThread } from 'node:worker_threads'
import { createRuntime, isCairnError } from 'cairn'
import { CairnError } from 'cairn/protocol'
const runtime = await createRuntime()
const repo = await runtime.repo(process.argv[2], { agent: 'consumer' })
const made = await repo.issues.create({ title: 'from an installed package', labels: ['packed'] })
const shown = await repo.issues.show(made.id.slice(0, 8))
let missing = null
let oneClass = null
try { await repo.issues.show('f'.repeat(12)) } catch (err) { missing = isCairnError(err, 'NOT_FOUND') ? err.code : String(err); oneClass = err instanceof CairnError }
// Into git: the repository thread loads its git adapters (nodegit) on first use.
const flushed = await repo.wal.flush()
await runtime.stop()
const tsx = await import('tsx').then(() => 'found', () => 'absent')
console.log(JSON.stringify({ id: made.id, title: shown.title, labels: shown.labels, missing, oneClass, walDrained: flushed.drainedEvents, walPending: flushed.pending, tsx, execArgv: process.execArgv, thread: isMainThread ? 'main' : 'worker' }))
`)
writeText(join(consumer.dir, 'in-worker.mjs'), `
import { Worker } from 'node:worker_threads'
const worker = new Worker(new URL('./app.mjs', import.meta.url), { argv: [process.argv[2]] })
worker.on('error', (err) => { console.error(err); process.exitCode = 1 })
worker.on('exit', (code) => { if (code !== 0) process.exitCode = code })
`)
writeText(join(consumer.dir, 'readme.mjs'), readmeExample())

const app = (args: string[]) => {
  const { repo, env } = fresh()
  return consumer.node([...args, repo], { env })
}
const plain = app(['app.mjs'])
const readme = (() => {
  const { repo, env } = fresh()
  return consumer.node(['readme.mjs'], { env: { ...env, REPO_PATH: repo } })
})()
const inWorker = app(['in-worker.mjs'])
const bundle = join(consumer.dir, 'out', 'app.bundle.mjs')
const bundled = esbuild({ entryPoints: [join(consumer.dir, 'app.mjs')], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' })
  .then(() => app([bundle]))
const typecheck = typecheckConsumer()
const bin = binFlow()
const broken = brokenInstall()
const unfixed = unfixedLmdb()
for (const run of [plain, readme, inWorker, bundled, typecheck, bin, broken, unfixed]) run.catch(() => undefined)

function checkApp(t: Test, out: Record<string, unknown>, thread: string): void {
  t.equal(out.title, 'from an installed package', 'the issue reads back by its id prefix')
  t.same(out.labels, ['packed'])
  t.match(out.id, /^[0-9a-f]{32}$/)
  t.equal(out.missing, 'NOT_FOUND', 'a coded error, matched with isCairnError')
  t.equal(out.oneClass, true, "the runtime's errors are instances of cairn/protocol's CairnError: the entry points share one copy of each module")
  t.same([out.walDrained, out.walPending], [1, 0], "the event reached git: the thread loaded its git adapters")
  t.equal(out.tsx, 'absent', 'tsx cannot be resolved from the consumer')
  t.same(out.execArgv, [], 'no loader on the command line')
  t.equal(out.thread, thread)
}

t.test('the tarball holds the compiled package, no tests, benches or sources', async (t) => {
  // One script ships: the install step that builds lmdb with LMDB's fix ITS#9496 (postinstall).
  const bad = consumer.entries.filter((p) => (/^(test|bench|scripts)\//.test(p) && p !== 'scripts/patch-lmdb.mjs') || (p.endsWith('.ts') && !p.endsWith('.d.ts')))
  t.same(bad, [], 'no test/, bench/, scripts/ (but the install step) or .ts source file')
  t.ok(consumer.entries.includes('scripts/patch-lmdb.mjs'), 'holds the install step that builds lmdb with the fix')
  for (const f of ['package.json', 'README.md', 'dist/bundle/index.js', 'dist/bundle/protocol.js', 'dist/bundle/testing.js', 'dist/lib/index.d.ts', 'dist/bundle/host.js', 'dist/bundle/cairn.js', 'dist/protocol/index.d.ts', 'dist/lib/testing/index.d.ts', 'dist/bundle/ui-assets/index.html']) {
    t.ok(consumer.entries.includes(f), `holds ${f}`)
  }
  // The JavaScript is the bundle: no compiled module is left in the declarations' tree.
  t.same(consumer.entries.filter((p) => p.endsWith('.js') && !p.startsWith('dist/bundle/')), [], 'every module is in dist/bundle/')
  // The maps (in dist/ for the checkout) point at TypeScript the package does not ship.
  t.notOk(consumer.entries.some((p) => p.endsWith('.map')), 'no source maps')
  t.ok(existsSync(join(ROOT, 'dist', 'bundle', 'index.js.map')), 'the build made them')
  t.notOk(consumer.entries.includes('dist/actors/repo-worker/store/batch.d.ts'), 'no declaration the entry points do not reach')
  const dts = consumer.entries.filter((p) => p.endsWith('.d.ts')).map((p) => readFileSync(join(consumer.pkg, p), 'utf8'))
  t.notOk(dts.some((text) => /from\s+['"]\.{1,2}\/[^'"]*\.ts['"]/.test(text)), 'declarations import .js, not .ts')
  const manifest = JSON.parse(readFileSync(join(consumer.pkg, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> }
  for (const tool of ['tsx', 'esbuild', 'typescript', 'tap', 'hdr-histogram-js']) t.notOk(tool in manifest.dependencies, `${tool} is no runtime dependency`)
  t.match(manifest.scripts.prepack, /scripts\/build\.mjs/, 'npm pack builds first')
  t.equal(manifest.scripts.postinstall, 'node scripts/patch-lmdb.mjs', 'installing it builds lmdb with the fix')
  const check = await consumer.node([join(consumer.pkg, 'scripts', 'patch-lmdb.mjs'), '--check'])
  t.equal(check.status, 0, `from the installed package the step finds the consumer's lmdb, built with the fix: ${check.stdout.trim()}${check.stderr.trim()}`)
})

t.test('plain node: import from "cairn", create an issue, read it back, exit by itself', async (t) => {
  const r = await plain
  checkApp(t, lastJson(r), 'main')
  t.notMatch(r.stderr, /CAIRN_LMDB_UNFIXED/, 'lmdb built with the fix: no warning')
})

t.test("the README's example runs as written with plain node", async (t) => {
  const r = await readme
  t.equal(r.status, 0, `exits 0 by itself (stderr: ${r.stderr})`)
  t.same(r.stdout.trim().split('\n'), README_EXAMPLE_LINES)
})

t.test("inside the consumer's own worker thread", async (t) => {
  checkApp(t, lastJson(await inWorker), 'worker')
})

t.test('bundled by esbuild with dependencies external', async (t) => {
  const r = await bundled
  t.match(readFileSync(bundle, 'utf8'), /from "cairn"/, 'cairn stays an import of the bundle')
  checkApp(t, lastJson(r), 'main')
})

/** tsc over a strict NodeNext project: one clean file using the API, the README example, and one wrong file. */
function typecheckConsumer(): Promise<RunResult> {
  const dir = join(consumer.dir, 'ts')
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(consumer.dir, 'node_modules', '@types', 'node'), 'dir')
  writeText(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  writeText(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true }, include: ['*.ts'] }))
  writeText(join(dir, 'app.ts'), `
import { createRuntime, isCairnError, type IssueProjection, type Runtime, type CairnEvent } from 'cairn'
import { frame, decode, type Envelope } from 'cairn/protocol'
import { ManualClock } from 'cairn/testing'

export async function firstIssue(path: string): Promise<IssueProjection | null> {
  const runtime: Runtime = await createRuntime({ threads: 1, clock: new ManualClock(0) })
  try {
    const repo = await runtime.repo(path, { agent: 'typed' })
    const made = await repo.issues.create({ title: 'typed', labels: ['ts'] })
    const issue: IssueProjection = await repo.issues.show(made.id)
    for await (const { seq, event } of repo.events.subscribe({ fromSeq: 1, signal: AbortSignal.timeout(1000) })) {
      const e: CairnEvent = event
      if (seq > 0 && e.kind.type === 'IssueCreated') break
    }
    return issue.labels.includes('ts') ? issue : null
  } catch (err) {
    if (isCairnError(err, 'NOT_FOUND')) return null
    throw err
  } finally {
    await runtime.stop()
  }
}
export const framed: Uint8Array = frame(new Uint8Array([1]))
export const decoded = (bytes: Uint8Array): Envelope => decode(bytes) as Envelope
`)
  writeText(join(dir, 'readme.ts'), readmeExample())
  // A wrong use must be reported: types that were `any` would let it through.
  writeText(join(dir, 'wrong.ts'), `
import { createRuntime } from 'cairn'
const runtime = await createRuntime()
const repo = await runtime.repo('.')
const title: number = (await repo.issues.show('abcd')).title
await repo.issues.create({ title: 7 })
export { title }
`)
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  return consumer.node([tsc, '-p', dir, '--pretty', 'false'], { cwd: dir, timeoutMs: 240_000 })
}

t.test('a strict NodeNext TypeScript consumer type-checks with no extra flags', async (t) => {
  const r = await typecheck
  const errors = r.stdout.trim().split('\n').filter((l) => l.length > 0)
  t.same(errors.filter((l) => !l.startsWith('wrong.ts')), [], 'app.ts, readme.ts and the package declarations check clean')
  t.equal(errors.filter((l) => l.startsWith('wrong.ts(5,7): error TS2322')).length, 1, 'a string used as a number is reported')
  t.equal(errors.filter((l) => l.startsWith('wrong.ts(6,')).length, 1, 'a number given as a title is reported')
  t.equal(errors.length, 2, `only those two: ${r.stdout}${r.stderr}`)
})

/** The bin as a shell runs it, from PATH: --version, a write through the daemon it starts, reads, stop, embedded, a bad flag. */
async function binFlow() {
  const { repo, env } = fresh()
  const cairn = (args: string[]) => consumer.run('cairn', args, { cwd: repo, env })
  try {
    const v = await cairn(['--version'])
    const created = lastJson(await cairn(['issue', 'create', 'from the bin', '-l', 'cli', '--json']))
    const id = (created.data as { id: string }).id
    const shown = lastJson(await cairn(['issue', 'show', id.slice(0, 8), '--json']))
    // The board's page and assets, served from the package by the daemon.
    const board = new URL((lastJson(await cairn(['ui', '--port', '0', '--json'])).data as { url: string }).url)
    const auth = { headers: { authorization: `Bearer ${board.searchParams.get('token')}` } }
    const page = await fetch(new URL('/', board), auth)
    const pageText = await page.text()
    const asset = await fetch(new URL('/assets/app.js', board), auth)
    const assetText = await asset.text()
    await cairn(['ui', '--stop'])
    const status = lastJson(await cairn(['daemon', 'status', '--json'])).data as { pid: number }
    const cmdline = readFileSync(`/proc/${status.pid}/cmdline`, 'utf8').split('\0')
    const stopped = lastJson(await cairn(['daemon', 'stop', '--json']))
    const listed = lastJson(await cairn(['issue', 'list', '--no-daemon', '--json'])).data as { id: string }[]
    const bad = await cairn(['issue', 'list', '--state', 'maybe', '--json'])
    return { version: v, id, shown, cmdline, stopped, listed, bad, page: { status: page.status, text: pageText }, asset: { status: asset.status, text: assetText } }
  } finally {
    await cairn(['daemon', 'stop', '--force'])
  }
}

t.test('the packed cairn bin: --version, writes through a daemon it starts, embedded with --no-daemon', async (t) => {
  const r = await bin
  t.equal(r.version.status, 0, r.version.stderr)
  t.equal(r.version.stdout.trim(), version, 'the package version')
  t.equal((r.shown.data as { title: string }).title, 'from the bin', 'a write through the daemon reads back')
  t.ok(r.cmdline.some((a) => a.startsWith(join(consumer.pkg, 'dist'))), `the daemon runs the package's compiled bin (${r.cmdline.join(' ')})`)
  t.notOk(r.cmdline.some((a) => a.includes('tsx')), 'without tsx')
  t.equal(r.page.status, 200, 'the board page')
  t.equal(r.page.text, readFileSync(join(ROOT, 'lib', 'ui', 'assets', 'index.html'), 'utf8'), 'is the packaged index.html')
  t.equal(r.asset.status, 200, 'an asset of the page')
  t.equal(r.asset.text, readFileSync(join(ROOT, 'lib', 'ui', 'assets', 'app.js'), 'utf8'), 'is the packaged app.js')
  t.equal(r.stopped.ok, true, 'daemon stop')
  t.same(r.listed.map((i) => i.id), [r.id], 'the embedded runtime reads the same store')
  t.equal(r.bad.status, 2, 'a bad flag exits 2')
  t.equal((JSON.parse(r.bad.stdout) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT')
})

/**
 * A second install beside the consumer, at `<consumer>/<name>`: its own copy
 * of the package (to change), and every other package linked from the
 * consumer except those named in `own` (the caller puts its own there).
 */
function variantInstall(name: string, own: string[]): { dir: string; modules: string } {
  const dir = join(consumer.dir, name)
  const modules = join(dir, 'node_modules')
  mkdirSync(modules, { recursive: true })
  for (const entry of readdirSync(join(consumer.dir, 'node_modules'))) {
    if (!['cairn', '.bin', ...own].includes(entry)) symlinkSync(join(consumer.dir, 'node_modules', entry), join(modules, entry), 'dir')
  }
  cpSync(consumer.pkg, join(modules, 'cairn'), { recursive: true })
  writeText(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  return { dir, modules }
}

/**
 * A broken install: the same package without its repository-thread module.
 * The caller learns why at once (UNAVAILABLE with the loader's error as
 * details.cause) instead of a runtime restarting forever.
 */
async function brokenInstall() {
  const { dir, modules } = variantInstall('broken', [])
  rmSync(join(modules, 'cairn', 'dist', 'bundle', 'host.js'))
  writeText(join(dir, 'app.mjs'), `
import { createRuntime, isCairnError } from 'cairn'
try {
  await createRuntime()
  console.log(JSON.stringify({ started: true }))
} catch (err) {
  console.log(JSON.stringify({ unavailable: isCairnError(err, 'UNAVAILABLE'), message: err.message, cause: err.details?.cause ?? null }))
}
`)
  const { env } = fresh()
  const app = await consumer.node(['app.mjs'], { cwd: dir, env })
  const cli = await consumer.node([join(modules, 'cairn', 'dist', 'bundle', 'cairn.js'), 'issue', 'list', '--no-daemon', '--json'], { cwd: fresh().repo, env })
  return { app, cli }
}

t.test('a broken install (no host module): createRuntime fails at once with UNAVAILABLE and the cause', async (t) => {
  const { app, cli } = await broken
  const out = lastJson(app)
  t.equal(out.unavailable, true, `UNAVAILABLE: ${String(out.message)}`)
  t.match(out.cause, { code: 'ERR_MODULE_NOT_FOUND', message: /host\.js/ }, 'the loader error is the cause')
  t.equal(cli.status, 10, `the CLI exits with UNAVAILABLE's code (stderr ${cli.stderr})`)
  t.match(JSON.parse(cli.stdout), { ok: false, error: { code: 'UNAVAILABLE', message: /host\.js/ } }, 'and says why')
})

/**
 * The same package where npm ran no install scripts (`--ignore-scripts`):
 * lmdb without the build scripts/patch-lmdb.mjs makes, so its prebuilt
 * library loads. The runtime still works, and warns once that it runs
 * without LMDB's fix; `cairn doctor` says the same.
 */
async function unfixedLmdb() {
  const { dir, modules } = variantInstall('unfixed', ['lmdb'])
  // A copy (a link would resolve to this checkout's lmdb, which is built), without its build and the sources it builds from.
  const lmdb = join(ROOT, 'node_modules', 'lmdb')
  cpSync(lmdb, join(modules, 'lmdb'), { recursive: true, filter: (src) => !['build', 'dependencies', 'src'].includes(relative(lmdb, src).split(sep)[0]!) })
  cpSync(join(consumer.dir, 'app.mjs'), join(dir, 'app.mjs'))
  const { repo, env } = fresh()
  const app = await consumer.node(['app.mjs', repo], { cwd: dir, env })
  const doctor = await consumer.node([join(modules, 'cairn', 'dist', 'bundle', 'cairn.js'), 'doctor', '--no-daemon', '--json'], { cwd: repo, env: fresh().env })
  return { app, doctor }
}

t.test('lmdb without the fix (installed with --ignore-scripts): the runtime works and warns once', async (t) => {
  const { app, doctor } = await unfixed
  checkApp(t, lastJson(app), 'main')
  const warnings = app.stderr.split('\n').filter((l) => l.includes('CAIRN_LMDB_UNFIXED'))
  t.equal(warnings.length, 1, `one warning (stderr: ${app.stderr})`)
  t.match(warnings[0], /without LMDB's fix ITS#9496.*overwrite the last one.*patch-lmdb\.mjs/, 'says what can happen and how to build the fix')
  const checks = (JSON.parse(doctor.stdout) as { data: { checks: { name: string; ok: boolean; detail: string }[] } }).data.checks
  t.match(checks.find((c) => c.name === 'store-library'), { ok: false, detail: /prebuilt library, without LMDB's fix/ }, 'cairn doctor says the same')
})
