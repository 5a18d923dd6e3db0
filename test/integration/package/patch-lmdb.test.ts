/**
 * scripts/patch-lmdb.mjs against lmdb packages it must not build: it finds
 * the lmdb its own location resolves, and refuses, with a clear message and
 * exit 1, sources it does not recognise (another lmdb version) or none at
 * all, leaving them exactly as found. Each case is a scratch project with a
 * copy of the script and a small stand-in lmdb package (no build is run).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sandbox } from '../../helpers/tmp-repos.ts'

const SCRIPT = fileURLToPath(new URL('../../../scripts/patch-lmdb.mjs', import.meta.url))
const MDB = 'dependencies/lmdb/libraries/liblmdb/mdb.c'

/** A project holding the script and an lmdb package with `mdb` as its mdb.c (none when null). */
function project(t: { teardown(fn: () => void): void }, mdb: string | null): { dir: string; lmdb: string } {
  const box = sandbox()
  t.teardown(box.cleanup)
  mkdirSync(join(box.dir, 'scripts'))
  copyFileSync(SCRIPT, join(box.dir, 'scripts', 'patch-lmdb.mjs'))
  const lmdb = join(box.dir, 'node_modules', 'lmdb')
  mkdirSync(lmdb, { recursive: true })
  writeFileSync(join(lmdb, 'package.json'), JSON.stringify({ name: 'lmdb', version: '9.9.9', main: 'index.js' }))
  writeFileSync(join(lmdb, 'index.js'), '')
  if (mdb !== null) {
    mkdirSync(join(lmdb, MDB, '..'), { recursive: true })
    writeFileSync(join(lmdb, MDB), mdb)
  }
  return { dir: box.dir, lmdb }
}

function runScript(dir: string, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'patch-lmdb.mjs'), ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

t.test('sources without the code the fix expects are refused and left as found', async (t) => {
  const other = 'int mdb_env_open2(void) {\n\treturn 0;\n}\n'
  const p = project(t, other)
  const r = runScript(p.dir)
  t.equal(r.status, 1, 'exit 1')
  t.match(r.out, /does not have the code this fix expects \(lmdb 9\.9\.9\); not patched/, 'says why, naming the version')
  t.equal(readFileSync(join(p.lmdb, MDB), 'utf8'), other, 'mdb.c untouched')
})

t.test('the code twice is refused too: the fix must match one place', async (t) => {
  const broken = '\tif (env->me_txns)\n\t\tenv->me_txns->mti_txnid = meta.mm_txnid;\n\n#if MDB_DEBUG'
  const twice = `${broken}\n#endif\n${broken}\n#endif\n`
  const p = project(t, twice)
  const r = runScript(p.dir)
  t.equal(r.status, 1)
  t.match(r.out, /does not have the code this fix expects/)
  t.equal(readFileSync(join(p.lmdb, MDB), 'utf8'), twice, 'mdb.c untouched')
})

t.test('an lmdb package without sources is refused', async (t) => {
  const p = project(t, null)
  const r = runScript(p.dir)
  t.equal(r.status, 1)
  t.match(r.out, /mdb\.c is missing: this lmdb package ships no sources to build/)
})

t.test('--check on an unbuilt package says so and exits 1, changing nothing', async (t) => {
  const p = project(t, 'anything\n')
  const r = runScript(p.dir, '--check')
  t.equal(r.status, 1)
  t.match(r.out, /is NOT built with the fix/)
  t.equal(readFileSync(join(p.lmdb, MDB), 'utf8'), 'anything\n')
})

t.test('no lmdb installed: a clear message, exit 1', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  mkdirSync(join(box.dir, 'scripts'))
  copyFileSync(SCRIPT, join(box.dir, 'scripts', 'patch-lmdb.mjs'))
  const r = runScript(box.dir)
  t.equal(r.status, 1)
  t.match(r.out, /the lmdb package is not installed/)
})
