/**
 * Whether this process's lmdb runs the build scripts/patch-lmdb.mjs makes:
 * lmdb-js's addon built from its own sources with LMDB's fix ITS#9496. Its
 * prebuilt library lacks it, and there a process that opens a store while
 * another process commits can set the shared last-transaction id back, so
 * that the next commit overwrites the last one (an acknowledged write
 * lost) or breaks the B-tree. `cairn doctor` reports it.
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
