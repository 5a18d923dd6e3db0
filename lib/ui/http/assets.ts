/**
 * The page's static files: everything in `lib/ui/assets/` (next to this
 * module's folder in the sources; `ui-assets/` beside the package's bundle,
 * which scripts/build.mjs copies there), read once when the board starts. Only those
 * files are ever served: a name is looked up in that table, never joined to
 * a path, so no request can reach another file.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface Asset { body: Uint8Array; type: string; etag: string }

export const ASSETS_DIR = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../assets/' : './ui-assets/', import.meta.url))

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}

/** Reads the assets folder into a name → asset table. */
export function loadAssets(dir = ASSETS_DIR): Map<string, Asset> {
  const out = new Map<string, Asset>()
  for (const name of readdirSync(dir)) {
    const ext = /\.([a-z]+)$/.exec(name)?.[1]
    const type = ext === undefined ? undefined : TYPES[ext]
    if (type === undefined) continue
    const body = readFileSync(`${dir}/${name}`)
    out.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` })
  }
  if (!out.has('index.html')) throw new Error(`the board's assets are missing (no index.html in ${dir})`)
  return out
}
