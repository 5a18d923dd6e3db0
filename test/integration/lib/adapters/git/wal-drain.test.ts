/**
 * The outbox drains into per-actor WAL refs that plain git can read: one ref
 * per actor, grite chunks holding exactly that actor's events, drained by
 * itself after writes and on demand; and a drain that crashed after moving
 * the ref but before recording it is adopted, not written twice.
 */
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime } from '../../../../../lib/index.ts'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from '../../../../../actors/repo-worker/store/dbs.ts'
import { openWalState, WalDrain, walRef } from '../../../../../actors/repo-worker/wal/drain.ts'
import { openGitWal } from '../../../../../lib/adapters/git/nodegit-wal.ts'
import { eventually, sandbox } from '../../../../helpers/tmp-repos.ts'
import { walEventIds } from '../../../../helpers/git-wal.ts'
import { operation } from '../../../../../lib/daemon/operations/index.ts'
import { chunkRecordBytes } from '../../../../../protocol/events/chunk.ts'
import { canonicalPreimage } from '../../../../../protocol/events/canonical.ts'

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
t.test('each agent\'s events land on its own WAL ref, readable with plain git', async (t) => {
  const box = sandbox()
  const path = box.repo('wal')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const alice = await rt.repo(path, { agent: 'alice' })
  const bob = await rt.repo(path, { agent: 'bob' })
  const a = await alice.issues.create({ title: 'from alice' })
  for (let i = 0; i < 5; i++) await bob.issues.comment(a.id, `bob ${i}`)
  await alice.issues.close(a.id)
  const flushed = await alice.wal.flush()
  t.equal(flushed.pending, 0, 'flush leaves nothing pending')
  t.equal((await alice.events.stats()).outbox, 0)

  const refs = git(path, 'for-each-ref', '--format=%(refname)', 'refs/cairn/wal/').split('\n').sort()
  t.same(refs, [walRef(alice.actor), walRef(bob.actor)].sort(), 'one ref per actor')
  const log = await alice.events.read({ fromSeq: 1, limit: 1000 })
  for (const who of [alice, bob]) {
    const mine = log.filter((e) => e.event.actor === who.actor).map((e) => e.event.eventId)
    t.same(walEventIds(path, who.actor), mine, `${who.agent}: the WAL holds exactly its events, in local order`)
  }
  const tip = git(path, 'rev-parse', walRef(bob.actor))
  const meta = JSON.parse(git(path, 'cat-file', '-p', `${tip}:meta.json`))
  t.match(meta, { schema_version: 1, actor_id: bob.actor }, 'meta.json names the actor')
  t.match(git(path, 'ls-tree', '-r', '--name-only', tip), /^events\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{64}\.bin\nmeta\.json$/, 'grite\'s tree layout')
  t.equal(git(path, 'fsck', '--no-dangling', '--connectivity-only').includes('error'), false, 'git fsck finds nothing wrong')

  await bob.issues.comment(a.id, 'later')
  await eventually(async () => (await bob.events.stats()).outbox === 0)
  t.equal(walEventIds(path, bob.actor).length, 6, 'the drain also runs by itself after a write')
  t.equal(JSON.parse(git(path, 'cat-file', '-p', `${walRef(bob.actor)}:meta.json`)).prev_wal, tip, 'prev_wal chains to the previous commit')
})

t.test('a drain round larger than one slice (it yields between slices) writes every event once, in local order', async (t) => {
  const box = sandbox()
  const path = box.repo('slices')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const alice = await rt.repo(path, { agent: 'alice' })
  const bob = await rt.repo(path, { agent: 'bob' })
  const { id } = await alice.issues.create({ title: 'busy' })
  // 701 events from two agents: rounds of up to 5,000 events, read and encoded 256 at a time.
  for (let round = 0; round < 14; round++) {
    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? alice : bob).issues.comment(id, `r${round} c${i}`)))
  }
  await eventually(async () => (await alice.events.stats()).outbox === 0, 30_000)
  const log = [...await alice.events.read({ fromSeq: 1, limit: 1000 })]
  log.push(...await alice.events.read({ fromSeq: log.length + 1, limit: 1000 }))
  t.equal(log.length, 701, 'every event is in the log')
  for (const who of [alice, bob]) {
    const mine = log.filter((e) => e.event.actor === who.actor).map((e) => e.event.eventId)
    t.same(walEventIds(path, who.actor), mine, `${who.agent}: the WAL holds exactly its events, once, in local order`)
  }
})

/** A repository whose agent wrote ten events (all drained into its WAL), the runtime stopped. */
async function tenDrainedEvents(t: Test, name: string): Promise<{ path: string; actor: string }> {
  const box = sandbox()
  const path = box.repo(name)
  t.teardown(() => box.cleanup())
  const rt = await createRuntime({ home: box.home, threads: 1 })
  const repo = await rt.repo(path, { agent: 'a' })
  const { id } = await repo.issues.create({ title: 'x' })
  for (let i = 0; i < 9; i++) await repo.issues.comment(id, `c${i}`)
  await repo.wal.flush()
  await rt.stop()
  return { path, actor: repo.actor }
}

t.test('a drain that moved the ref but crashed before recording it is adopted, not written twice', async (t) => {
  const { path, actor } = await tenDrainedEvents(t, 'adopt')
  const repo = { actor }

  // Put the store back to "ref moved, outbox and tip not recorded".
  const env = await openStore(join(path, '.git', 'cairn'), 'repo')
  const dbs = openRepoDbs(env)
  const state = openWalState(env)
  const log = [...dbs.log.getRange({})]
  await env.transaction(() => {
    for (const { key, value } of log) dbs.outbox.put(key as number, value.eventId)
    state.remove(repo.actor)
  })
  const gitWal = await openGitWal(join(path, '.git'))
  const commitsBefore = git(path, 'rev-list', '--count', walRef(repo.actor))
  const report = await new WalDrain(env, dbs, gitWal, () => Date.now()).drain()
  gitWal.close()
  t.same({ commits: report.commits, adopted: report.adopted }, { commits: 0, adopted: 10 }, 'all 10 events adopted from the ref, no new commit')
  t.equal(dbs.outbox.getCount(), 0, 'the outbox is empty')
  t.equal(git(path, 'rev-list', '--count', walRef(repo.actor)), commitsBefore)
  t.equal(state.get(repo.actor)?.tip, git(path, 'rev-parse', walRef(repo.actor)), 'the tip is recorded')
  await env.close()
})

t.test('outbox entries of both forms (plain id, as older stores hold, and id with record) drain into one chunk, in order', async (t) => {
  const { path, actor } = await tenDrainedEvents(t, 'mixed')
  const repo = { actor }

  // Start the actor's WAL over, with every event back in the outbox, every other one as a plain id.
  git(path, 'update-ref', '-d', walRef(repo.actor))
  const env = await openStore(join(path, '.git', 'cairn'), 'repo')
  const dbs = openRepoDbs(env)
  const log = [...dbs.log.getRange({})]
  await env.transaction(() => {
    for (const { key, value: e } of log) {
      const seq = key as number
      dbs.outbox.put(seq, seq % 2 === 0 ? e.eventId : [e.eventId, e.actor, e.tsUnixMs, chunkRecordBytes(e.eventId, canonicalPreimage(e))])
    }
    openWalState(env).remove(repo.actor)
  })
  const gitWal = await openGitWal(join(path, '.git'))
  const report = await new WalDrain(env, dbs, gitWal, () => Date.now()).drain()
  gitWal.close()
  t.match(report, { commits: 1, events: 10, adopted: 0 }, 'one commit of all ten')
  t.same(walEventIds(path, repo.actor), log.map(({ value }) => value.eventId), 'the chunk holds them in local order (decodeChunk checks every id)')
  t.equal(dbs.outbox.getCount(), 0)
  await env.close()
})

t.test('a git failure keeps events in the outbox, is reported, and the drain retries until it succeeds', async (t) => {
  const { renameSync, writeFileSync, rmSync } = await import('node:fs')
  const box = sandbox()
  const path = box.repo('broken')
  const { ManualClock } = await import('../../../../../lib/testing/index.ts')
  const clock = new ManualClock(Date.now())
  const rt = await createRuntime({ home: box.home, threads: 1, clock, watchdog: false })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(path, { agent: 'a' })
  // git cannot store objects while .git/objects is a plain file.
  const objects = join(path, '.git', 'objects')
  renameSync(objects, `${objects}.away`)
  writeFileSync(objects, 'not a directory')
  const { id } = await repo.issues.create({ title: 'acknowledged while git is broken' })
  const err = await repo.wal.flush().catch((e) => e)
  t.ok(err instanceof Error, 'flush reports the git failure')
  await eventually(async () => (await repo.events.stats()).wal?.lastError != null)
  const stats = await repo.events.stats()
  t.equal(stats.outbox, 1, 'the event stays in the outbox')
  t.ok(stats.wal!.retryAt! > clock.now(), 'a retry is scheduled on the runtime clock')
  t.equal((await repo.issues.show(id)).title, 'acknowledged while git is broken', 'the store keeps serving')
  const doctor = async () => ((await operation('repo.doctor')!.run({ repo: async () => repo } as never, {})) as { checks: { name: string; ok: boolean; detail: string }[] }).checks
  t.match((await doctor()).find((c) => c.name === 'wal-drain'), { ok: false, detail: /^last WAL error: / }, 'doctor reports the failing drain')

  rmSync(objects)
  renameSync(`${objects}.away`, objects)
  await clock.advance(60_000)
  // The drained outbox is visible to reads as soon as LMDB commits, a moment before the
  // drain's own continuation clears the error: wait for both.
  await eventually(async () => {
    const s = await repo.events.stats()
    return s.outbox === 0 && s.wal?.lastError === null
  })
  const after = await repo.events.stats()
  t.same({ outbox: after.outbox, lastError: after.wal?.lastError, retryAt: after.wal?.retryAt }, { outbox: 0, lastError: null, retryAt: null }, 'the retry drained it and cleared the error')
  t.same(walEventIds(path, repo.actor), [(await repo.issues.history(id))[0]!.event.eventId])
  t.match((await doctor()).find((c) => c.name === 'wal-drain'), { ok: true, detail: 'every event is in the git WAL' }, 'and a working one as healthy')
})
