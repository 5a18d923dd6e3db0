/**
 * A store closed cleanly is sealed, and a sealed store that nobody changed
 * opens without the whole-file page walk; any change to the file (a write,
 * a copy over it, a commit by a writer) breaks the seal and the walk runs
 * again, so a damaged file is still refused, never mapped.
 */
import t from 'tap'
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, readChecked } from '../../../../../lib/kernel/store/open-store.ts'
import { isSealed, sealStore } from '../../../../../lib/kernel/store/seal.ts'
import { isCairnError } from '../../../../../lib/index.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-seal-'))
t.teardown(() => rmSync(root, { recursive: true, force: true }))
let n = 0

/** A closed store with enough issues-like records for several levels of pages. */
async function closedStore(): Promise<string> {
  const dir = join(root, `s${n++}`)
  const env = await openStore(dir, 'repo')
  const db = env.openDB({ name: 'things' })
  await env.transaction(() => {
    for (let i = 0; i < 3_000; i++) void db.put(`thing-${String(i).padStart(6, '0')}`, { i, body: 'x'.repeat(200) })
  })
  await env.close()
  return dir
}

const sealFile = (dir: string): string => join(dir, 'data.mdb.seal')

t.test('a clean close is sealed (0600); the sealed store is read without the page walk', async (t) => {
  const dir = await closedStore()
  const walked = readChecked(dir).pages
  t.ok(walked > 100, `unsealed, every page is walked (${walked})`)
  sealStore(dir)
  t.ok(existsSync(sealFile(dir)), 'the seal is written')
  t.equal(statSync(sealFile(dir)).mode & 0o777, 0o600)
  t.ok(isSealed(dir), 'and holds')
  t.equal(readChecked(dir).pages, 0, 'a sealed store is read without the walk (meta pages and main tree only)')
})

t.test('opening for writing breaks the seal; a commit makes an old seal void', async (t) => {
  const dir = await closedStore()
  sealStore(dir)
  const kept = readFileSync(sealFile(dir))
  const env = await openStore(dir, 'repo')
  t.notOk(existsSync(sealFile(dir)), 'a writer open removes the seal')
  await env.openDB({ name: 'things' }).put('one-more', 1)
  await env.close()
  writeFileSync(sealFile(dir), kept, { mode: 0o600 })
  t.notOk(isSealed(dir), 'a seal from before a commit does not hold')
  t.ok(readChecked(dir).pages > 100, 'and the walk runs')
})

t.test('no seal while the store is open (here or elsewhere)', async (t) => {
  const dir = await closedStore()
  const env = await openStore(dir, 'repo')
  sealStore(dir)
  t.notOk(existsSync(sealFile(dir)), 'an open store is not sealed')
  await env.close()
  sealStore(dir)
  t.ok(isSealed(dir), 'once closed it is')
})

t.test('a file damaged right after the seal (same clock tick) is walked and refused STORE_CORRUPT', async (t) => {
  for (let round = 0; round < 5; round++) {
    const dir = await closedStore()
    sealStore(dir)
    const fd = openSync(join(dir, 'data.mdb'), 'r+')
    const size = statSync(join(dir, 'data.mdb')).size
    writeSync(fd, Buffer.alloc(size - 2 * 4096), 0, size - 2 * 4096, 2 * 4096) // every page past the two meta pages zeroed
    closeSync(fd)
    t.notOk(isSealed(dir), `round ${round}: the seal no longer holds`)
    const err = await openStore(dir, 'repo').then(async (env) => { await env.close(); return null }, (e: unknown) => e)
    t.ok(isCairnError(err, 'STORE_CORRUPT'), `round ${round}: STORE_CORRUPT, not a mapped damaged file (${String(err)})`)
  }
})

t.test('a file copied over a sealed store breaks the seal', async (t) => {
  const a = await closedStore()
  const b = await closedStore()
  sealStore(a)
  copyFileSync(join(b, 'data.mdb'), join(a, 'data.mdb'))
  t.notOk(isSealed(a))
})

t.test('a bad seal file is no seal', async (t) => {
  const dir = await closedStore()
  for (const text of ['', '{', 'null', '[]', '{"v":1}', JSON.stringify({ v: 2 }), '{"v":1,"dev":0,"ino":0,"size":0,"ctimeNs":"x","txnids":[0,0]}']) {
    writeFileSync(sealFile(dir), text)
    t.notOk(isSealed(dir), `seal ${JSON.stringify(text)}`)
    t.ok(readChecked(dir).pages > 100, 'the walk runs')
  }
})
