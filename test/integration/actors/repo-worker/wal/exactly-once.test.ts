/**
 * The git WAL holds every acknowledged event exactly once, whatever races
 * the drain: flushes while the background drain runs and writers keep
 * writing, right after a boot that found events in the outbox. Checked
 * commit by commit with plain git: no two commits carry the same event.
 * And a flush returns while writers continue: it drains what was
 * acknowledged before it was called, it does not wait for writers to pause.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from '../../../../../actors/repo-worker/store/dbs.ts'
import { openWalState } from '../../../../../actors/repo-worker/wal/drain.ts'
import { chunkRecordBytes, decodeChunk } from '../../../../../protocol/events/chunk.ts'
import { canonicalPreimage } from '../../../../../protocol/events/canonical.ts'
import { eventIdWithPreimage } from '../../../../../protocol/events/canonical.ts'
import { eventKey } from '../../../../../actors/repo-worker/store/batch.ts'
import type { RootDatabase } from 'lmdb'
import { lastKey, type RepoDbs } from '../../../../../actors/repo-worker/store/dbs.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { walActors, walRefName } from '../../../../helpers/git-wal.ts'

const AGENTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 }).trim()

/**
 * Each WAL commit's event ids, per actor, oldest commit first, read with
 * plain git: `git log --raw` names the chunk blob each commit adds, one
 * `git cat-file --batch` reads them all.
 */
function walCommits(repo: string): Map<string, string[][]> {
  const chunks = new Map<string, string[]>()
  const blobs: string[] = []
  for (const actor of walActors(repo)) {
    const log = git(repo, 'log', '--first-parent', '--reverse', '--raw', '--no-abbrev', '--format=commit %H', walRefName(actor))
    const list: string[] = []
    for (const line of log.split('\n')) {
      const m = /^:\d+ \d+ [0-9a-f]+ ([0-9a-f]{40}) A\tevents\/.*\.bin$/.exec(line)
      if (m) { list.push(m[1]!); blobs.push(m[1]!) }
    }
    chunks.set(actor, list)
  }
  const bytes = execFileSync('git', ['cat-file', '--batch'], { cwd: repo, input: blobs.join('\n') + '\n', maxBuffer: 1 << 28 })
  const byBlob = new Map<string, Uint8Array>()
  for (let at = 0; at < bytes.length;) {
    const nl = bytes.indexOf(10, at)
    const [id, , size] = bytes.subarray(at, nl).toString().split(' ')
    byBlob.set(id!, bytes.subarray(nl + 1, nl + 1 + Number(size)))
    at = nl + 1 + Number(size) + 1
  }
  const out = new Map<string, string[][]>()
  for (const [actor, list] of chunks) out.set(actor, list.map((b) => decodeChunk(byBlob.get(b)!).map((e) => e.eventId)))
  return out
}

/** Every id in the WAL once: names the first duplicate (its commit indexes) if not. */
function duplicates(commits: Map<string, string[][]>): string[] {
  const seen = new Map<string, string>()
  const dups: string[] = []
  for (const [actor, list] of commits) {
    list.forEach((ids, i) => {
      for (const id of ids) {
        const where = `${actor.slice(0, 8)}#${i}`
        const before = seen.get(id)
        if (before !== undefined) dups.push(`${id.slice(0, 12)} in ${before} and ${where}`)
        else seen.set(id, where)
      }
    })
  }
  return dups
}

/** Logs `perActor` comments by each actor as acknowledged local events (log, index, outbox), as a command would. */
async function appendComments(env: RootDatabase, dbs: RepoDbs, issueId: string, actors: string[], perActor: number): Promise<void> {
  let seq = lastKey(dbs.log)
  const now = Date.now()
  await env.transaction(() => {
    for (let i = 0; i < perActor; i++) {
      for (const actor of actors) {
        const input = { issueId, actor, tsUnixMs: now + i, parent: null, kind: { type: 'CommentAdded' as const, body: `c${seq}` } }
        const { eventId, preimage } = eventIdWithPreimage(input)
        const event = { ...input, eventId }
        seq++
        dbs.log.put(seq, event)
        dbs.byIssue.put(eventKey(event), [seq, event.kind.body])
        dbs.outbox.put(seq, [eventId, actor, event.tsUnixMs, chunkRecordBytes(eventId, preimage)])
      }
    }
  })
}

async function allEventIds(repo: Repo): Promise<string[]> {
  const ids: string[] = []
  for (let from = 1; ;) {
    const page = await repo.events.read({ fromSeq: from, limit: 1000 })
    if (page.length === 0) return ids
    for (const e of page) ids.push(e.event.eventId)
    from = page[page.length - 1]!.seq + 1
  }
}

t.test('flushes racing the drain right after a boot that found an outbox: every event in git exactly once', async (t) => {
  const box = sandbox()
  const path = box.repo('race')
  t.teardown(() => box.cleanup())
  let rt = await createRuntime({ home: box.home, threads: 1 })
  let agents = await Promise.all(AGENTS.map((agent) => rt.repo(path, { agent })))
  const { id } = await agents[0]!.issues.create({ title: 'busy' })
  for (let i = 0; i < 5; i++) await Promise.all(agents.map((r, j) => r.issues.comment(id, `before ${i}.${j}`)))
  await agents[0]!.wal.flush()
  await rt.stop()

  // A crash between acknowledgement and drain, as the store sees it: every event back in the outbox, the WAL gone.
  for (const actor of walActors(path)) git(path, 'update-ref', '-d', walRefName(actor))
  const env = await openStore(join(path, '.git', 'cairn'), 'repo')
  const dbs = openRepoDbs(env)
  await env.transaction(() => {
    for (const { key, value: e } of dbs.log.getRange({})) dbs.outbox.put(key as number, [e.eventId, e.actor, e.tsUnixMs, chunkRecordBytes(e.eventId, canonicalPreimage(e))])
    for (const { key } of openWalState(env).getRange({})) openWalState(env).remove(key)
  })
  await env.close()

  rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  agents = await Promise.all(AGENTS.map((agent) => rt.repo(path, { agent })))
  // Writers and flushes at once, for a bounded number of rounds.
  const flushes: Promise<unknown>[] = []
  for (let round = 0; round < 20; round++) {
    const writes = agents.flatMap((r, j) => [0, 1, 2].map((k) => r.issues.comment(id, `after ${round}.${j}.${k}`)))
    for (const r of agents) flushes.push(r.wal.flush())
    await Promise.all(writes)
  }
  await Promise.all(flushes)
  await agents[0]!.wal.flush()

  const commits = walCommits(path)
  t.same(duplicates(commits), [], 'no event is in two WAL commits')
  const inGit = [...commits.values()].flat(2).sort()
  t.same(inGit, (await allEventIds(agents[0]!)).sort(), 'the WAL holds every logged event')
  t.equal(git(path, 'fsck', '--no-dangling', '--connectivity-only').includes('error'), false, 'git fsck is clean')
})

t.test('a flush under steady writes from 20 writers returns while they keep writing, with what was acknowledged before it in git', async (t) => {
  const box = sandbox()
  const path = box.repo('steady')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const writers = await Promise.all(Array.from({ length: 20 }, (_, i) => rt.repo(path, { agent: `w${i}` })))
  const { id } = await writers[0]!.issues.create({ title: 'steady' })
  // Each writer writes back to back until told to stop, bounded in count and in time.
  let stop = false
  const deadline = Date.now() + 120_000
  const written: number[] = writers.map(() => 0)
  const running = writers.map(async (w, i) => {
    while (!stop && Date.now() < deadline && written[i]! < 50_000) {
      await w.issues.comment(id, `w${i} ${written[i]}`)
      written[i]!++
    }
  })
  const flushed: { before: number; during: number; rounds: number }[] = []
  for (let n = 0; n < 2; n++) {
    await new Promise((r) => setTimeout(r, 300))
    const acknowledged = (await writers[0]!.events.stats()).lastSeq
    const sumBefore = written.reduce((a, b) => a + b, 0)
    const report = await writers[n]!.wal.flush()
    const sumAfter = written.reduce((a, b) => a + b, 0)
    // What was acknowledged before the flush is in git once it returns.
    const ids = new Set([...walCommits(path).values()].flat(2))
    const log = (await allEventIds(writers[0]!)).slice(0, acknowledged)
    t.equal(log.filter((e) => !ids.has(e)).length, 0, `flush ${n}: every event acknowledged before it is in git`)
    flushed.push({ before: sumBefore, during: sumAfter - sumBefore, rounds: report.rounds })
  }
  const stillWriting = !stop && Date.now() < deadline && written.every((w) => w < 50_000)
  stop = true
  await Promise.all(running)
  t.ok(stillWriting, 'the flushes returned while every writer was still writing')
  for (const [n, f] of flushed.entries()) {
    t.ok(f.during > 0, `flush ${n}: writes were acknowledged while it ran (${f.during})`)
    t.equal(f.rounds, 1, `flush ${n}: one round after the one in progress drained it`)
  }
  await writers[0]!.wal.flush()
  t.same(duplicates(walCommits(path)), [], 'no event is in two WAL commits')
})

t.test('two drains of one store racing round for round (two threads or processes on one clone): every event in git once', async (t) => {
  const box = sandbox()
  const path = box.repo('two-drains')
  t.teardown(() => box.cleanup())
  const rt = await createRuntime({ home: box.home, threads: 1 })
  const agents = await Promise.all(AGENTS.slice(0, 4).map((agent) => rt.repo(path, { agent })))
  const { id } = await agents[0]!.issues.create({ title: 'busy' })
  await agents[0]!.wal.flush()
  await rt.stop()

  const { openGitWal } = await import('../../../../../lib/adapters/git/nodegit-wal.ts')
  const { WalDrain } = await import('../../../../../actors/repo-worker/wal/drain.ts')
  const env = await openStore(join(path, '.git', 'cairn'), 'repo')
  const dbs = openRepoDbs(env)
  const gits = [await openGitWal(join(path, '.git')), await openGitWal(join(path, '.git'))]
  t.teardown(async () => { for (const g of gits) await g.close(); await env.close() })
  const drains = gits.map((g) => new WalDrain(env, dbs, g, () => Date.now()))
  for (let round = 0; round < 6; round++) {
    await appendComments(env, dbs, id, agents.map((a) => a.actor), 10)
    await Promise.all(drains.map((d) => d.round()))
  }
  await drains[0]!.drain()
  t.equal(dbs.outbox.getCount(), 0, 'the outbox is drained')
  t.same(duplicates(walCommits(path)), [], 'no event is in two WAL commits')
})

t.test('large events: the drain cuts chunks at CHUNK_TARGET_BYTES, every event once, and each chunk reads back', async (t) => {
  const { CHUNK_TARGET_BYTES } = await import('../../../../../protocol/limits.ts')
  const box = sandbox()
  const path = box.repo('large')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(path, { agent: 'big' })
  const { id } = await repo.issues.create({ title: 'large comments' })
  // Nine comments of 1 MiB (within limits): 9 MiB of records for one actor.
  await Promise.all(Array.from({ length: 9 }, (_, i) => repo.issues.comment(id, String(i).repeat(1024 * 1024))))
  await repo.wal.flush()
  const commits = walCommits(path).get(repo.actor)!
  t.ok(commits.length >= 2, `more than one commit (${commits.length})`)
  const sizes = git(path, 'log', '--raw', '--no-abbrev', '--format=', walRefName(repo.actor)).split('\n').filter((l) => l.includes(' A\t') && l.endsWith('.bin'))
    .map((l) => Number(git(path, 'cat-file', '-s', l.split(' ')[3]!)))
  t.ok(sizes.every((s) => s <= CHUNK_TARGET_BYTES + 4 * 1024 * 1024), `each chunk is at most the target plus one event (${sizes.join(', ')})`)
  t.same(duplicates(commits.length ? walCommits(path) : new Map()), [], 'no event twice')
  t.equal(commits.flat().length, 10, 'all ten events are in git')
})
