/**
 * The compiled package (dist/, scripts/build.mjs) for benches that measure
 * what users run: built first when a source is newer than the last build.
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, isStale } from '../../scripts/build.mjs'

/** The path of `file` in the package's bundle (dist/bundle/), after making sure dist/ is current. */
function bundled(file: string): string {
  if (isStale()) build()
  return fileURLToPath(new URL(`../../dist/bundle/${file}`, import.meta.url))
}

/** The compiled `cairn` bin. */
export function compiledBin(): string {
  return bundled('cairn.js')
}

/** The file URL of the compiled package's main entry (what `import 'cairn'` loads). */
export function compiledEntry(): string {
  return pathToFileURL(bundled('index.js')).href
}
