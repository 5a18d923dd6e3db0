/**
 * A full disk is STORAGE_FULL to the caller, not a dead thread and a storm
 * of restarts, and writes succeed again once space is freed, without a
 * restart. The repository lives on a real 4 MiB tmpfs (`mount -t tmpfs`,
 * root only) filled by its own writes; every acknowledged write is still
 * there at the end.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime, isCairnError } from '../../lib/index.ts'
import { sandbox } from '../helpers/tmp-repos.ts'

t.test('a full tmpfs, then freed', { skip: process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false }, async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const mnt = mkdtempSync(join(tmpdir(), 'cairn-full-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt])
  t.teardown(() => { execFileSync('umount', [mnt]); rmSync(mnt, { recursive: true, force: true }) })
  const repoPath = join(mnt, 'r')
  execFileSync('git', ['init', '-q', repoPath])
  const filler = join(mnt, 'filler')
  writeFileSync(filler, Buffer.alloc(1024 * 1024))

  const rt = await createRuntime({ home: box.home, threads: 1 })
  let stopped = false
  t.teardown(() => (stopped ? undefined : rt.stop()))
  const repo = await rt.repo(repoPath)
  const body = 'b'.repeat(100_000)
  const acknowledged: string[] = []
  const refusals: string[] = []
  for (let i = 0; i < 80; i++) {
    try {
      acknowledged.push((await repo.issues.create({ title: `big ${i}`, body })).title)
    } catch (err) {
      refusals.push(isCairnError(err) ? err.code : String(err))
    }
  }
  t.ok(acknowledged.length > 0, `${acknowledged.length} writes fit`)
  t.ok(refusals.length > 0, `${refusals.length} did not`)
  t.same([...new Set(refusals)], ['STORAGE_FULL'], 'every refusal is STORAGE_FULL: no dead thread, no restarting repository')

  rmSync(filler)
  const after: string[] = []
  for (let i = 0; i < 5; i++) after.push((await repo.issues.create({ title: `after ${i}`, body: 'small' })).title)
  t.equal(after.length, 5, 'once space is freed, writes succeed without a restart')
  const titles = (await repo.issues.list()).map((i) => i.title)
  t.same(titles.sort(), [...acknowledged, ...after].sort(), 'every acknowledged write is there, and nothing refused')
  await rt.stop()
  stopped = true
})
