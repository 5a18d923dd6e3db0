/**
 * The board page's scripts are plain JavaScript served as they are (no build
 * step, nothing fetched from elsewhere), checked by TypeScript against the
 * browser's DOM through their JSDoc types (`// @ts-check`, strict).
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const CONFIG = fileURLToPath(new URL('../../../fixtures/ui-assets.tsconfig.json', import.meta.url))
const ASSETS = fileURLToPath(new URL('../../../../lib/ui/assets/', import.meta.url))
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')

t.test('every script of the page opts into checking', async (t) => {
  const scripts = readdirSync(ASSETS).filter((f) => f.endsWith('.js'))
  t.ok(scripts.length >= 10, `${scripts.length} scripts`)
  for (const f of scripts) t.match(readFileSync(`${ASSETS}/${f}`, 'utf8'), /^\/\/ @ts-check\n\/\*\*\n \* /, `${f} starts with // @ts-check and a header`)
})

t.test('the page typechecks against the DOM (strict)', async (t) => {
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    execFile(process.execPath, [TSC, '-p', CONFIG], { timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, text: `${stdout}${stderr}` }))
  })
  t.equal(out.code, 0, out.text || 'no errors')
})
