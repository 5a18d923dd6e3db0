/**
 * Two runtimes (two homes, so two RepoWorkers) writing one repository's
 * store. Each worker runs commands against its in-memory view and commits
 * them as fenced blocks (store/fence.ts). When the other runtime has
 * written since, the stale worker's block must not apply: before the fence
 * it took the same seq as the other's event and overwrote it (a comment
 * vanished from the log and the index pointed twice at one seq).
 *
 * Here: the stale write is refused with UNAVAILABLE (reason store-changed),
 * the worker restarts from disk, a retry lands after the other's event, and
 * the log, index and projections hold every acknowledged event exactly once.
 */
import t from 'tap'
import { createRuntime, type Repo } from '../../../lib/index.ts'
import { CairnError } from '../../../protocol/errors.ts'
import { openStore } from '../../../lib/store/open-store.ts'
import { openRepoDbs, lastKey, type IssueEventKey } from '../../../actors/repo-worker/store/dbs.ts'
import { staleReason } from '../../../actors/repo-worker/store/rebuild.ts'
import { sandbox } from '../../helpers/tmp-repos.ts'
import { join } from 'node:path'

const RETRY_LIMIT = 100
const RETRY_PAUSE_MS = 50

/** Retries while the worker restarts; returns the result and the errors seen. */
async function untilAccepted<T>(write: () => Promise<T>): Promise<{ value: T; errors: string[] }> {
  const errors: string[] = []
  for (let i = 0; i < RETRY_LIMIT; i++) {
    try {
      return { value: await write(), errors }
    } catch (err) {
      if (!(err instanceof CairnError) || err.code !== 'UNAVAILABLE') throw err
      errors.push(String(err.details?.reason ?? err.code))
      await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS))
    }
  }
  throw new Error(`still refused after ${RETRY_LIMIT} tries`)
}

t.test('a stale writer is refused, restarts from disk and lands after the other writer', async (t) => {
  const box = sandbox()
  const path = box.repo('shared')
  const rtA = await createRuntime({ home: join(box.dir, 'home-a'), threads: 1 })
  const rtB = await createRuntime({ home: join(box.dir, 'home-b'), threads: 1 })
  t.teardown(async () => { await rtA.stop(); await rtB.stop(); box.cleanup() })
  const A: Repo = await rtA.repo(path, { agent: 'alice' })
  const issue = await A.issues.create({ title: 'shared' })
  const B: Repo = await rtB.repo(path, { agent: 'bob' })
  const fromB = await B.issues.comment(issue.id, 'from B')
  t.equal(fromB.seq, 2, "B's worker started after A's create: its comment is seq 2")

  let stale: unknown
  try {
    await A.issues.comment(issue.id, 'from A (stale view)')
  } catch (err) {
    stale = err
  }
  t.match(stale, { code: 'UNAVAILABLE', details: { reason: 'store-changed' } }, "A's view is behind the disk: its block is refused")

  const retried = await untilAccepted(() => A.issues.comment(issue.id, 'from A'))
  t.equal(retried.value.seq, 3, "after the restart A's comment comes after B's")

  // B is now the stale one: its next write is refused the same way, then lands.
  const fromB2 = await untilAccepted(() => B.issues.comment(issue.id, 'from B again'))
  t.equal(fromB2.value.seq, 4, "B's next comment lands after A's")
  t.ok(fromB2.errors.includes('store-changed'), "B's stale block was refused first")

  const shown = await A.issues.show(issue.id)
  t.strictSame(shown.comments.map((c) => c.body), ['from B', 'from A', 'from B again'], 'every acknowledged comment, once, in order')
  t.strictSame((await B.issues.show(issue.id)).comments.map((c) => c.body), ['from B', 'from A', 'from B again'], 'both runtimes agree')

  await rtA.stop()
  await rtB.stop()
  const env = await openStore(join(path, '.git', 'cairn'), 'repo')
  try {
    const dbs = openRepoDbs(env)
    t.equal(lastKey(dbs.log), 4, 'the log holds seqs 1..4')
    const indexed = [...dbs.byIssue.getRange({})].map(({ key, value }) => ({ id: (key as IssueEventKey)[3], seq: value }))
    t.strictSame(indexed.map((e) => e.seq).sort(), [1, 2, 3, 4], 'the index points at each seq exactly once')
    t.ok(indexed.every((e) => dbs.log.get(e.seq)?.eventId === e.id), 'index and log agree on every event')
    t.equal(staleReason(dbs), null, 'the projection checkpoint matches the log: no rebuild needed')
  } finally {
    await env.close()
  }
})
