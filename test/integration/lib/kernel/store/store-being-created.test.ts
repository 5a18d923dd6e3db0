/**
 * A store another process is creating: LMDB makes an empty data.mdb, then
 * writes its meta pages. The check before opening (inspectStore) must wait
 * for that while the creator is live, however slow it is (a process stalled
 * by a loaded disk took over 0.3 s in CI, and a second runtime opening the
 * same new clone got STORE_CORRUPT), and must still call a file damaged
 * when nobody is creating it, or when it stays damaged beside a live user.
 *
 * The live user is real: a child process holding an LMDB environment open,
 * whose lock.mdb is hard-linked into the store under test, so the kernel's
 * lock table shows that store in use. The late meta pages are a valid
 * store's data file, renamed into place by another child after a delay.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspectStore, LIVE_WAIT_MS, openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { storeInUse } from '../../../../../lib/kernel/store/store-users.ts'
import { CairnError } from '../../../../../protocol/errors.ts'

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url))
const box = mkdtempSync(join(tmpdir(), 'cairn-being-created-'))
const children: ChildProcess[] = []
t.teardown(() => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(box, { recursive: true, force: true })
})

/** A child process holding an LMDB environment in `dir` open until killed; resolves once it has. */
function liveUser(dir: string): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `import { open } from 'lmdb'; open({ path: ${JSON.stringify(dir)} }); console.log('open'); setInterval(() => {}, 1000)`],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`the live user exited (${code})`)))
  })
}

let n = 0
/** A store directory with an empty data.mdb whose lock.mdb is the live user's (so it reads as in use), or none. */
async function emptyStore(live: boolean): Promise<string> {
  const dir = join(box, `s${n++}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'data.mdb'), '')
  if (live) {
    const user = join(box, `user${n}`)
    await liveUser(user)
    linkSync(join(user, 'lock.mdb'), join(dir, 'lock.mdb'))
  }
  return dir
}

/** A Cairn repository store's data file, as its creator leaves it. */
async function validDataFile(): Promise<string> {
  const dir = join(box, `valid${n++}`)
  const env = await openStore(dir, 'repo')
  await env.close()
  return join(dir, 'data.mdb')
}

function inspect(dir: string): { meta: unknown; error: unknown; ms: number } {
  const t0 = performance.now()
  try {
    return { meta: inspectStore(dir, 'repo'), error: null, ms: performance.now() - t0 }
  } catch (error) {
    return { meta: null, error, ms: performance.now() - t0 }
  }
}

t.test('a store whose creator writes its meta pages a second late is waited for, not called damaged', async (t) => {
  const dir = await emptyStore(true)
  t.ok(storeInUse(dir), 'the store reads as in use')
  const valid = await validDataFile()
  // Renamed in, so the check never reads half a file; the check blocks this thread meanwhile.
  const late = spawn('sh', ['-c', `sleep 1 && cp '${valid}' '${dir}/data.new' && mv '${dir}/data.new' '${dir}/data.mdb'`], { stdio: 'inherit' })
  children.push(late)
  const r = inspect(dir)
  t.equal(r.error, null, `no error (${String(r.error)})`)
  t.match(r.meta, { kind: 'repo' }, 'the meta the creator wrote')
  t.ok(r.ms >= 700, `it waited for the creator (${r.ms.toFixed(0)} ms)`)
})

t.test('a data file that stays empty beside a live user is STORE_CORRUPT after a bounded wait', async (t) => {
  const dir = await emptyStore(true)
  const r = inspect(dir)
  t.ok(r.error instanceof CairnError && r.error.code === 'STORE_CORRUPT', `STORE_CORRUPT (${String(r.error)})`)
  t.match((r.error as Error).message, /the data file is empty/)
  t.ok(r.ms >= LIVE_WAIT_MS - 50 && r.ms < LIVE_WAIT_MS + 2_000, `after about ${LIVE_WAIT_MS} ms (${r.ms.toFixed(0)} ms)`)
})

t.test('an empty data file nobody has open is STORE_CORRUPT at once', async (t) => {
  const dir = await emptyStore(false)
  t.notOk(storeInUse(dir), 'nobody has it open')
  const r = inspect(dir)
  t.ok(r.error instanceof CairnError && r.error.code === 'STORE_CORRUPT', `STORE_CORRUPT (${String(r.error)})`)
  t.ok(r.ms < 500, `without waiting (${r.ms.toFixed(0)} ms)`)
})

t.test('the copy used above is a store inspectStore accepts', async (t) => {
  const dir = join(box, `copy${n++}`)
  mkdirSync(dir)
  copyFileSync(await validDataFile(), join(dir, 'data.mdb'))
  t.match(inspect(dir).meta, { kind: 'repo' })
})
