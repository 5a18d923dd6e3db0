/**
 * A one-shot `cairn` command through the daemon pays for every module the
 * bin loads before it runs: the bin's static import graph must not reach the
 * heavy packages only the daemon, the embedded runtime, doctor's repair,
 * `cairn mcp` or the board need (they are imported where they are used).
 * Measured: nodegit and LMDB in that graph made `cairn issue list` 0.44 s
 * instead of 0.16 s (a bare `node -e 0` is 0.07 s here).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const HEAVY = ['nodegit', 'lmdb', 'zod', 'hono', '@hono/node-server', '@modelcontextprotocol/sdk', 'piscina', 'xstate']
/** Static value imports and re-exports (not `import type`, not dynamic `import()`). */
const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm

function graph(entry: string): Map<string, string | null> {
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
  return seen
}

t.test('the bin loads none of the heavy packages before a command runs', async (t) => {
  const seen = graph('lib/cli/bin.ts')
  t.ok(seen.size > 10, `the walk followed the bin's imports (${seen.size} modules)`)
  t.ok(seen.has('pkg:commander'), 'it sees package imports (commander)')
  const chain = (key: string): string => { const out = [key]; for (let at = seen.get(key); at; at = seen.get(at)) out.push(at); return out.join(' <- ') }
  const heavy = [...seen.keys()].filter((k) => HEAVY.some((p) => k === `pkg:${p}` || k.startsWith(`pkg:${p}/`)))
  t.same(heavy.map(chain), [], 'no static path from lib/cli/bin.ts to a heavy package')
})
