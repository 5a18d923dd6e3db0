// The `cairn` command's bundle: lib/cli and what it imports, compiled by
// esbuild into one ESM file (dependencies stay in node_modules).
//
// Why: the command runs once per call of an agent or a script, and loading
// its ~40 TypeScript modules through tsx's loader thread was most of a
// call's time. The bundle is used only while it is fresh (no input newer
// than it); otherwise the command runs from the sources, as before, so an
// edited tree never runs stale code. scripts/setup builds it.
import { readFileSync, statSync, mkdirSync, writeFileSync, renameSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DEFAULT_OUT = resolve(ROOT, 'dist/cli')

/**
 * Bundles lib/cli/main.ts into `<outDir>/main.mjs` with `<outDir>/inputs.json`
 * (the project files it was built from). Two levels below the root, like
 * lib/cli/, so `import.meta.url`-relative paths inside resolve the same.
 */
export async function buildCliBundle(outDir = DEFAULT_OUT) {
  const { build } = await import('esbuild')
  mkdirSync(outDir, { recursive: true })
  const tmp = resolve(outDir, `main.${process.pid}.mjs`)
  const result = await build({
    entryPoints: [resolve(ROOT, 'lib/cli/main.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [runtimeStaysOut(outDir)],
  })
  // Relative to the root, so a moved or copied tree still checks its own files.
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(ROOT, resolve(process.cwd(), p)))
  writeFileSync(resolve(outDir, 'inputs.json'), JSON.stringify({ inputs }))
  renameSync(tmp, resolve(outDir, 'main.mjs'))
  return { bundle: resolve(outDir, 'main.mjs'), inputs }
}

/**
 * The runtime (embedded commands, `daemon start --foreground`) is loaded by
 * dynamic import, only in a process started with tsx's loader, which never
 * runs the bundle: keep it out, pointing at the source from the bundle's
 * directory.
 */
function runtimeStaysOut(outDir) {
  return {
    name: 'cairn-runtime-stays-out',
    setup(b) {
      b.onResolve({ filter: /\.ts$/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined
        const target = resolve(args.resolveDir, args.path)
        if (!/lib\/(api\/create-runtime|daemon\/server|ui\/server)\.ts$/.test(target)) return undefined
        return { path: relative(outDir, target), external: true }
      })
    },
  }
}

/** The bundle's path when it exists and no input is newer than it; otherwise null. */
export function freshCliBundle(outDir = DEFAULT_OUT) {
  const bundle = resolve(outDir, 'main.mjs')
  try {
    const builtAt = statSync(bundle).mtimeMs
    const { inputs } = JSON.parse(readFileSync(resolve(outDir, 'inputs.json'), 'utf8'))
    if (!Array.isArray(inputs) || inputs.length === 0) return null
    for (const f of inputs) if (typeof f !== 'string' || statSync(resolve(ROOT, f)).mtimeMs > builtAt) return null
    return bundle
  } catch {
    return null
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { bundle, inputs } = await buildCliBundle(process.argv[2] ? resolve(process.argv[2]) : undefined)
  process.stdout.write(`cli bundle: ${bundle} (${inputs.length} inputs)\n`)
}
