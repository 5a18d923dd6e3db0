/**
 * `cairn compact` / compactStore: a store with pages on LMDB's free list is
 * rewritten without them, holding exactly what it held; a store open in any
 * process (this one included) is refused and left alone; a damaged or
 * foreign store is refused as an open would refuse it; a compaction killed
 * with SIGKILL during its copy or after it leaves a store that opens and
 * holds everything.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime, isCairnError } from '../../../../../lib/index.ts'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { compactStore } from '../../../../../lib/kernel/store/compact.ts'
import { isSealed } from '../../../../../lib/kernel/store/seal.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { cli, CAIRN_COMMAND, envelope } from '../../daemon/daemon-helpers.ts'
import { EXIT_CODES } from '../../../../../lib/cli/exit-codes.ts'

const box = sandbox()
t.teardown(() => box.cleanup())
let n = 0

interface Board { repo: string; dir: string; issues: { id: string; title: string; state: string; comments: number }[] }

/** A repository with a small board written through a runtime, then a large block freed (as an outbox emptied after a long offline stretch). */
async function board(opts: { liveRecords?: number; freedRecords?: number } = {}): Promise<Board> {
  const repo = box.repo(`r${n}`)
  const rt = await createRuntime({ home: join(box.dir, `home-${n++}`), threads: 1 })
  try {
    const r = await rt.repo(repo, { agent: 'ann' })
    for (let i = 0; i < 40; i++) {
      const { id } = await r.issues.create({ title: `issue ${i}` })
      for (let c = 0; c < i % 4; c++) await r.issues.comment(id, `comment ${c} on ${i}`)
      if (i % 5 === 0) await r.issues.close(id)
    }
  } finally {
    await rt.stop()
  }
  const dir = join(repo, '.git', 'cairn')
  const env = await openStore(dir, 'repo')
  const scratch = env.openDB({ name: 'scratch' })
  await env.transaction(() => { for (let i = 0; i < (opts.freedRecords ?? 20_000); i++) void scratch.put(`k${String(i).padStart(6, '0')}`, 'x'.repeat(300)) })
  await scratch.clearAsync()
  if (opts.liveRecords) {
    // Kept: a copy of them takes long enough to be cut short.
    const live = env.openDB({ name: 'live' })
    await env.transaction(() => { for (let i = 0; i < opts.liveRecords!; i++) void live.put(`k${String(i).padStart(7, '0')}`, `${i}:${'y'.repeat(1000)}`) })
  }
  await env.close()
  return { repo, dir, issues: await contents(repo) }
}

async function contents(repo: string): Promise<Board['issues']> {
  const rt = await createRuntime({ home: join(box.dir, `home-read-${n++}`), threads: 1 })
  try {
    const r = await rt.repo(repo, { agent: 'reader' })
    const all = await r.issues.list({ state: 'all' } as never)
    const out = []
    for (const s of all) {
      const full = await r.issues.show(s.id)
      out.push({ id: s.id, title: full.title, state: full.state, comments: full.comments.length })
    }
    return out.sort((a, b) => a.id.localeCompare(b.id))
  } finally {
    await rt.stop()
  }
}

t.test('free pages are given back; the store holds the same board, sealed, with its file mode', async (t) => {
  const b = await board()
  const file = join(b.dir, 'data.mdb')
  const mode = statSync(file).mode & 0o777
  const dry = await compactStore(b.dir, { dryRun: true })
  t.ok(dry.before.freeBytes > 4 * 2 ** 20, `the dry run finds the freed block (${dry.before.freeBytes} B free of ${dry.before.fileBytes})`)
  t.equal(statSync(file).size, dry.before.fileBytes, 'a dry run changes nothing')
  const r = await compactStore(b.dir)
  t.ok(r.afterBytes < r.before.fileBytes - 4 * 2 ** 20, `${r.before.fileBytes} → ${r.afterBytes} B`)
  t.ok(Math.abs(r.afterBytes - r.before.usedBytes) <= 64 * 4096, `the new size is what was in use (${r.before.usedBytes} B), give or take a few pages`)
  t.equal(statSync(file).size, r.afterBytes)
  t.equal(statSync(file).mode & 0o777, mode, 'the file keeps its mode')
  t.ok(isSealed(b.dir), 'the compacted store is sealed (its next open skips the page walk)')
  t.notOk(existsSync(join(b.dir, 'compacting')), 'no copy is left beside it')
  t.strictSame(await contents(b.repo), b.issues, 'every issue, state and comment count as before')
  t.equal(b.issues.length, 40)
  const again = await compactStore(b.dir, { dryRun: true })
  t.ok(again.before.freeBytes <= 64 * 4096, `nothing left to give back (${again.before.freeBytes} B)`)
})

t.test('a store open in a runtime of this process or in another process is refused and left as it was', async (t) => {
  const b = await board()
  const file = join(b.dir, 'data.mdb')
  const before = statSync(file)
  const rt = await createRuntime({ home: join(box.dir, `home-open-${n++}`), threads: 1 })
  await rt.repo(b.repo, { agent: 'ann' })
  const err = await compactStore(b.dir).then(() => null, (e: unknown) => e)
  await rt.stop()
  t.ok(isCairnError(err, 'UNAVAILABLE'), `open here: UNAVAILABLE (${String(err)})`)
  t.equal((err as { details?: { reason?: string } }).details?.reason, 'store-in-use')

  const holder = spawn(process.execPath, ['-e', `const { open } = require('lmdb'); open({ path: ${JSON.stringify(b.dir)}, maxDbs: 32, compression: false, readOnly: true }).getStats(); console.log('open'); setTimeout(() => {}, 60000)`],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { holder.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the holder did not open the store in 20 s')), 20_000)
    holder.stdout.once('data', () => { clearTimeout(timer); resolve() })
  })
  const err2 = await compactStore(b.dir).then(() => null, (e: unknown) => e)
  t.ok(isCairnError(err2, 'UNAVAILABLE'), `open in pid ${holder.pid}: UNAVAILABLE (${String(err2)})`)
  t.match((err2 as Error).message, String(holder.pid), 'the message names the process')
  holder.kill('SIGKILL')
  const after = statSync(file)
  t.equal(after.ino, before.ino, 'the same file')
  t.equal(after.size, before.size, 'of the same size')
})

t.test('a damaged store, a home store and no store at all are refused as an open refuses them', async (t) => {
  const b = await board()
  const file = join(b.dir, 'data.mdb')
  const size = statSync(file).size
  const fd = openSync(file, 'r+')
  writeSync(fd, Buffer.alloc(8 * 4096, 0xa5), 0, 8 * 4096, 4 * 4096)
  closeSync(fd)
  const corrupt = await compactStore(b.dir).then(() => null, (e: unknown) => e)
  t.ok(isCairnError(corrupt, 'STORE_CORRUPT'), `damaged pages: STORE_CORRUPT (${String(corrupt)})`)
  t.equal(statSync(file).size, size, 'the damaged file is left for doctor --fix')

  const home = join(box.dir, `home-kind-${n++}`)
  const env = await openStore(home, 'home')
  await env.close()
  const foreign = await compactStore(home).then(() => null, (e: unknown) => e)
  t.ok(isCairnError(foreign, 'FOREIGN_STORE'), `a home store as a repository store: FOREIGN_STORE (${String(foreign)})`)

  const none = await compactStore(join(box.dir, 'nothing-here')).then(() => null, (e: unknown) => e)
  t.ok(isCairnError(none, 'NOT_FOUND'), 'no store: NOT_FOUND')
})

t.test('the cairn compact command: dry run, compaction, a stale copy removed, errors with exit codes; doctor tells when it is worth it', async (t) => {
  const b = await board({ freedRecords: 80_000 })
  const env = { ...process.env, CAIRN_HOME: join(box.dir, `home-cli-${n++}`) }
  const space = async (): Promise<{ ok: boolean; detail: string } | undefined> => {
    const doctor = await cli(['--repo', b.repo, '--json', '--no-daemon', 'doctor'], env)
    return (envelope(doctor).data as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((c) => c.name === 'store-space')
  }
  const before = await space()
  t.equal(before?.ok, true, 'free pages are no health problem')
  t.match(before?.detail, /MiB on disk, [0-9.]+ MiB of it free pages \(`cairn compact`/, `doctor points at compact: ${before?.detail}`)
  mkdirSync(join(b.dir, 'compacting'))
  writeFileSync(join(b.dir, 'compacting', 'data.mdb'), 'a copy a crash left behind')
  const dry = await cli(['--repo', b.repo, '--json', 'compact', '--dry-run'], env)
  t.equal(dry.code, 0, dry.stderr)
  const d = envelope(dry).data as { dryRun: boolean; before: { fileBytes: number; freeBytes: number } }
  t.equal(d.dryRun, true)
  t.ok(d.before.freeBytes > 0 && d.before.freeBytes < d.before.fileBytes)
  const done = await cli(['--repo', b.repo, 'compact'], env)
  t.equal(done.code, 0, done.stderr)
  t.match(done.stdout, /compacted .* MiB → .* MiB/)
  t.notOk(existsSync(join(b.dir, 'compacting')), 'the stale copy is gone')
  t.strictSame(await contents(b.repo), b.issues)
  const after = await space()
  t.notMatch(after?.detail, /cairn compact/, `after it, doctor does not (${after?.detail})`)
  const outside = await cli(['--repo', join(box.dir, 'no-such-dir'), '--json', 'compact'], env)
  t.equal(outside.code, EXIT_CODES.NOT_FOUND, 'outside a repository: NOT_FOUND')
  t.equal(envelope(outside).error?.code, 'NOT_FOUND')
  const bad = await cli(['--repo', b.repo, 'compact', '--dry-run=yes'], env)
  t.equal(bad.code, EXIT_CODES.INVALID_ARGUMENT, 'a bad flag: INVALID_ARGUMENT')
})

/** The `live` records of a store, checked one by one. */
async function liveRecords(dir: string): Promise<number> {
  const env = await openStore(dir, 'repo')
  try {
    let ok = 0
    for (const { key, value } of env.openDB({ name: 'live' }).getRange({})) {
      if (String(value).startsWith(`${Number(String(key).slice(1))}:`)) ok++
    }
    return ok
  } finally {
    await env.close()
  }
}

t.test('SIGKILL during the copy or after it leaves a store that opens and holds everything', async (t) => {
  const records = 40_000
  const b = await board({ liveRecords: records })
  const copy = join(b.dir, 'compacting', 'data.mdb')
  let midCopy = 0
  let later = 0
  // Kills from the moment the copy appears: at once, within it, near its end and around the rename.
  for (const ms of [0, 2, 5, 10, 20, 40, 80, 160, 400, 'renamed', 'renamed'] as const) {
    const child = spawn(process.execPath, [...CAIRN_COMMAND, '--repo', b.repo, 'compact'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<string>((resolve) => child.on('close', (code, signal) => resolve(signal ?? `exit ${code}`)))
    let seen = false
    for (let i = 0; i < 30_000 && !seen && child.exitCode === null; i++) {
      seen = existsSync(copy)
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 1))
    }
    if (ms === 'renamed') {
      // Right after the copy took the store's place (or as the process ends).
      for (let i = 0; i < 60_000 && existsSync(copy) && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 1))
    } else if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
    child.kill('SIGKILL')
    const how = await exited
    const cut = existsSync(copy)
    if (cut) midCopy++
    else later++
    t.ok(seen, `${ms}: the copy was seen being written before the kill`)
    t.equal(await liveRecords(b.dir), records, `killed ${ms === 'renamed' ? 'once the copy was renamed' : `${ms} ms into the copy`} (${how}${cut ? ', copy left behind' : ''}): every record intact`)
    t.strictSame(await contents(b.repo), b.issues, `${ms}: the board as before`)
  }
  t.ok(midCopy > 0, `some kills landed while the copy was being written (${midCopy} of 11)`)
  t.ok(later > 0, `and some after it was renamed into place or as the process ended (${later} of 11)`)
  const r = await compactStore(b.dir)
  t.notOk(existsSync(join(b.dir, 'compacting')), 'the next compaction removes what a killed one left')
  t.ok(r.afterBytes > 0)
  t.equal(await liveRecords(b.dir), records)
})
