#!/usr/bin/env node
/**
 * Builds lmdb-js's native addon from the sources it ships, with one fix
 * that upstream LMDB made in 2021 (ITS#9496) and lmdb-js 3.5.6's copy of
 * LMDB lacks: `mdb_env_open2` writes the shared "last committed
 * transaction" id from the meta page it read at open, without the writer
 * lock. A process that opens a store while another process commits can so
 * set that id back; the next commit, by any process, builds on the older
 * snapshot: an acknowledged commit is lost, or the B-tree breaks
 * (`MDB_PROBLEM: mdb_page_touch no parent`). One writer and one process
 * opening and closing the store lose a commit within seconds
 * (test/fault/store-concurrent-open.test.ts). Upstream moved the write into
 * `mdb_env_share_locks`, which only the first opener (alone, holding the
 * lock file exclusively) runs; lmdb-js has that one too, so the line in
 * `mdb_env_open2` is simply dropped.
 *
 * Run by `npm install` (postinstall) and scripts/setup; idempotent: a build
 * stamp next to the addon says it is done. lmdb-js's loader prefers
 * `build/Release` over its prebuilt package, so the fixed build is the one
 * every process loads. Needs what node-gyp needs (python3, make, g++, Node's
 * headers: taken from Node's own prefix when it has them).
 *
 *   node scripts/patch-lmdb.mjs [--check]    (--check: only says whether it is done; exit 1 if not)
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { spawnSync } from 'node:child_process'

export const FIX_ID = 'LMDB ITS#9496 (mdb_env_open2 no longer sets the shared last txn id)'
const BROKEN = '\tif (env->me_txns)\n\t\tenv->me_txns->mti_txnid = meta.mm_txnid;\n\n#if MDB_DEBUG'
const FIXED = '\t/* cairn: no write of mti_txnid here (LMDB ITS#9496): a shared opener would set the\n'
  + '\t * shared last-txn id back under a committing process; mdb_env_share_locks sets it. */\n\n#if MDB_DEBUG'
const STAMP = 'cairn-lmdb-fix.json'

function fail(message) {
  console.error(`patch-lmdb: ${message}`)
  process.exit(1)
}

/** The installed lmdb package's directory, as Cairn resolves it. */
function lmdbDir() {
  const require = createRequire(import.meta.url)
  let entry
  try {
    entry = require.resolve('lmdb')
  } catch {
    fail('the lmdb package is not installed (run npm install first)')
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'lmdb') return dir
  }
  fail(`no lmdb package.json above ${entry}`)
}

const dir = lmdbDir()
const mdb = join(dir, 'dependencies/lmdb/libraries/liblmdb/mdb.c')
const stampPath = join(dir, 'build/Release', STAMP)
const addon = join(dir, 'build/Release/lmdb.node')
if (!existsSync(mdb)) fail(`${mdb} is missing: this lmdb package ships no sources to build`)

let source = readFileSync(mdb, 'utf8')
const hash = (text) => createHash('sha256').update(text).digest('hex')
const want = { fix: FIX_ID, version: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version, abi: process.versions.modules }
const stamp = (() => { try { return JSON.parse(readFileSync(stampPath, 'utf8')) } catch { return null } })()
const done = existsSync(addon) && stamp !== null && stamp.fix === want.fix && stamp.version === want.version && stamp.abi === want.abi
  && stamp.source === hash(source)

if (process.argv.includes('--check')) {
  console.log(`patch-lmdb: ${dir} is ${done ? '' : 'NOT '}built with the fix`)
  process.exit(done ? 0 : 1)
}
if (done) {
  console.log('patch-lmdb: lmdb already built with the fix')
  process.exit(0)
}

if (!source.includes(FIXED)) {
  const at = source.indexOf(BROKEN)
  if (at < 0 || source.indexOf(BROKEN, at + 1) >= 0) fail(`${mdb} does not have the code this fix expects (lmdb ${want.version}); not patched`)
  source = source.replace(BROKEN, FIXED)
  writeFileSync(mdb, source)
}

// node-gyp: npm's own (npm names it to its scripts), else the one beside this node.
const nodeGyp = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')]
  .find((p) => p && existsSync(p))
if (!nodeGyp) fail('node-gyp not found (it comes with npm)')
const args = [nodeGyp, 'rebuild', '-j', 'max']
// Node's headers from its own prefix (Debian and the official builds have them) instead of a download.
const prefix = dirname(dirname(process.execPath))
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node.h'))) args.push(`--nodedir=${prefix}`)
console.log(`patch-lmdb: building lmdb ${want.version} with ${FIX_ID} (about a minute)`)
// The compiler's many warnings about lmdb-js's sources are noise here: shown only when the build fails.
const built = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
if (built.status !== 0 || !existsSync(addon)) {
  console.error(`${built.stdout ?? ''}${built.stderr ?? ''}`.split('\n').slice(-40).join('\n'))
  fail(`building lmdb failed (node-gyp exit ${built.status}); the stores would run on the unfixed prebuilt library`)
}
writeFileSync(stampPath, JSON.stringify({ ...want, source: hash(source) }) + '\n')
console.log('patch-lmdb: ok')
