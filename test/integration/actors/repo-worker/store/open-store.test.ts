import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import {
  APPLICATION_ID,
  inspectStore,
  openStore,
  STORE_SCHEMA_VERSIONS,
  markSchemaCurrent,
  type StoreMeta,
} from '../../../../../lib/kernel/store/open-store.ts'
import { CairnError } from '../../../../../protocol/errors.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-open-store-'))
t.teardown(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = (): string => join(root, `s${n++}`)

/** sha256 of every file in `dir`, by name: proof the store was left as found. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isFile()) out[name] = createHash('sha256').update(readFileSync(p)).digest('hex')
  }
  return out
}

/** Asserts openStore(dir, kind) rejects with `code` and leaves data.mdb byte-identical. */
async function refusedUntouched(t: Tap, dir: string, kind: 'repo' | 'home', code: string, extra: { todo?: string } = {}): Promise<CairnError | undefined> {
  const before = snapshot(dir)
  t.ok(before['data.mdb'], 'data.mdb exists before')
  let caught: unknown
  try {
    const env = await openStore(dir, kind)
    await env.close()
  } catch (err) {
    caught = err
  }
  t.ok(caught !== undefined, 'openStore refuses the store')
  t.ok(caught instanceof CairnError, `openStore throws a CairnError (${String(caught)})`, extra)
  t.equal((caught as CairnError | undefined)?.code, code, `code is ${code}`, extra)
  const after = snapshot(dir)
  t.equal(after['data.mdb'], before['data.mdb'], 'data.mdb is byte-identical afterwards')
  t.same(after, before, 'every file, lock.mdb included, is byte-identical; none was added or removed')
  return caught instanceof CairnError ? caught : undefined
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

/** Writes a store the way another (or a future) program would. */
async function writeStore(dir: string, fill: (env: ReturnType<typeof open>) => Promise<void>): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const env = open({ path: dir, maxDbs: 8 })
  await fill(env)
  await env.flushed
  await env.close()
}

t.test('a new store gets Cairn meta', async (t) => {
  const dir = freshDir()
  t.notOk(existsSync(dir), 'the directory does not exist yet')
  const before = Date.now()
  const env = await openStore(dir, 'repo')
  try {
    const meta = env.openDB({ name: 'meta' }).get('meta') as StoreMeta
    t.match(meta, { application: 'cairn', kind: 'repo', schemaVersion: 2 }, 'meta names Cairn, the kind and schema 2')
    t.equal(meta.application, APPLICATION_ID)
    t.equal(meta.schemaVersion, STORE_SCHEMA_VERSIONS.repo)
    t.ok(meta.createdAt >= before && meta.createdAt <= Date.now(), 'createdAt is now')
    t.ok(existsSync(join(dir, 'data.mdb')), 'the environment is on disk')
    t.equal(statSync(dir).mode & 0o777, 0o700, 'the directory is private (0700)')
  } finally {
    await env.close()
  }
  t.match(inspectStore(dir, 'repo'), { application: 'cairn', kind: 'repo', schemaVersion: 2 }, 'inspectStore reads it back')

  const home = freshDir()
  const homeEnv = await openStore(home, 'home')
  t.match(homeEnv.openDB({ name: 'meta' }).get('meta'), { application: 'cairn', kind: 'home', schemaVersion: 1 }, 'a home store says kind home')
  await homeEnv.close()
})

t.test('reopen works and keeps meta and data', async (t) => {
  const dir = freshDir()
  const env = await openStore(dir, 'home')
  const created = (env.openDB({ name: 'meta' }).get('meta') as StoreMeta).createdAt
  const data = env.openDB({ name: 'data' })
  await data.put('k', { hello: 'world' })
  await env.close()

  const again = await openStore(dir, 'home')
  try {
    const meta = again.openDB({ name: 'meta' }).get('meta') as StoreMeta
    t.match(meta, { application: 'cairn', kind: 'home', schemaVersion: 1 })
    t.equal(meta.createdAt, created, 'meta is not rewritten on reopen')
    t.same(again.openDB({ name: 'data' }).get('k'), { hello: 'world' }, 'data survives reopen')
  } finally {
    await again.close()
  }
  const third = await openStore(dir, 'home')
  await third.close()
  t.pass('a third open works too')
})

t.test('an existing empty directory is a new store', async (t) => {
  const dir = freshDir()
  mkdirSync(dir)
  const env = await openStore(dir, 'repo')
  t.match(env.openDB({ name: 'meta' }).get('meta'), { application: 'cairn', kind: 'repo' })
  await env.close()
})

// What another process leaves between its openDB('meta') and the meta record (two runtimes opening one fresh clone at once).
t.test('a store another process is creating (an empty meta database, nothing else) opens and gets Cairn meta', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    env.openDB({ name: 'meta' })
    await env.put('x', 1)
    await env.remove('x')
  })
  t.equal(inspectStore(dir, 'repo'), null, 'inspectStore reads it as a store being created')
  const env = await openStore(dir, 'repo')
  t.match(env.openDB({ name: 'meta' }).get('meta'), { application: 'cairn', kind: 'repo' }, 'openStore wrote the meta record')
  await env.close()
})

t.test('a plain lmdb store with another app\'s data is FOREIGN_STORE and left untouched', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.put('user:1', { name: 'alice' })
    await env.put('user:2', { name: 'bob' })
  })
  const err = await refusedUntouched(t, dir, 'repo', 'FOREIGN_STORE')
  t.match(err?.message ?? '', /not Cairn's/, 'the message says so')

  const check = open({ path: dir, readOnly: true })
  t.same(check.get('user:1'), { name: 'alice' }, "the other app's data is still there")
  await check.close()
})

t.test('another app\'s store with named dbs (no meta) is FOREIGN_STORE and left untouched', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.openDB({ name: 'users' }).put('1', 'alice')
  })
  await refusedUntouched(t, dir, 'home', 'FOREIGN_STORE')
})

// A root key named 'meta' that is not a named database must not pass for Cairn's meta.
t.test('another app\'s store that happens to use a root key named "meta" is FOREIGN_STORE and left untouched', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.put('meta', { version: 3 })
    await env.put('other', 1)
  })
  await refusedUntouched(t, dir, 'repo', 'FOREIGN_STORE')
})

t.test('meta with application "other" is FOREIGN_STORE and left untouched', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.openDB({ name: 'meta' }).put('meta', { application: 'other', kind: 'repo', schemaVersion: 1, createdAt: 1 })
  })
  const err = await refusedUntouched(t, dir, 'repo', 'FOREIGN_STORE')
  t.same(err?.details?.application, 'other', 'details name the other application')
})

t.test('a meta db without a meta record is FOREIGN_STORE and left untouched', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.openDB({ name: 'meta' }).put('something', 1)
  })
  await refusedUntouched(t, dir, 'repo', 'FOREIGN_STORE')
})

t.test('schemaVersion 99 is STORE_TOO_NEW and left untouched', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.openDB({ name: 'meta' }).put('meta', { application: 'cairn', kind: 'repo', schemaVersion: 99, createdAt: 1 })
    await env.openDB({ name: 'future' }).put('x', 'y')
  })
  const err = await refusedUntouched(t, dir, 'repo', 'STORE_TOO_NEW')
  t.match(err?.details, { schemaVersion: 99, supported: STORE_SCHEMA_VERSIONS.repo }, 'details give both versions')
})

t.test('a newer store copied without its lock.mdb is refused and gets none', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.openDB({ name: 'meta' }).put('meta', { application: 'cairn', kind: 'repo', schemaVersion: 99, createdAt: 1 })
  })
  rmSync(join(dir, 'lock.mdb'))
  await refusedUntouched(t, dir, 'repo', 'STORE_TOO_NEW')
  t.notOk(existsSync(join(dir, 'lock.mdb')), 'no lock.mdb was created')
})

t.test('a repository store of schema 1 opens, and markSchemaCurrent records the upgrade', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.openDB({ name: 'meta' }).put('meta', { application: 'cairn', kind: 'repo', schemaVersion: 1, createdAt: 1 })
  })
  const env = await openStore(dir, 'repo')
  t.teardown(() => env.close())
  const metaDb = env.openDB({ name: 'meta' })
  t.match(metaDb.get('meta'), { schemaVersion: 1 }, 'opening alone changes nothing')
  await env.transaction(() => markSchemaCurrent(env, 'repo'))
  t.same(metaDb.get('meta'), { application: 'cairn', kind: 'repo', schemaVersion: 2, createdAt: 1 }, 'only the version moved')
})

t.test('a home store of schema 2 is STORE_TOO_NEW: versions are per kind', async (t) => {
  const dir = freshDir()
  await writeStore(dir, async (env) => {
    await env.openDB({ name: 'meta' }).put('meta', { application: 'cairn', kind: 'home', schemaVersion: 2, createdAt: 1 })
  })
  const err = await refusedUntouched(t, dir, 'home', 'STORE_TOO_NEW')
  t.match(err?.details, { schemaVersion: 2, supported: 1 })
})

t.test('a kind mismatch is FOREIGN_STORE and left untouched', async (t) => {
  const dir = freshDir()
  const env = await openStore(dir, 'home')
  await env.close()
  const err = await refusedUntouched(t, dir, 'repo', 'FOREIGN_STORE')
  t.same(err?.details?.kind, 'home', 'details name the actual kind')

  const repo = freshDir()
  const repoEnv = await openStore(repo, 'repo')
  await repoEnv.close()
  await refusedUntouched(t, repo, 'home', 'FOREIGN_STORE')

  const ok = await openStore(dir, 'home')
  t.match(ok.openDB({ name: 'meta' }).get('meta'), { kind: 'home' }, 'the right kind still opens after a refusal')
  await ok.close()
})
