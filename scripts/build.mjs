#!/usr/bin/env node
// The package build: `npm run build` (also run by scripts/setup and by
// `prepack`). Compiles lib/, actors/ and protocol/ (tsconfig.build.json) with
// tsc into a scratch folder, then:
//
// - rewrites relative `.ts` specifiers in the .d.ts files to `.js`: tsc
//   rewrites them in JavaScript only (microsoft/TypeScript#61037), and while
//   tsc itself accepts `.ts` in declarations, editors and other tools do not;
// - keeps only the declarations the package's entry points reach (package.json
//   `exports` types), in the source tree's layout (dist/lib/index.d.ts):
//   `exports` forbids deep imports, so the others could only mislead an editor;
// - bundles the JavaScript into one flat folder, dist/bundle/, and
//   drops the compiled modules: every process start and every repository
//   thread loads a handful of files instead of ~130 modules, whose resolution
//   and loading was most of an open (main thread ~70 ms less, a thread ~70 ms
//   less). Packages stay external. Two builds:
//   - the package's entry points (`exports`, the `cairn` bin, `npm start`'s
//     script) together, splitting what they share into chunks, so the
//     package has one CairnError class, one codec, one of each module;
//   - the repository thread's module (host.js), on its own: a thread has its
//     own module instances anyway, and one file loads faster than shared
//     chunks. What it loads lazily (the host task, serve.ts, on the thread's
//     first task; the git adapters) are chunks beside it.
//   Modules that find files next to themselves (the thread's module, the bin,
//   the board's assets) know both layouts: the sources' tree and this folder;
// - copies the board's assets (lib/ui/assets/) to dist/bundle/ui-assets/;
// - marks the `cairn` bin executable.
//
// It builds into a scratch folder and swaps it in, so a process running from
// dist/ never sees half a build. `--if-stale` builds only when a source is
// newer than the last build (npm start uses it).
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, 'dist')
const STAMP = join(OUT, '.build-stamp')
const SOURCES = ['lib', 'actors', 'protocol']
const EXTRA_INPUTS = ['scripts/start.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json']
/** The folder of the bundled JavaScript, relative to dist/. */
const BUNDLE = 'bundle'
const ENTRIES = { index: 'lib/index.js', protocol: 'protocol/index.js', testing: 'lib/testing/index.js', cairn: 'lib/cli/bin.js', start: 'scripts/start.js' }
const ASSETS = 'lib/ui/assets'

/** Every file under the source folders, relative to the root. */
function sourceFiles() {
  const out = []
  const walk = (dir) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const rel = join(dir, name)
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel)
      else out.push(rel)
    }
  }
  for (const dir of SOURCES) walk(dir)
  return out
}

/** True when dist/ is missing or older than any input of the build. */
export function isStale() {
  let builtAt
  try {
    builtAt = statSync(STAMP).mtimeMs
  } catch {
    return true
  }
  for (const f of [...sourceFiles(), ...EXTRA_INPUTS]) {
    try {
      if (statSync(join(ROOT, f)).mtimeMs > builtAt) return true
    } catch {
      // An input that does not exist (an optional one) cannot be newer.
    }
  }
  return false
}

const RELATIVE_TS = /((?:from\s+|import\s*\(\s*|import\s+)['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g

/** `./x.ts` → `./x.js` in the import specifiers of a declaration file. */
export function rewriteDeclaration(text) {
  return text.replace(RELATIVE_TS, '$1$2.js$3')
}

function walkFiles(dir, visit) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walkFiles(path, visit)
    else visit(path)
  }
}

export function build() {
  const t0 = performance.now()
  const tmp = join(ROOT, `.dist-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', tmp], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true })
    throw new Error(`tsc failed (exit ${r.status ?? r.signal})`)
  }
  let declarations = 0
  walkFiles(tmp, (path) => {
    if (!path.endsWith('.d.ts')) return
    const text = readFileSync(path, 'utf8')
    const out = rewriteDeclaration(text)
    if (out !== text) { writeFileSync(path, out); declarations++ }
  })
  const pruned = pruneDeclarations(tmp)
  bundle(tmp)
  let assets = 0
  for (const rel of sourceFiles()) {
    if (/\.(ts|mts|cts)$/.test(rel)) continue
    // Only the board's assets are read at run time; anything else would be left behind unseen.
    if (dirname(rel) !== ASSETS) throw new Error(`${rel}: only ${ASSETS}/ may hold files other than TypeScript (the bundle ships that folder only)`)
    mkdirSync(join(tmp, BUNDLE, 'ui-assets'), { recursive: true })
    copyFileSync(join(ROOT, rel), join(tmp, BUNDLE, 'ui-assets', rel.slice(ASSETS.length + 1)))
    assets++
  }
  chmodSync(join(tmp, BUNDLE, 'cairn.js'), 0o755)
  // The compiled modules are all in the bundle now; the declarations stay in the tree.
  removeFiles(tmp, (rel) => !rel.startsWith(`${BUNDLE}/`) && rel.endsWith('.js'))
  removeEmptyFolders(tmp)
  writeFileSync(join(tmp, '.build-stamp'), `${new Date().toISOString()}\n`)
  // Swap: the old tree moves aside in one rename and the new one takes its
  // place in another. A build running at the same time (two test files) may
  // slip its tree in between: move that aside too; both built the same sources.
  const old = join(ROOT, `.dist-old-${process.pid}`)
  for (let attempt = 0; ; attempt++) {
    try {
      if (existsSync(OUT)) renameSync(OUT, `${old}-${attempt}`)
      renameSync(tmp, OUT)
      break
    } catch (err) {
      if (attempt >= 5 || !['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(err.code)) throw err
    }
  }
  for (const name of readdirSync(ROOT)) if (name.startsWith(`.dist-old-${process.pid}-`)) rmSync(join(ROOT, name), { recursive: true, force: true })
  return { ms: performance.now() - t0, declarations, assets, pruned }
}

/** Bundles `<dir>`'s compiled modules into `<dir>/bundle/` (see the top of this file). */
function bundle(dir) {
  const esbuild = createRequire(import.meta.url)('esbuild')
  const common = {
    // Paths in the bundle's comments and chunk hashes are the package's, not the scratch folder's.
    absWorkingDir: dir,
    outdir: join(dir, BUNDLE),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'error',
  }
  esbuild.buildSync({ ...common, entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([k, v]) => [k, join(dir, v)])), chunkNames: 'chunk-[hash]' })
  esbuild.buildSync({ ...common, entryPoints: { host: join(dir, 'lib/host/host.js') }, chunkNames: 'host-[name]-[hash]' })
}

function removeEmptyFolders(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (!statSync(path).isDirectory()) continue
    removeEmptyFolders(path)
    if (readdirSync(path).length === 0) rmSync(path, { recursive: true })
  }
}

const RELATIVE_JS = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+?)\.js["']/g

/** The files of package.json's `exports` for `condition` (`types`, `default`), relative to dist/. */
function entryFiles(condition) {
  const { exports } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  return Object.values(exports).filter((e) => typeof e === 'object' && e[condition]).map((e) => e[condition].replace(/^\.\/dist\//, ''))
}

/** The files of `dir` that `roots` reach through relative `.js` imports, each import read as its `ext` file. */
function reachable(dir, roots, ext) {
  const keep = new Set()
  const stack = [...roots]
  for (let i = 0; stack.length > 0 && i < 100_000; i++) {
    const rel = stack.pop()
    if (keep.has(rel)) continue
    let text
    try {
      text = readFileSync(join(dir, rel), 'utf8')
    } catch {
      throw new Error(`${rel} is reached from an entry point but was not emitted`)
    }
    keep.add(rel)
    for (const m of text.matchAll(RELATIVE_JS)) stack.push(join(dirname(rel), `${m[1]}${ext}`))
  }
  return keep
}

/** Deletes the files of `dir` that `drop(rel)` names, with their source maps; returns how many. */
function removeFiles(dir, drop) {
  const doomed = []
  walkFiles(dir, (path) => { if (drop(relative(dir, path))) doomed.push(path) })
  for (const path of doomed) {
    rmSync(path)
    rmSync(`${path}.map`, { force: true })
  }
  return doomed.length
}

/** Deletes every declaration in `dir` that no entry declaration reaches; returns how many. */
function pruneDeclarations(dir) {
  const keep = reachable(dir, entryFiles('types'), '.d.ts')
  return removeFiles(dir, (rel) => rel.endsWith('.d.ts') && !keep.has(rel))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--if-stale') && !isStale()) process.exit(0)
  try {
    const { ms, declarations, assets, pruned } = build()
    process.stdout.write(`build: ${relative(process.cwd(), OUT) || '.'} in ${(ms / 1000).toFixed(1)} s (${declarations} declarations rewritten, ${pruned} internal ones dropped, ${assets} assets)\n`)
  } catch (err) {
    process.stderr.write(`build: ${err.message}\n`)
    process.exit(1)
  }
}
