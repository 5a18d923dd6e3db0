/**
 * The nodegit adapter loads and writes inside real worker threads (a Piscina
 * pool, as the runtime hosts repositories), and its compare-and-swap holds
 * across threads: two workers and the main thread append to one ref at once.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { Piscina } from 'piscina'
import t from 'tap'
import { openGitWal } from '../../../../../lib/adapters/git/nodegit-wal.ts'
import type { GitWalTask, GitWalTaskResult } from '../../../../fixtures/git-wal-worker.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { git, walInput, walRef } from './wal-inputs.ts'

const box = sandbox()
t.teardown(() => box.cleanup())

const pool = new Piscina({
  filename: new URL('../../../../fixtures/git-wal-worker.ts', import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
  atomics: 'disabled',
})
t.teardown(() => pool.destroy())

t.test('a worker thread opens the adapter and appends a commit', async (t) => {
  const gitDir = join(box.repo('worker'), '.git')
  const task: GitWalTask = { gitDir, ref: walRef(), tag: 'worker', count: 1 }
  const result = (await pool.run(task)) as GitWalTaskResult
  t.not(result.threadId, 0, 'ran off the main thread')
  t.equal(result.moduleSystem, 'commonjs', 'loaded through tsx\'s require() hook, as the runtime\'s hosts are')
  t.equal(git(gitDir, ['rev-parse', walRef()]).trim(), result.commits[0], 'the ref points at the worker\'s commit')
  t.equal(git(gitDir, ['cat-file', '-t', `${result.commits[0]}:meta.json`]).trim(), 'blob')
  const wal = await openGitWal(gitDir)
  t.teardown(() => wal.close())
  const [entry] = await wal.readWal(result.commits[0] as string)
  t.equal(entry?.meta.chunk_hash, result.chunkHashes[0], 'the main thread reads it back')
})

t.test('two workers and the main thread append to one ref at once; nothing is lost', async (t) => {
  const gitDir = join(box.dir, 'shared.git')
  execFileSync('git', ['init', '-q', '--bare', gitDir])
  const N = 12
  const ref = walRef()
  const wal = await openGitWal(gitDir)
  t.teardown(() => wal.close())
  const mainThread = async (): Promise<string[]> => {
    const hashes: string[] = []
    let tip = await wal.readRef(ref)
    for (let seq = 0; seq < N; seq++) {
      for (;;) {
        const input = walInput(tip, { tag: 'main', seq })
        const r = await wal.appendWal(input)
        if (r.ok) { tip = r.commit; hashes.push(input.meta.chunk_hash); break }
        tip = r.actualTip
      }
    }
    return hashes
  }
  const [w1, w2, main] = await Promise.all([
    pool.run({ gitDir, ref, tag: 'w1', count: N } satisfies GitWalTask) as Promise<GitWalTaskResult>,
    pool.run({ gitDir, ref, tag: 'w2', count: N } satisfies GitWalTask) as Promise<GitWalTaskResult>,
    mainThread(),
  ])
  t.not(w1.threadId, w2.threadId, 'two distinct worker threads')
  t.comment(`lost races: w1 ${w1.lostRaces}, w2 ${w2.lostRaces}`)
  const tip = git(gitDir, ['rev-parse', ref]).trim()
  t.equal(git(gitDir, ['rev-list', '--count', '--first-parent', tip]).trim(), String(3 * N), 'every append is on the chain')
  const read = await wal.readWal(tip)
  t.same(new Set(read.map((e) => e.meta.chunk_hash)), new Set([...w1.chunkHashes, ...w2.chunkHashes, ...main]), 'each chunk once')
  t.equal(read.length, 3 * N)
})
