/**
 * The nodegit GitWal adapter against real repositories (a work tree's .git
 * and a bare repository), checked with the git CLI: layout, readWal, the
 * compare-and-swap, concurrent writers, listRefs and close.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { openGitWal, STALE_LOCK_MS } from '../../../../../lib/adapters/git/nodegit-wal.ts'
import type { GitWal, WalCommitInput } from '../../../../../lib/kernel/ports/git-wal.ts'
import { decodeChunk } from '../../../../../protocol/events/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { ACTOR, chunkPathOf, git, gitBytes, hashOf, walInput, walRef } from './wal-inputs.ts'

const box = sandbox()
t.teardown(() => box.cleanup())

function bareRepo(name: string): string {
  const dir = join(box.dir, name)
  execFileSync('git', ['init', '-q', '--bare', dir])
  return dir
}

/** Appends `n` commits for `tag` on `ref`, each on the previous; returns them oldest first. */
async function appendChain(wal: GitWal, n: number, tag = 'w', ref = walRef()): Promise<{ commits: string[]; inputs: WalCommitInput[] }> {
  let tip = await wal.readRef(ref)
  const commits: string[] = []
  const inputs: WalCommitInput[] = []
  for (let seq = 0; seq < n; seq++) {
    const input = walInput(tip, { tag, seq, ref })
    const r = await wal.appendWal(input)
    if (!r.ok) throw new Error(`unexpected lost race on ${ref}`)
    commits.push(r.commit)
    inputs.push(input)
    tip = r.commit
  }
  return { commits, inputs }
}

for (const kind of ['work tree .git', 'bare'] as const) {
  t.test(`three appends on a ${kind} repository, read back with the git CLI`, async (t) => {
    const gitDir = kind === 'bare' ? bareRepo('layout-bare') : join(box.repo('layout'), '.git')
    const wal = await openGitWal(gitDir)
    t.teardown(() => wal.close())
    const { commits, inputs } = await appendChain(wal, 3)

    const log = git(gitDir, ['log', '--format=%H%x20%P', walRef()]).trim().split('\n')
    t.same(log, [`${commits[2]} ${commits[1]}`, `${commits[1]} ${commits[0]}`, `${commits[0]}`], 'a linear chain, newest first')
    t.equal(await wal.readRef(walRef()), commits[2], 'readRef gives the tip')
    t.equal(git(gitDir, ['rev-parse', walRef()]).trim(), commits[2])

    for (const [i, commit] of commits.entries()) {
      const input = inputs[i] as WalCommitInput
      const prev = i === 0 ? null : commits[i - 1]
      const meta = git(gitDir, ['cat-file', '-p', `${commit}:meta.json`])
      t.equal(meta, `{\n  "schema_version": 1,\n  "actor_id": "${ACTOR}",\n  "chunk_hash": "${input.meta.chunk_hash}",\n` +
        `  "prev_wal": ${prev ? `"${prev}"` : 'null'}\n}\n`, `meta.json of commit ${i} is pretty JSON in grite's key order`)
      const bytes = gitBytes(gitDir, ['cat-file', 'blob', `${commit}:${input.chunkPath}`])
      t.same(new Uint8Array(bytes), input.chunk, `the chunk blob of commit ${i} holds the chunk's bytes`)
      t.match(input.chunkPath, /^events\/2024\/02\/29\/[0-9a-f]{64}\.bin$/)
      const files = git(gitDir, ['ls-tree', '-r', '--name-only', commit]).trim().split('\n')
      t.same(files, [input.chunkPath, 'meta.json'], `commit ${i} holds exactly its own chunk and meta.json`)
      const header = git(gitDir, ['cat-file', '-p', commit])
      t.match(header, /^author cairn <cairn@localhost> 1709251198 \+0000$/m, 'author time in whole UTC seconds')
      t.match(header, /\n\nWAL: 2 events from 01234567$/, 'the message exactly as given (libgit2 adds no newline)')
    }
    t.equal(git(gitDir, ['fsck', '--strict', '--no-dangling']).trim(), '', 'git fsck finds nothing wrong')
  })
}

t.test('readWal: oldest first, stopAt, limit paging, the chunk decodes', async (t) => {
  const gitDir = bareRepo('read')
  const wal = await openGitWal(gitDir)
  t.teardown(() => wal.close())
  const { commits, inputs } = await appendChain(wal, 7)
  const tip = commits[6] as string

  const all = await wal.readWal(tip)
  t.same(all.map((e) => e.commit), commits, 'every commit, oldest first')
  for (const [i, e] of all.entries()) {
    const input = inputs[i] as WalCommitInput
    t.same(e.meta, input.meta, `meta ${i}`)
    t.equal(e.chunkPath, input.chunkPath)
    t.same(e.chunk, input.chunk, `chunk ${i} bytes`)
    t.ok(e.chunk instanceof Uint8Array)
  }
  t.same(decodeChunk(all[3]!.chunk).map((ev) => (ev.kind as { body: string }).body), ['w #3.0', 'w #3.1'], 'a real grite chunk')

  const after2 = await wal.readWal(tip, { stopAt: commits[2] })
  t.same(after2.map((e) => e.commit), commits.slice(3), 'stopAt is excluded')
  t.same(await wal.readWal(tip, { stopAt: tip }), [], 'stopAt = tip: nothing')
  t.same((await wal.readWal(commits[3] as string)).map((e) => e.commit), commits.slice(0, 4), 'from an older tip')

  const pages: string[][] = []
  let stopAt: string | null = null
  for (;;) {
    const page: { commit: string }[] = await wal.readWal(tip, { stopAt, limit: 3 })
    if (page.length === 0) break
    pages.push(page.map((e) => e.commit))
    stopAt = page[page.length - 1]!.commit
  }
  t.same(pages, [commits.slice(0, 3), commits.slice(3, 6), commits.slice(6)], 'limit keeps the oldest; the last commit pages on')

  const unrelated = (await wal.appendWal(walInput(null, { ref: 'refs/cairn/wal/other', tag: 'o' }))) as { commit: string }
  t.same((await wal.readWal(tip, { stopAt: unrelated.commit })).map((e) => e.commit), commits, 'a stopAt off the chain reads to the root')

  await t.rejects(wal.readWal('0'.repeat(40)), { code: 'NOT_FOUND' }, 'a tip that is not in the repository')
})

t.test('compare-and-swap: a stale expectedTip changes nothing', async (t) => {
  const gitDir = bareRepo('cas')
  const wal = await openGitWal(gitDir)
  t.teardown(() => wal.close())
  const ref = walRef()
  const missing = 'ab'.repeat(20)

  t.same(await wal.appendWal(walInput(missing, { ref })), { ok: false, actualTip: null }, 'ref absent, expectedTip set')
  t.equal(git(gitDir, ['for-each-ref', ref]), '', 'still absent')

  const { commits } = await appendChain(wal, 2)
  const [c0, c1] = commits as [string, string]
  t.same(await wal.appendWal(walInput(null, { seq: 9 })), { ok: false, actualTip: c1 }, 'ref present, expectedTip null')
  t.same(await wal.appendWal(walInput(c0, { seq: 9 })), { ok: false, actualTip: c1 }, 'ref moved past expectedTip')
  t.same(await wal.appendWal(walInput(missing, { seq: 9 })), { ok: false, actualTip: c1 }, 'expectedTip unknown to the repository')
  t.equal(git(gitDir, ['rev-parse', ref]).trim(), c1, 'the ref is untouched')
  t.equal(git(gitDir, ['rev-list', '--count', ref]).trim(), '2')

  // git moves the ref while our append is between its pre-check and its CAS
  // (or before the pre-check): either way the answer is the new tip.
  const forged = git(gitDir, ['commit-tree', git(gitDir, ['rev-parse', `${c1}^{tree}`]).trim(), '-p', c1, '-m', 'x'], '').trim()
  const racing = wal.appendWal(walInput(c1, { seq: 10 }))
  git(gitDir, ['update-ref', ref, forged, c1])
  t.same(await racing, { ok: false, actualTip: forged }, 'a concurrent git update-ref wins')
  t.equal(git(gitDir, ['rev-parse', ref]).trim(), forged)

  // A ref packed into packed-refs is compared and moved all the same.
  git(gitDir, ['update-ref', ref, c1])
  git(gitDir, ['pack-refs', '--all'])
  t.same(await wal.appendWal(walInput(c0, { seq: 11 })), { ok: false, actualTip: c1 }, 'packed ref: stale')
  const moved = await wal.appendWal(walInput(c1, { seq: 11 }))
  t.ok(moved.ok, 'packed ref: moves')
  t.equal(git(gitDir, ['rev-parse', ref]).trim(), (moved as { commit: string }).commit)
})

t.test('a lock file left by a crashed writer: BUSY, then fine once removed', async (t) => {
  const gitDir = bareRepo('locked')
  const wal = await openGitWal(gitDir)
  t.teardown(() => wal.close())
  const { commits } = await appendChain(wal, 1)
  const lock = join(gitDir, `${walRef()}.lock`)
  writeFileSync(lock, '')
  await t.rejects(wal.appendWal(walInput(commits[0] as string, { seq: 1 })), { code: 'BUSY' })
  t.equal(git(gitDir, ['rev-parse', walRef()]).trim(), commits[0], 'ref untouched')
  rmSync(lock)
  t.ok((await wal.appendWal(walInput(commits[0] as string, { seq: 1 }))).ok)
})

t.test('a lock on a Cairn ref older than STALE_LOCK_MS (a writer killed mid-update) is removed', async (t) => {
  const gitDir = bareRepo('stale-lock')
  const wal = await openGitWal(gitDir)
  t.teardown(() => wal.close())
  const { commits } = await appendChain(wal, 1)
  const lock = join(gitDir, `${walRef()}.lock`)
  writeFileSync(lock, '')
  const old = new Date(Date.now() - STALE_LOCK_MS - 1_000)
  utimesSync(lock, old, old)
  const r = await wal.appendWal(walInput(commits[0] as string, { seq: 1 }))
  t.ok(r.ok, 'the append succeeds')
  t.equal(existsSync(lock), false, 'the stale lock is gone')
  t.equal(git(gitDir, ['rev-parse', walRef()]).trim(), (r as { commit: string }).commit)
})

t.test('two GitWal instances append concurrently; losers retry on actualTip; nothing is lost', async (t) => {
  const gitDir = bareRepo('concurrent')
  const [a, b] = await Promise.all([openGitWal(gitDir), openGitWal(gitDir)])
  t.teardown(() => { a.close(); b.close() })
  const N = 15
  let lost = 0
  const writer = async (wal: GitWal, tag: string): Promise<string[]> => {
    const hashes: string[] = []
    let tip = await wal.readRef(walRef())
    for (let seq = 0; seq < N; seq++) {
      for (;;) {
        const input = walInput(tip, { tag, seq })
        const r = await wal.appendWal(input)
        if (r.ok) { tip = r.commit; hashes.push(input.meta.chunk_hash); break }
        lost++
        tip = r.actualTip
      }
    }
    return hashes
  }
  const [ha, hb] = await Promise.all([writer(a, 'a'), writer(b, 'b')])
  t.ok(lost > 0, `the writers did race (${lost} lost races)`)
  const orphans = git(gitDir, ['fsck', '--unreachable', '--no-reflogs']).split('\n').filter((l) => l.startsWith('unreachable commit'))
  t.ok(orphans.length > 0, `${orphans.length} of them lost at the compare-and-swap itself, after writing their commit`)
  const tip = git(gitDir, ['rev-parse', walRef()]).trim()
  t.equal(git(gitDir, ['rev-list', '--count', '--first-parent', tip]).trim(), String(2 * N), 'every append is on the chain')
  t.equal(git(gitDir, ['rev-list', '--merges', '--count', tip]).trim(), '0', 'linear')
  const read = await a.readWal(tip)
  t.same(new Set(read.map((e) => e.meta.chunk_hash)), new Set([...ha, ...hb]), 'each writer\'s chunks, once each')
  t.same(read.map((e) => hashOf(e.chunk)), read.map((e) => e.meta.chunk_hash), 'each chunk hashes to its name')
  t.same(read.map((e) => e.chunkPath), read.map((e) => chunkPathOf(e.chunk)))
})

t.test('listRefs and readRef', async (t) => {
  const gitDir = join(box.repo('refs'), '.git')
  const wal = await openGitWal(gitDir)
  t.teardown(() => wal.close())
  t.same(await wal.listRefs('refs/cairn/'), new Map(), 'empty repository')
  t.equal(await wal.readRef(walRef()), null, 'absent ref')
  const actors = ['11'.repeat(16), '22'.repeat(16)]
  const tips = new Map<string, string>()
  for (const actor of actors) {
    const r = await wal.appendWal(walInput(null, { actor }))
    tips.set(walRef(actor), (r as { commit: string }).commit)
  }
  const lease = (await wal.appendWal(walInput(null, { ref: 'refs/cairn/leases/abc' }))) as { commit: string }
  git(gitDir, ['update-ref', 'refs/heads/main', lease.commit])
  git(gitDir, ['symbolic-ref', 'refs/cairn/alias', walRef(actors[0])])

  t.same(await wal.listRefs('refs/cairn/wal/'), tips, 'every WAL ref, name -> commit')
  const everything = await wal.listRefs('refs/cairn/')
  t.same([...everything.keys()], ['refs/cairn/alias', 'refs/cairn/leases/abc', ...tips.keys()], 'sorted by name; nothing outside the prefix')
  t.equal(everything.get('refs/cairn/alias'), tips.get(walRef(actors[0])), 'a symbolic ref lists its target commit')
  t.equal(await wal.readRef('refs/heads/main'), lease.commit, 'readRef reads any ref under refs/')
  git(gitDir, ['pack-refs', '--all'])
  t.same(await wal.listRefs('refs/cairn/wal/'), tips, 'packed refs too')
})

t.test('close: refuses new calls, lets calls in flight finish, resolves after, is idempotent', async (t) => {
  const gitDir = bareRepo('close')
  const wal = await openGitWal(gitDir)
  const inFlight = wal.appendWal(walInput(null))
  let appended = false
  void inFlight.then(() => { appended = true })
  const closed = wal.close()
  t.equal(wal.close(), closed, 'a second close returns the same promise')
  await closed
  t.ok(appended, 'close resolves only after the call in flight finished')
  t.ok((await inFlight).ok, 'the append in flight completes')
  await t.rejects(wal.readRef(walRef()), { code: 'STOPPED' })
  await t.rejects(openGitWal(join(box.dir, 'nowhere')), { code: 'NOT_FOUND' }, 'no repository there')
  const again = await openGitWal(gitDir)
  t.equal(await again.readRef(walRef()), ((await inFlight) as { commit: string }).commit, 'reopens and sees the append')
  await again.close()
})
