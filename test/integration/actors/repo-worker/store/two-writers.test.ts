/**
 * Two runtimes (two homes, so two RepoWorkers) writing one repository's
 * store. Each worker runs commands against its in-memory view and commits
 * them as fenced blocks (lib/kernel/store/write-chain.ts). When the other runtime has
 * written since, the stale worker's block must not apply: before the fence
 * it took the same seq as the other's event and overwrote it (a comment
 * vanished from the log and the index pointed twice at one seq).
 *
 * Here: the stale block is refused, the worker re-reads the disk and runs
 * the refused commands again (blocks.ts), so the caller just gets its
 * answer, later; no actor restarts (before, each refusal restarted the
 * actor, and two runtimes writing at once spent the restart intensity).
 * The log, index and projections hold every acknowledged event once.
 */
import t from 'tap'
import { createRuntime, type Repo, type Runtime } from '../../../../../lib/index.ts'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs, lastKey, seqOf, type IssueEventKey } from '../../../../../actors/repo-worker/store/dbs.ts'
import { staleReason } from '../../../../../actors/repo-worker/store/rebuild.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { join } from 'node:path'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

/** One repository and two runtimes with their own homes, stopped and removed after the test. */
async function twoRuntimes(t: Test, name: string): Promise<{ path: string; rtA: Runtime; rtB: Runtime }> {
  const box = sandbox()
  const path = box.repo(name)
  const rtA = await createRuntime({ home: join(box.dir, 'home-a'), threads: 1 })
  const rtB = await createRuntime({ home: join(box.dir, 'home-b'), threads: 1 })
  t.teardown(async () => { await rtA.stop(); await rtB.stop(); box.cleanup() })
  return { path, rtA, rtB }
}

async function restarts(rt: Runtime): Promise<number> {
  const status = await rt.status()
  return status.actors.filter((a) => a.kind === 'repo-worker').reduce((n, a) => n + a.restarts, 0)
}

/** Log, index and checkpoint of the store at `path`, after both runtimes stopped. */
async function checkStore(t: Test, path: string, events: number): Promise<void> {
  const env = await openStore(join(path, '.git', 'cairn'), 'repo')
  try {
    const dbs = openRepoDbs(env)
    t.equal(lastKey(dbs.log), events, `the log holds seqs 1..${events}`)
    const indexed = [...dbs.byIssue.getRange({})].map(({ key, value }) => ({ id: (key as IssueEventKey)[3], seq: seqOf(value) }))
    t.strictSame(indexed.map((e) => e.seq).sort((a, b) => a - b), Array.from({ length: events }, (_, i) => i + 1), 'the index points at each seq exactly once')
    t.ok(indexed.every((e) => dbs.log.get(e.seq)?.eventId === e.id), 'index and log agree on every event')
    t.equal(staleReason(dbs), null, 'the projection checkpoint matches the log: no rebuild needed')
  } finally {
    await env.close()
  }
}

t.test('a stale writer runs its command again on what the disk holds and lands after the other writer', async (t) => {
  const { path, rtA, rtB } = await twoRuntimes(t, 'shared')
  const A: Repo = await rtA.repo(path, { agent: 'alice' })
  const issue = await A.issues.create({ title: 'shared' })
  const B: Repo = await rtB.repo(path, { agent: 'bob' })
  const fromB = await B.issues.comment(issue.id, 'from B')
  t.equal(fromB.seq, 2, "B's worker started after A's create: its comment is seq 2")

  const fromA = await A.issues.comment(issue.id, 'from A (stale view)')
  t.equal(fromA.seq, 3, "A's view was behind the disk: its command ran again and came after B's")
  const fromB2 = await B.issues.comment(issue.id, 'from B again')
  t.equal(fromB2.seq, 4, "B, stale in turn, lands after A's")
  t.strictSame([await restarts(rtA), await restarts(rtB)], [0, 0], 'no actor restarted')

  const bodies = ['from B', 'from A (stale view)', 'from B again']
  t.strictSame((await A.issues.show(issue.id)).comments.map((c) => c.body), bodies, 'every acknowledged comment, once, in order')
  t.strictSame((await B.issues.show(issue.id)).comments.map((c) => c.body), bodies, 'both runtimes agree')
  t.equal((await A.events.stats()).events, 4, "A's worker counts the disk's events, B's included")

  await rtA.stop()
  await rtB.stop()
  await checkStore(t, path, 4)
})

t.test('two runtimes writing at once: every comment acknowledged once, no restarts', async (t) => {
  const PER_WRITER = 30
  const { path, rtA, rtB } = await twoRuntimes(t, 'contended')
  const A: Repo = await rtA.repo(path, { agent: 'alice' })
  const B: Repo = await rtB.repo(path, { agent: 'bob' })
  const issue = await A.issues.create({ title: 'contended' })
  // Each writer awaits every call, so the two interleave commit by commit.
  const loop = async (repo: Repo, name: string): Promise<number[]> => {
    const seqs: number[] = []
    for (let i = 0; i < PER_WRITER; i++) seqs.push((await repo.issues.comment(issue.id, `${name}${i}`)).seq)
    return seqs
  }
  const [seqsA, seqsB] = await Promise.all([loop(A, 'a'), loop(B, 'b')])
  t.equal(new Set([...seqsA, ...seqsB]).size, 2 * PER_WRITER, 'no two acknowledged comments share a seq')
  t.strictSame([await restarts(rtA), await restarts(rtB)], [0, 0], 'no actor restarted')
  const bodies = (await B.issues.show(issue.id)).comments.map((c) => c.body)
  t.equal(bodies.length, 2 * PER_WRITER, 'the issue holds every comment')
  t.strictSame(bodies.filter((b) => b.startsWith('a')), Array.from({ length: PER_WRITER }, (_, i) => `a${i}`), "A's comments once each, in A's order")
  t.strictSame(bodies.filter((b) => b.startsWith('b')), Array.from({ length: PER_WRITER }, (_, i) => `b${i}`), "B's comments once each, in B's order")
  await rtA.stop()
  await rtB.stop()
  await checkStore(t, path, 1 + 2 * PER_WRITER)
})
