/**
 * The compiled package (dist/, scripts/build.mjs) for benches that measure
 * what users run: built first when a source is newer than the last build.
 */
import { fileURLToPath } from 'node:url'
import { build, isStale } from '../../scripts/build.mjs'

/** The compiled `cairn` bin, after making sure dist/ is current. */
export function compiledBin(): string {
  if (isStale()) build()
  return fileURLToPath(new URL('../../dist/bundle/cairn.js', import.meta.url))
}
