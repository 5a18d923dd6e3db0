/**
 * Two bridges to the outside: an existing grite WAL (built here with the git
 * CLI straight from the format, not by Cairn's writer) imports with matching
 * event ids, and replicas sync through `git daemon` on 127.0.0.1.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { blake2b } from '@noble/hashes/blake2.js'
import { createRuntime } from '../../../../lib/index.ts'
import { computeEventId } from '../../../../protocol/events/canonical.ts'
import { encodeChunk } from '../../../../protocol/events/chunk.ts'
import { bytesToHex } from '../../../../protocol/events/hex.ts'
import type { CairnEvent, EventKind } from '../../../../protocol/events/types.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { startGitDaemon } from '../../../helpers/git-daemon.ts'

const ENV = { ...process.env, GIT_AUTHOR_NAME: 'grite', GIT_AUTHOR_EMAIL: 'grite@example.invalid', GIT_COMMITTER_NAME: 'grite', GIT_COMMITTER_EMAIL: 'grite@example.invalid' }
const git = (cwd: string, args: string[], input?: string | Buffer): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: ENV, ...(input !== undefined ? { input } : {}) }).trim()

/** One grite WAL commit: meta.json + events/YYYY/MM/DD/<blake2b(chunk)>.bin, parent = prev. */
function griteCommit(repo: string, actor: string, events: CairnEvent[], prev: string | null): string {
  const chunk = encodeChunk(events)
  const hash = bytesToHex(blake2b(chunk, { dkLen: 32 }))
  const meta = JSON.stringify({ schema_version: 1, actor_id: actor, chunk_hash: hash, prev_wal: prev }, null, 2)
  const blob = (data: string | Buffer): string => git(repo, ['hash-object', '-w', '--stdin'], data)
  const tree = (entries: string): string => git(repo, ['mktree'], entries)
  const d = new Date(events[0]!.tsUnixMs)
  const [y, m, day] = [String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0')]
  let sub = tree(`100644 blob ${blob(Buffer.from(chunk))}\t${hash}.bin\n`)
  sub = tree(`040000 tree ${sub}\t${day}\n`)
  sub = tree(`040000 tree ${sub}\t${m}\n`)
  sub = tree(`040000 tree ${sub}\t${y}\n`)
  const root = tree(`040000 tree ${sub}\tevents\n100644 blob ${blob(meta)}\tmeta.json\n`)
  return git(repo, ['commit-tree', root, '-m', 'grite wal', ...(prev ? ['-p', prev] : [])])
}

t.test('a grite WAL imports with matching event ids, and a re-import adds nothing', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const path = box.repo('grite')
  const actors = ['11'.repeat(16), '22'.repeat(16)]
  const issue = 'a1'.repeat(16)
  const all: CairnEvent[] = []
  const make = (actor: string, ts: number, kind: EventKind): CairnEvent => {
    const input = { issueId: issue, actor, tsUnixMs: ts, parent: null, kind }
    const e = { ...input, eventId: computeEventId(input) }
    all.push(e)
    return e
  }
  const T = Date.UTC(2025, 0, 31, 23, 59)
  let tip = griteCommit(path, actors[0]!, [make(actors[0]!, T, { type: 'IssueCreated', title: 'from grite', body: 'b', labels: ['bug'] })], null)
  tip = griteCommit(path, actors[1]!, [make(actors[1]!, T + 1, { type: 'CommentAdded', body: 'second actor' }),
    make(actors[1]!, T + 2, { type: 'LabelAdded', label: 'p1' })], tip)
  tip = griteCommit(path, actors[0]!, [make(actors[0]!, T + 60_000, { type: 'StateChanged', state: 'closed' })], tip)
  git(path, ['update-ref', 'refs/grite/wal', tip])

  const rt = await createRuntime({ threads: 1, home: box.home })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(path)
  const r = await repo.importGrite()
  t.match(r, { pulled: 4, duplicates: 0, refs: [{ ref: 'refs/grite/wal', to: tip, status: 'ingested', events: 4 }] })
  const log = await repo.events.read({ fromSeq: 1, limit: 100 })
  t.same(log.map((l) => l.event.eventId).sort(), all.map((e) => e.eventId).sort(), 'exactly grite\'s event ids')
  const shown = await repo.issues.show(issue)
  t.match(shown, { title: 'from grite', state: 'closed', labels: ['bug', 'p1'] }, 'projected in (ts, actor, id) order')
  t.equal(shown.comments.length, 1)
  const again = await repo.importGrite()
  t.match(again, { pulled: 0, duplicates: 0 }, 'a second import reads nothing: its anchor is the tip')
  t.equal((await repo.events.stats()).outbox, 0, 'imported events are not ours to write to the WAL again')

  const next = griteCommit(path, actors[1]!, [make(actors[1]!, T + 120_000, { type: 'StateChanged', state: 'open' })], tip)
  git(path, ['update-ref', 'refs/grite/wal', next])
  t.match(await repo.importGrite(), { pulled: 1 }, 'a later import reads only the new commit')
  t.equal((await repo.issues.show(issue)).state, 'open')
})

t.test('replicas sync through git daemon on 127.0.0.1', async (t) => {
  const box = sandbox()
  t.teardown(box.cleanup)
  const base = join(box.dir, 'served')
  execFileSync('git', ['init', '-q', '--bare', join(base, 'board.git')])
  const daemon = await startGitDaemon(base)
  t.teardown(() => daemon.stop())
  const url = daemon.url('board.git')

  const homes = ['a', 'b'].map((n) => join(box.dir, `home-${n}`))
  const [ra, rb] = [await createRuntime({ threads: 1, home: homes[0] }), await createRuntime({ threads: 1, home: homes[1] })]
  t.teardown(async () => { await ra.stop(); await rb.stop() })
  const a = await ra.repo(box.repo('a'), { agent: 'a' })
  const b = await rb.repo(box.repo('b'), { agent: 'b' })
  const issue = await a.issues.create({ title: 'over the network' })
  t.match(await a.sync({ remote: url }), { pushed: 1 }, 'pushed over git://')
  t.match(await b.sync({ remote: url }), { pulled: 1 }, 'fetched over git://')
  await b.issues.comment(issue.id, 'seen')
  await b.sync({ remote: url })
  t.match(await a.sync({ remote: url }), { pulled: 1 })
  t.same(await a.issues.show(issue.id), await b.issues.show(issue.id), 'both replicas agree')
  const served = execFileSync('git', ['--git-dir', join(base, 'board.git'), 'for-each-ref', '--format=%(refname)', 'refs/cairn/'], { encoding: 'utf8' })
  t.same(served.trim().split('\n').sort(), [`refs/cairn/wal/${a.actor}`, `refs/cairn/wal/${b.actor}`].sort(), 'the served repository holds both actors\' refs')
})
