/**
 * The static import graph of a source module, read from the files (no module
 * is loaded): what a process pays for before its first line runs. Shared by
 * the tests that keep heavy packages off the CLI's one-shot path and off the
 * main thread of an idle runtime.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Static value imports and re-exports (not `import type`, not dynamic `import()`). */
const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm

export interface ImportGraph {
  /** Every module reached: repository-relative paths, and `pkg:<specifier>` for packages. */
  seen: Map<string, string | null>
  /** `key <- importer <- ... <- entry`: how the walk reached `key`. */
  chain(key: string): string
  /** The chains to every reached package that is one of `packages` (or a subpath of one). */
  reaching(packages: readonly string[]): string[]
}

/** Walks the static imports from `entry` (repository-relative, e.g. 'lib/index.ts'). */
export function importGraph(entry: string): ImportGraph {
  const seen = new Map<string, string | null>([[entry, null]])
  const queue = [entry]
  while (queue.length > 0) {
    const file = queue.shift()!
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(STATIC)) {
      const spec = m[1]!
      const key = spec.startsWith('.') ? normalize(join(dirname(file), spec)) : `pkg:${spec}`
      if (seen.has(key)) continue
      seen.set(key, file)
      if (!key.startsWith('pkg:')) queue.push(key)
    }
  }
  const chain = (key: string): string => { const out = [key]; for (let at = seen.get(key); at; at = seen.get(at)) out.push(at); return out.join(' <- ') }
  const reaching = (packages: readonly string[]): string[] =>
    [...seen.keys()].filter((k) => packages.some((p) => k === `pkg:${p}` || k.startsWith(`pkg:${p}/`))).map(chain)
  return { seen, chain, reaching }
}
