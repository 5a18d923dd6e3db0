/**
 * One bad ref on a remote does not stop syncing: a malformed commit is
 * quarantined (reported with its ref, its commit id and INVALID_FORMAT, and
 * nothing of it ingested), a chunk too large to read is quarantined with
 * CHUNK_TOO_LARGE, the good commits before them and every other ref are
 * ingested, and this replica's own refs are pushed. A single commit of
 * 25,000 events (more than one ingest request holds) is ingested whole.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime } from '../../../../lib/index.ts'
import { openGitWal } from '../../../../lib/adapters/git/nodegit-wal.ts'
import { chunkHashOf, encodeChunk } from '../../../../protocol/events/chunk.ts'
import { computeEventId } from '../../../../protocol/events/canonical.ts'
import type { CairnEvent } from '../../../../protocol/events/types.ts'
import { MAX_CHUNK_BYTES } from '../../../../protocol/limits.ts'
import { chunkPath, walRef } from '../../../../actors/repo-worker/wal/drain.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

const git = (gitDir: string, args: string[], input?: string): string =>
  execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 26,
    env: { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' } }).trim()
const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0')

/** `n` comments by `actor` on one issue, as another replica would have written them. */
function comments(actor: string, issue: string, n: number, from = 0): CairnEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const input = { issueId: issue, actor, tsUnixMs: 1_800_000_000_000 + from + i, parent: null, kind: { type: 'CommentAdded' as const, body: `c${from + i}` } }
    return { ...input, eventId: computeEventId(input) }
  })
}

/** Appends one grite chunk commit to `refs/cairn/wal/<actor>` of the bare repository `gitDir`. */
async function appendChunk(gitDir: string, actor: string, events: CairnEvent[]): Promise<string> {
  const wal = await openGitWal(gitDir)
  try {
    const tip = await wal.readRef(walRef(actor))
    const chunk = encodeChunk(events)
    const hash = chunkHashOf(chunk)
    const r = await wal.appendWal({ ref: walRef(actor), expectedTip: tip, chunk, chunkPath: chunkPath(events[0]!.tsUnixMs, hash),
      meta: { schema_version: 1, actor_id: actor, chunk_hash: hash, prev_wal: tip }, message: 'wal', author: { name: 'x', email: 'x@x', timeMs: Date.now() } })
    if (!r.ok) throw new Error('lost a race in a test')
    return r.commit
  } finally {
    await wal.close()
  }
}

t.test('a remote with bad refs among good ones: the bad are quarantined, the rest ingested, ours pushed', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  const [good, huge, tail, junk, big] = [1, 2, 3, 4, 5].map((n) => hex(n, 16))
  // One issue per ref: what is measured is reading refs, not folding comments that arrive out of order.
  const [goodIssue, hugeIssue, tailIssue] = [97, 98, 99].map((n) => hex(n, 16))

  // good: two ordinary commits. huge: one commit of 25,000 events.
  await appendChunk(remote, good!, comments(good!, goodIssue!, 3))
  await appendChunk(remote, good!, comments(good!, goodIssue!, 2, 3))
  await appendChunk(remote, huge!, comments(huge!, hugeIssue!, 25_000))
  // tail: two good commits, then one without a chunk on top.
  await appendChunk(remote, tail!, comments(tail!, tailIssue!, 4))
  const tailGood = await appendChunk(remote, tail!, comments(tail!, tailIssue!, 1, 4))
  const meta = git(remote, ['hash-object', '-w', '--stdin'], '{"schema_version":1}')
  const badTree = git(remote, ['mktree'], `100644 blob ${meta}\tmeta.json\n`)
  const tailBad = git(remote, ['commit-tree', badTree, '-p', tailGood, '-m', 'no chunk'])
  git(remote, ['update-ref', walRef(tail!), tailBad])
  // junk: a root commit whose tree is empty.
  const junkCommit = git(remote, ['commit-tree', git(remote, ['mktree'], ''), '-m', 'junk'])
  git(remote, ['update-ref', walRef(junk!), junkCommit])
  // big: a chunk blob past MAX_CHUNK_BYTES (zeros: git stores it small; Cairn must not read it).
  const bigFile = join(box.dir, 'big.bin')
  writeFileSync(bigFile, Buffer.alloc(MAX_CHUNK_BYTES + 1))
  const bigBlob = git(remote, ['hash-object', '-w', bigFile])
  const hash = '0'.repeat(64)
  const bigMeta = git(remote, ['hash-object', '-w', '--stdin'], JSON.stringify({ schema_version: 1, actor_id: big, chunk_hash: hash, prev_wal: null }, null, 2))
  const dd = git(remote, ['mktree'], `100644 blob ${bigBlob}\t${hash}.bin\n`)
  const mm = git(remote, ['mktree'], `040000 tree ${dd}\t01\n`)
  const yy = git(remote, ['mktree'], `040000 tree ${mm}\t01\n`)
  const ev = git(remote, ['mktree'], `040000 tree ${yy}\t2027\n`)
  const bigTree = git(remote, ['mktree'], `040000 tree ${ev}\tevents\n100644 blob ${bigMeta}\tmeta.json\n`)
  const bigCommit = git(remote, ['commit-tree', bigTree, '-m', 'too big'])
  git(remote, ['update-ref', walRef(big!), bigCommit])

  const path = box.repo('mine')
  const rt = await createRuntime({ threads: 1, home: join(box.dir, 'home') })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(path, { agent: 'me' })
  await repo.issues.create({ title: 'mine' })

  const report = await repo.sync({ remote })
  t.same(report.quarantined.map((q) => [q.ref, q.commit, q.code]).sort(), [
    [`wal/${tail}`, tailBad, 'INVALID_FORMAT'],
    [`wal/${junk}`, junkCommit, 'INVALID_FORMAT'],
    [`wal/${big}`, bigCommit, 'CHUNK_TOO_LARGE'],
  ].sort(), 'each bad commit is quarantined, named by ref, commit id and code')
  t.ok(report.quarantined.every((q) => q.message.includes(q.commit)), 'each message names its commit')
  t.equal(report.pulled, 3 + 2 + 25_000 + 4 + 1, 'every good event is ingested: both good refs, the huge commit whole, and the good commits under the bad one')
  t.match(report.refs.find((r) => r.ref === `wal/${tail}`), { status: 'quarantined', events: 5 }, 'the ref with a bad tip reports what it ingested')
  t.equal(git(remote, ['rev-parse', walRef(repo.actor)]), execFileSync('git', ['-C', path, 'rev-parse', walRef(repo.actor)], { encoding: 'utf8' }).trim(), 'our own ref is pushed')
  const shown = await Promise.all([goodIssue!, hugeIssue!, tailIssue!].map(async (id) => (await repo.issues.history(id)).length))
  t.same(shown, [5, 25_000, 5], 'the comments are in each issue\'s history')
  t.match(await repo.syncStatus(), { failures: 0, lastError: null }, 'the run succeeded: no backoff')
  t.throws(() => execFileSync('git', ['-C', path, 'rev-parse', '--verify', '-q', walRef(junk!)], { stdio: 'pipe' }), 'a quarantined ref is not relayed into our refs')

  const again = await repo.sync({ remote })
  t.equal(again.pulled, 0, 'a second run ingests nothing new')
  t.same(again.quarantined.map((q) => q.commit).sort(), [tailBad, junkCommit, bigCommit].sort(), 'and reports the same quarantine')
})
