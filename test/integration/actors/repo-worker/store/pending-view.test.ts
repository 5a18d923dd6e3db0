/**
 * The event store's view of adopted-but-uncommitted writes (store/event-store.ts):
 * every read of the writer sees them before they reach LMDB, a batch that
 * is never adopted leaves no trace, and once the writes commit and the
 * block settles, the disk alone gives the same answers.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from '../../../../../actors/repo-worker/store/dbs.ts'
import { EventStore } from '../../../../../actors/repo-worker/store/event-store.ts'
import { writeAll, type RecordedWrite } from '../../../../../actors/repo-worker/store/batch.ts'
import { applyIngest } from '../../../../../actors/repo-worker/commands/ingest.ts'
import { readProjection } from '../../../../../actors/repo-worker/store/projections.ts'
import { ACTOR_1, created, ev, ISSUE_A } from '../../../../unit/actors/repo-worker/projection/fixtures/events.ts'

/** A new repository store in a temporary directory, removed after the test. */
async function scratchStore(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pending-'))
  const env = await openStore(dir, 'repo')
  t.teardown(async () => { await env.close(); rmSync(dir, { recursive: true, force: true }) })
  const dbs = openRepoDbs(env)
  return { env, dbs, store: new EventStore(dbs) }
}

const comment = (ts: number, body: string) => ev(ISSUE_A, ts, ACTOR_1, { type: 'CommentAdded', body })

t.test('in-flight writes are seen by the writer, not by the disk, until they commit', async (t) => {
  const { env, dbs, store } = await scratchStore(t)
  const writes: RecordedWrite[] = []

  const make = created(ISSUE_A, 100, 'pending issue')
  const late = comment(200, 'second')
  const b1 = store.batch()
  b1.ingest(make, true)
  b1.ingest(late, true)
  store.adopt(b1, 1)
  writes.push(...b1.writes)

  const onDisk = new EventStore(dbs)
  t.equal(store.lastSeq, 2, 'the writer counts the in-flight events')
  t.equal(onDisk.lastSeq, 0, 'the disk has none of them')
  t.equal(store.issue(ISSUE_A)?.comments.length, 1, 'the writer sees the in-flight issue')
  t.equal(onDisk.issue(ISSUE_A), undefined, 'the disk does not')
  t.equal(store.knownSeq(late), 2, 'in-flight events are known (dedup sees them)')
  t.equal(store.resolve(ISSUE_A.slice(0, 6)), ISSUE_A, 'a prefix resolves to an issue created in flight')
  t.strictSame(store.history(ISSUE_A).map((l) => l.seq), [1, 2], 'history includes in-flight events')
  t.equal(store.all().get(ISSUE_A)?.title, 'pending issue', 'the full view includes in-flight issues')
  t.ok(store.inFlight, 'the store knows it has writes in flight')

  // An earlier-dated comment arrives: the fold must re-project from a history that is not on disk yet.
  const early = comment(150, 'first')
  const b2 = store.batch()
  b2.ingest(early, false)
  t.equal(b2.reprojected, 1, 'the out-of-order event re-projects the issue')
  t.strictSame(b2.issue(ISSUE_A)?.comments.map((c) => c.body), ['first', 'second'], 'from the in-flight history, in projection order')
  store.adopt(b2, 2)
  writes.push(...b2.writes)

  const dropped = store.batch()
  const never = comment(300, 'never adopted')
  dropped.ingest(never, true)
  dropped.ingest(comment(301, 'nor this'), true)
  t.strictSame(dropped.issue(ISSUE_A)?.comments.map((c) => c.body), ['first', 'second', 'never adopted', 'nor this'], 'the batch sees its own comments')
  dropped.discard()
  t.equal(store.lastSeq, 3, 'a discarded batch moves nothing')
  t.strictSame(store.issue(ISSUE_A)?.comments.map((c) => c.body), ['first', 'second'], 'and changes no projection, though its steps appended to the lists they share')
  t.equal(store.knownSeq(never), undefined, 'an event of a dropped batch stays unknown')

  await env.transaction(() => writeAll(writes))
  store.settle(2)
  t.notOk(store.inFlight, 'settled: nothing is in flight')
  const fresh = new EventStore(dbs)
  t.equal(fresh.lastSeq, 3, 'the disk now holds the three adopted events')
  t.strictSame(readProjection(dbs, ISSUE_A), store.issue(ISSUE_A), 'the stored projection equals the writer\'s')
  t.strictSame(fresh.history(ISSUE_A), store.history(ISSUE_A), 'and so does the history')
  t.strictSame([fresh.knownSeq(make), fresh.knownSeq(late), fresh.knownSeq(early), fresh.knownSeq(never)], [1, 2, 3, undefined],
    'the per-issue index alone answers which events are known')
  const again = fresh.batch()
  t.strictSame(again.ingest(late, false), { seq: 2, duplicate: true }, 'a stored event ingested again is a duplicate')
  t.equal(dbs.outbox.getCount(), 2, 'only the locally authored events entered the outbox')
})

t.test('settling an older block keeps a newer block\'s writes in view', async (t) => {
  const { env, dbs, store } = await scratchStore(t)
  const b1 = store.batch()
  b1.ingest(created(ISSUE_A, 100), true)
  store.adopt(b1, 1)
  const b2 = store.batch()
  const c = comment(200, 'newer')
  b2.ingest(c, true)
  store.adopt(b2, 2)
  await env.transaction(() => writeAll(b1.writes))
  store.settle(1)
  t.ok(store.inFlight, 'block 2 is still in flight')
  t.equal(store.issue(ISSUE_A)?.comments.length, 1, 'the issue is seen with block 2\'s comment')
  t.equal(store.knownSeq(c), 2, 'block 2\'s event is still known')
  t.equal(readProjection(dbs, ISSUE_A)?.comments.length, 0, 'while the disk has only block 1')
})

t.test('an ingest that fails half-way is discarded whole: the next comment lands where it belongs', async (t) => {
  const { env, dbs, store } = await scratchStore(t)
  const b1 = store.batch()
  b1.ingest(created(ISSUE_A, 100), true)
  b1.ingest(comment(200, 'kept'), true)
  store.adopt(b1, 1)
  await env.transaction(() => writeAll(b1.writes))
  store.settle(1)

  const failing = store.batch()
  const bad = { ...comment(400, 'bad clock'), tsUnixMs: -1 }
  t.throws(() => applyIngest({ type: 'ingest', opId: null, events: [comment(300, 'lost'), bad], bank: null }, failing),
    { code: 'INVALID_ARGUMENT' }, 'the second event is refused after the first was folded in')
  failing.discard()
  t.strictSame(store.issue(ISSUE_A)?.comments.map((c) => c.body), ['kept'], 'the first event\'s comment is gone again')

  const b2 = store.batch()
  b2.ingest(comment(500, 'next'), true)
  store.adopt(b2, 2)
  await env.transaction(() => writeAll(b2.writes))
  store.settle(2)
  t.strictSame(readProjection(dbs, ISSUE_A)?.comments.map((c) => c.body), ['kept', 'next'], 'on disk, the next comment follows the kept one')
  t.strictSame(readProjection(dbs, ISSUE_A), store.issue(ISSUE_A), 'and the writer agrees with the disk')
})
