/**
 * The layering rules of DESIGN §9, checked by reading every production
 * module's imports (static, type-only, re-exports, dynamic import(), require()
 * and `new URL(..., import.meta.url)` module references):
 *
 * - `protocol/` imports nothing from `lib/` or `actors/`;
 * - `lib/kernel/` imports only itself and `protocol/` (it is what actors may see);
 * - `actors/` import `lib/` only through `lib/kernel/`;
 * - no production module imports `lib/testing/`;
 * - no file-level import circles (type-only imports count: a circle of types
 *   is still two modules that cannot be understood apart).
 */
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PRODUCTION = ['protocol', 'lib', 'actors']

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name)
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...walk(rel))
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

const SPEC = [
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\bnew URL\(\s*['"](\.[^'"]+\.(?:ts|js))['"]\s*,\s*import\.meta\.url\s*\)/g,
]

/** Relative module specifiers of `file`, resolved to repository paths. */
export function importsOf(file: string, src: string): string[] {
  const out = new Set<string>()
  for (const re of SPEC) {
    for (const m of src.matchAll(re)) {
      const spec = m[1]!
      if (!spec.startsWith('.')) continue
      out.add(normalize(join(dirname(file), spec)))
    }
  }
  return [...out]
}

const files = PRODUCTION.flatMap(walk)
const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(join(ROOT, f), 'utf8'))]))

function violations(rule: (from: string, to: string) => boolean): string[] {
  const bad: string[] = []
  for (const [from, tos] of graph) for (const to of tos) if (rule(from, to)) bad.push(`${from} -> ${to}`)
  return bad
}

t.test('the rule reader sees imports of every form', async (t) => {
  const src = [
    "import { a } from '../x/a.ts'",
    "import type { B } from './b.ts'",
    "export { c } from '../c.ts'",
    "export * from './d.ts'",
    "const e = await import('./e.ts')",
    "const f = require('./f.ts')",
    "const g = new URL('./g.ts', import.meta.url)",
    "import 'node:fs'",
  ].join('\n')
  t.same(importsOf('lib/k/file.ts', src).sort(), ['lib/c.ts', 'lib/k/b.ts', 'lib/k/d.ts', 'lib/k/e.ts', 'lib/k/f.ts', 'lib/k/g.ts', 'lib/x/a.ts'])
  t.ok(files.length > 100, `found ${files.length} production modules`)
  t.ok(files.includes('lib/kernel/actor-module.ts') && files.includes('actors/supervisor/supervisor.ts'))
})

t.test('every relative import names a file that exists', async (t) => {
  const missing = [...graph].flatMap(([from, tos]) => tos.filter((to) => {
    try { return !statSync(join(ROOT, to)).isFile() } catch { return true }
  }).map((to) => `${from} -> ${to}`))
  t.same(missing, [])
})

t.test('protocol/ imports nothing from lib/ or actors/', async (t) => {
  t.same(violations((from, to) => from.startsWith('protocol/') && !to.startsWith('protocol/')), [])
})

t.test('lib/kernel/ imports only itself and protocol/', async (t) => {
  t.same(violations((from, to) => from.startsWith('lib/kernel/') && !to.startsWith('lib/kernel/') && !to.startsWith('protocol/')), [])
})

t.test('actors/ import lib/ only through lib/kernel/', async (t) => {
  t.same(violations((from, to) => from.startsWith('actors/') && to.startsWith('lib/') && !to.startsWith('lib/kernel/')), [])
})

t.test('no production module imports lib/testing/', async (t) => {
  t.same(violations((from, to) => !from.startsWith('lib/testing/') && to.startsWith('lib/testing/')), [])
})

/** Strongly connected components with more than one file (Tarjan). */
function circles(g: Map<string, string[]>): string[][] {
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const out: string[][] = []
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++
    stack.push(v); on.add(v)
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)) }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = []
      let w: string
      do { w = stack.pop()!; on.delete(w); comp.push(w) } while (w !== v)
      if (comp.length > 1) out.push(comp.sort())
    }
  }
  for (const v of g.keys()) if (!idx.has(v)) visit(v)
  return out
}

t.test('the circle finder finds a circle', async (t) => {
  t.same(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']])
})

t.test('no file-level import circles', async (t) => {
  t.same(circles(graph), [])
})

t.test('the public surface is reached from lib/index.ts only through lib/api, protocol and adapters', async (t) => {
  const bad = (graph.get('lib/index.ts') ?? []).filter((to) => !/^(lib\/(api|kernel|adapters)\/|protocol\/)/.test(to))
  t.same(bad, [], relative(ROOT, ROOT))
})
