/**
 * A damaged repository store is refused with STORE_CORRUPT, by a process
 * that stays alive (no SIGSEGV, SIGBUS or SIGABRT), and `cairn doctor --fix`
 * rebuilds it from the git WAL: every drained event is back.
 *
 * Damage done to a real store with real files: emptied, replaced by random
 * bytes, cut in half, pages zeroed, a value's bytes flipped, replaced by a
 * file that is not LMDB at all. Each case runs the real `cairn` CLI.
 */
import t from 'tap'
import { existsSync, statSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime } from '../../lib/index.ts'
import { EXIT_CODES } from '../../lib/cli/exit-codes.ts'
import { mulberry32 as prng } from '../helpers/prng.ts'
import { damagedRepo, type DamagedRepo } from '../helpers/damaged-store.ts'

let d: DamagedRepo
t.before(async () => { d = await damagedRepo() })
t.teardown(() => d.box.cleanup())
const dataFile = (): string => join(d.store, 'data.mdb')

const damages: [string, () => void][] = [
  ['emptied (0 bytes)', () => truncateSync(dataFile(), 0)],
  ['random bytes', () => {
    const size = statSync(dataFile()).size
    const rnd = prng(7)
    writeFileSync(dataFile(), Buffer.from(Array.from({ length: size }, () => Math.floor(rnd() * 256))))
  }],
  ['cut to half', () => truncateSync(dataFile(), Math.floor(statSync(dataFile()).size / 2))],
  ['pages zeroed', () => {
    const size = statSync(dataFile()).size
    const fd = openSync(dataFile(), 'r+')
    // Every page from the third on: the trees' pages, the meta pages intact.
    writeSync(fd, Buffer.alloc(size - 2 * 4096), 0, size - 2 * 4096, 2 * 4096)
    closeSync(fd)
  }],
  ['a value\'s bytes flipped', () => d.flipValue('issues')],
  ['not LMDB at all', () => writeFileSync(dataFile(), 'this is a text file, not a store\n'.repeat(300))],
]

for (const [name, damage] of damages) {
  t.test(`store ${name}: STORE_CORRUPT, no crash; doctor --fix brings back every drained event`, async (t) => {
    d.restore()
    damage()
    const list = await d.cairn('issue', 'list')
    t.equal(list.signal, null, `the CLI was not killed by a signal (${list.signal})`)
    t.match(JSON.parse(list.stdout.trim() || '{}'), { ok: false, error: { code: 'STORE_CORRUPT' } }, `issue list fails STORE_CORRUPT (${list.stdout.trim()} ${list.stderr.slice(-300)})`)
    t.equal(list.code, EXIT_CODES.STORE_CORRUPT, `with its exit code (${list.code})`)

    const doctor = await d.cairnHere('doctor', '--fix')
    const report = JSON.parse(doctor.stdout.trim())
    t.equal(doctor.code, 0, `doctor --fix exits 0 (${doctor.stdout.trim().slice(0, 600)} ${doctor.stderr.slice(-300)})`)
    t.match(report, { ok: true, data: { healthy: true } }, 'and reports the repository healthy')
    const rebuild = report.data.checks.find((c: { name: string }) => c.name === 'store-rebuild')
    t.match(rebuild, { fixed: true, report: { outbox: { unrecoverable: [] } } }, 'the store was rebuilt; nothing in the outbox was lost (it was drained)')
    t.ok(existsSync(join(rebuild.report.movedTo, 'data.mdb')), 'the damaged file was moved aside, not deleted')

    const rt = await createRuntime({ home: d.box.home, threads: 1 })
    try {
      const r = await rt.repo(d.repo, { agent: 'a' })
      const ids: string[] = []
      for (let from = 1; ;) {
        const page = await r.events.read({ fromSeq: from, limit: 1000 })
        if (page.length === 0) break
        ids.push(...page.map((e) => e.event.eventId))
        from = page[page.length - 1]!.seq + 1
      }
      t.same(ids.sort(), d.drained, `every drained event is back (${d.drained.length})`)
      t.equal((await r.issues.list({})).length, 12, 'and the board shows every issue')
      if (rebuild.report.copied.identities > 0) t.equal(r.actor, d.actor, 'the agent keeps its actor id (identities salvaged)')
      else t.match(rebuild.detail, /agent identities unreadable/, 'identities could not be read back: the report says so')
    } finally {
      await rt.stop()
    }
  })
}

