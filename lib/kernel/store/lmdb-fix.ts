/**
 * Whether this process's lmdb runs the build scripts/patch-lmdb.mjs makes:
 * lmdb-js's addon built from its own sources with LMDB's fix ITS#9496. Its
 * prebuilt library lacks it, and there a process that opens a store while
 * another process commits can set the shared last-transaction id back, so
 * that the next commit overwrites the last one (an acknowledged write
 * lost) or breaks the B-tree. `cairn doctor` reports it, and every runtime
 * warns once per process at its start (an install with --ignore-scripts
 * runs the prebuilt library without anyone having asked for it).
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export interface LmdbFix { fixed: boolean; dir: string | null; version: string | null }

/** What the stamp of scripts/patch-lmdb.mjs must name. */
const FIX_PREFIX = 'LMDB ITS#9496'

/** The lmdb package this module resolves, and whether its loaded addon (build/Release, which lmdb-js prefers) carries the fix. */
export function lmdbFix(): LmdbFix {
  let dir: string | null = null
  let version: string | null = null
  try {
    for (let at = dirname(createRequire(import.meta.url).resolve('lmdb')); at !== dirname(at) && dir === null; at = dirname(at)) {
      const pkg = join(at, 'package.json')
      const manifest = existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string } : null
      if (manifest?.name === 'lmdb') [dir, version] = [at, manifest.version ?? null]
    }
  } catch {
    return { fixed: false, dir: null, version: null }
  }
  if (dir === null) return { fixed: false, dir, version }
  try {
    const stamp = JSON.parse(readFileSync(join(dir, 'build/Release/cairn-lmdb-fix.json'), 'utf8')) as { fix?: string; version?: string; abi?: string }
    const fixed = typeof stamp.fix === 'string' && stamp.fix.startsWith(FIX_PREFIX) && stamp.version === version
      && stamp.abi === process.versions.modules && existsSync(join(dir, 'build/Release/lmdb.node'))
    return { fixed, dir, version }
  } catch {
    return { fixed: false, dir, version }
  }
}

/** Why the prebuilt library is a risk and what to do, for `cairn doctor` and the start-up warning. */
export function unfixedMessage(lib: LmdbFix): string {
  return `lmdb ${lib.version ?? '(not found)'} runs its prebuilt library, without LMDB's fix ITS#9496: a process opening a store while another commits`
    + ' can make the next commit overwrite the last one; build it with `node scripts/patch-lmdb.mjs` from the cairn package (npm install runs it)'
}

/** The code of the start-up warning, for `process.on('warning')` and `--disable-warning`. */
export const UNFIXED_WARNING = 'CAIRN_LMDB_UNFIXED'

let checked = false

/**
 * Warns once per process (`process.emitWarning`, code CAIRN_LMDB_UNFIXED)
 * when its lmdb lacks the fix. Not a refusal: the risk needs two processes
 * on one store, and refusing would break installs that have no compiler.
 */
export function warnIfUnfixed(): void {
  if (checked) return
  checked = true
  const lib = lmdbFix()
  if (!lib.fixed) process.emitWarning(unfixedMessage(lib), { code: UNFIXED_WARNING })
}
