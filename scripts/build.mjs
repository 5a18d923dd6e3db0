#!/usr/bin/env node
// The package build: `npm run build` (also run by scripts/setup and by
// `prepack`). Compiles lib/, actors/ and protocol/ (tsconfig.build.json) into
// dist/ as ESM JavaScript with .d.ts and source maps, keeping the source tree
// (dist/lib/host/host.js where lib/host/host.ts is), then:
//
// - rewrites relative `.ts` specifiers in the .d.ts files to `.js`: tsc
//   rewrites them in JavaScript only (microsoft/TypeScript#61037), and while
//   tsc itself accepts `.ts` in declarations, editors and other tools do not;
// - keeps only the declarations the package's entry points reach (package.json
//   `exports` types): `exports` forbids deep imports, so the others could
//   only mislead an editor, and they were a sixth of the tarball;
// - copies every non-TypeScript file under those folders (assets served at
//   run time, resolved next to the module that reads them);
// - marks the `cairn` bin executable;
// - bundles the repository thread's module (dist/lib/host/host.js, with its
//   lazily loaded git adapters as chunks beside it) into one file: a thread
//   loads it in ~140 ms instead of ~210 ms for its ~90 separate modules, and
//   every repository open waits for a thread. Packages stay external.
//   The compiled modules only that bundle reached are then dropped: nothing
//   else imports them, and `exports` forbids deep imports.
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
const BIN = 'lib/cli/bin.js'

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
  let assets = 0
  const assetFiles = new Set()
  for (const rel of sourceFiles()) {
    if (/\.(ts|mts|cts)$/.test(rel)) continue
    mkdirSync(dirname(join(tmp, rel)), { recursive: true })
    copyFileSync(join(ROOT, rel), join(tmp, rel))
    assetFiles.add(rel)
    assets++
  }
  chmodSync(join(tmp, BIN), 0o755)
  bundleHost(tmp)
  pruneModules(tmp, assetFiles)
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

/**
 * Replaces `<dir>/lib/host/host.js` by a bundle of it and everything it
 * imports from the package (node_modules stay imports). The chunks esbuild
 * splits off (the git adapters, imported lazily) sit beside it.
 */
function bundleHost(dir) {
  const esbuild = createRequire(import.meta.url)('esbuild')
  const hostDir = join(dir, 'lib', 'host')
  const out = join(dir, '.host-bundle')
  esbuild.buildSync({
    // Paths in the bundle's comments and chunk hashes are the package's, not the scratch folder's.
    absWorkingDir: dir,
    entryPoints: [join(hostDir, 'host.js')],
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    chunkNames: 'host-[name]-[hash]',
    logLevel: 'error',
  })
  for (const name of readdirSync(out)) renameSync(join(out, name), join(hostDir, name))
  rmSync(out, { recursive: true, force: true })
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

/**
 * Deletes every compiled module (and its map) that no entry point reaches
 * through relative imports: the package's `exports`, its bin, the thread's
 * bundle and `npm start`'s script. Assets (copied files) stay.
 */
function pruneModules(dir, assetFiles) {
  const { bin } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const roots = [...entryFiles('default'), ...Object.values(bin).map((p) => p.replace(/^\.\/dist\//, '')),
    'lib/host/host.js', 'lib/host/entry.js', 'scripts/start.js']
  const keep = reachable(dir, roots, '.js')
  removeFiles(dir, (rel) => rel.endsWith('.js') && !keep.has(rel) && !assetFiles.has(rel))
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
