/**
 * Cairn as an installed package: `npm pack` of this checkout, unpacked into
 * a scratch consumer project as `node_modules/cairn`, its runtime
 * dependencies linked from this checkout's node_modules (nodegit and lmdb are
 * not rebuilt). Only the production closure of package-lock.json is linked,
 * so build, test and bench tools (tsx, esbuild, typescript) cannot be
 * resolved from the consumer: what runs there runs without them.
 *
 * Shared by the packed-package test and the package bench.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, isStale } from '../../scripts/build.mjs'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface PackedConsumer {
  /** The consumer project (package.json `type: module`). */
  dir: string
  /** The tarball `npm pack` wrote, and its size in bytes. */
  tarball: string
  tarballBytes: number
  /** Paths inside the tarball, without the leading `package/`. */
  entries: string[]
  /** The unpacked package: `<dir>/node_modules/cairn`. */
  pkg: string
  /** `<dir>/node_modules/.bin`, where the `cairn` bin is linked as npm would. */
  binDir: string
  /** An environment with no loader, no coverage hooks and only the consumer's bin dir before the system's. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  /** `node <args>` in the consumer (or `opts.cwd`), bounded (SIGKILL at `timeoutMs`, default 120 s). */
  node(args: string[], opts?: RunOptions): Promise<RunResult>
  /** Any command, with the consumer's environment by default. */
  run(command: string, args: string[], opts?: RunOptions): Promise<RunResult>
  cleanup(): void
}

export interface RunOptions { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string }
export interface RunResult { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs a command to its end, bounded: SIGKILL at `timeoutMs` (default 60 s). */
export function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', (err) => { clearTimeout(timer); resolve({ status: null, signal: null, stdout, stderr: `${stderr}${err.message}` }) })
    child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }) })
  })
}

/** Runtime packages of the lock file (not `dev`), top level only: nested ones travel inside their parent. */
export function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  return Object.entries(lock.packages)
    .filter(([path, meta]) => path.startsWith('node_modules/') && path.split('node_modules/').length === 2 && meta.dev !== true)
    .map(([path]) => path.slice('node_modules/'.length))
}

/**
 * Packs this checkout (building first when dist/ is stale, as `prepack`
 * does) and sets up a consumer of the tarball.
 * @example const c = packedConsumer(); c.node(['app.mjs']); c.cleanup()
 */
export function packedConsumer(): PackedConsumer {
  if (isStale()) build()
  const scratch = mkdtempSync(join(tmpdir(), 'cairn-packed-'))
  try {
    // The build above is what `prepack` runs; --ignore-scripts keeps npm from running it twice.
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
    if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`)
    const info = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[])[0]!
    const tarball = join(scratch, info.filename)
    const dir = join(scratch, 'consumer')
    const modules = join(dir, 'node_modules')
    mkdirSync(modules, { recursive: true })
    const untar = spawnSync('tar', ['xzf', tarball, '-C', modules], { encoding: 'utf8' })
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`)
    const pkg = join(modules, 'cairn')
    renameSync(join(modules, 'package'), pkg)
    for (const name of productionPackages()) {
      const from = join(ROOT, 'node_modules', name)
      if (!existsSync(from)) continue // an optional package for another platform
      mkdirSync(dirname(join(modules, name)), { recursive: true })
      symlinkSync(from, join(modules, name), 'dir')
    }
    const binDir = join(modules, '.bin')
    mkdirSync(binDir)
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { bin: Record<string, string> }
    for (const [name, rel] of Object.entries(manifest.bin)) symlinkSync(join('..', 'cairn', rel), join(binDir, name))
    writeJson(join(dir, 'package.json'), { name: 'cairn-consumer', private: true, type: 'module' })
    const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`,
      HOME: process.env.HOME ?? scratch,
      TMPDIR: tmpdir(),
      CAIRN_HOME: join(scratch, 'home'),
      ...extra,
    })
    return {
      dir,
      tarball,
      tarballBytes: statSync(tarball).size,
      entries: info.files.map((f) => f.path),
      pkg,
      binDir,
      env,
      node: (args, opts = {}) => run(process.execPath, args, { cwd: dir, env: env(), timeoutMs: 120_000, ...opts }),
      run: (command, args, opts = {}) => run(command, args, { cwd: dir, env: env(), ...opts }),
      cleanup: () => rmSync(scratch, { recursive: true, force: true }),
    }
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true })
    throw err
  }
}

/** Writes a file, creating its folder. */
export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

function writeJson(path: string, value: unknown): void {
  writeText(path, `${JSON.stringify(value, null, 2)}\n`)
}
